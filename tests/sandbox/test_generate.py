"""The generated sandbox data covers what the demo and the other tests rely on."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from sandbox import services
from sandbox.fake.accounts import ACCOUNT_PROFILES, HOSTILE_ACCOUNT_NAME, SECRET_MARKER
from sandbox.fake.hostile import HOSTILE_BODIES, HOSTILE_SUBJECT_PREFIX, TRICKY_SUBJECTS
from sandbox.fake.ids import FIRST_COWORKER_ID
from sandbox.models import Business, Coworker, CoworkerMessage, EmailAccount
from tests.sandbox.fixtures import NOW

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


def accounts_by_profile() -> dict[str, list[EmailAccount]]:
    out: dict[str, list[EmailAccount]] = {}
    for account in EmailAccount.objects.all():
        out.setdefault(account.profile, []).append(account)
    return out


class TestAccounts:
    def test_every_health_state_is_present(self, sandbox_data):
        profiles = accounts_by_profile()
        assert set(ACCOUNT_PROFILES) <= set(profiles)
        healthy = profiles["healthy"][0]
        assert healthy.active and healthy.error_count == 0 and healthy.incoming_server_ssl
        assert NOW - healthy.last_check_time < timedelta(minutes=15)
        assert profiles["failing"][0].error_count >= 10
        assert profiles["warning"][0].error_count in (1, 2)
        assert profiles["inactive"][0].active is False
        assert NOW - profiles["stale"][0].last_check_time > timedelta(days=2)
        assert profiles["never_checked"][0].last_check_time is None
        assert profiles["ssl_off"][0].incoming_server_ssl is False and profiles["ssl_off"][0].outgoing_server_ssl is False
        assert profiles["ssl_off_outgoing"][0].outgoing_server_ssl is False
        assert not profiles["no_incoming_server"][0].incoming_server
        assert profiles["port_zero"][0].incoming_server_port == 0
        assert profiles["unknown_server_type"][0].incoming_server_type == 7
        assert SECRET_MARKER in profiles["google"][0].google_access_token
        assert SECRET_MARKER in profiles["office365"][0].office365_access_token

    def test_accounts_spread_over_three_or_more_named_locations(self, sandbox_data):
        assert Business.objects.count() >= 3 and not Business.objects.filter(name=None).exists()
        assert EmailAccount.objects.values("business_id").distinct().count() >= 3
        assert set(EmailAccount.objects.values_list("business_id", flat=True)) <= set(Business.objects.values_list("id", flat=True))

    def test_one_account_name_is_markup(self, sandbox_data):
        hostile = EmailAccount.objects.get(display_name=HOSTILE_ACCOUNT_NAME)
        assert hostile.profile == "healthy" and "onerror=" in hostile.display_name
        assert CoworkerMessage.objects.filter(email_account_display_name=HOSTILE_ACCOUNT_NAME).exists()

    def test_only_some_accounts_carry_tokens(self, sandbox_data):
        assert EmailAccount.objects.filter(google_access_token=None, office365_access_token=None).count() >= 10


class TestCustomers:
    def test_non_latin_names_companies_and_nulls(self):
        services.seed(accounts=16, customers=300, messages=0, seed=1, now=NOW)
        names = [n for n in Coworker.objects.values_list("full_name", flat=True) if n]
        for script, pattern in {
            "Chinese": r"[\u4e00-\u9fff]",
            "Arabic": r"[\u0600-\u06ff]",
            "Greek": r"[\u0370-\u03ff]",
            "Cyrillic": r"[\u0400-\u04ff]",
            "accents": r"[éèëöüçñåøłàáó]",
        }.items():
            assert any(re.search(pattern, n) for n in names), script
        assert Coworker.objects.exclude(company_name=None).exists()
        assert Coworker.objects.filter(company_name=None).exists()
        assert Coworker.objects.filter(billing_name=None).exists()
        assert Coworker.objects.count() == 300


class TestMessages:
    def test_counts_and_directions(self, sandbox_data):
        total = CoworkerMessage.objects.count()
        assert total == 400
        incoming = CoworkerMessage.objects.filter(incoming=True).count()
        assert 0.3 < incoming / total < 0.8

    def test_about_fifteen_percent_unread_mostly_incoming(self):
        services.seed(messages=5000, now=NOW)
        unread = CoworkerMessage.objects.filter(is_new_message=True)
        share = unread.count() / 5000
        assert 0.08 < share < 0.25, share
        assert unread.filter(incoming=True).count() > 0.8 * unread.count()

    def test_spread_over_months_with_ids_growing_with_time(self, sandbox_data):
        dates = list(CoworkerMessage.objects.order_by("id").values_list("created_on", flat=True))
        assert dates == sorted(dates)
        assert dates[-1] <= NOW and dates[-1] - dates[0] > timedelta(days=120)
        updated = CoworkerMessage.objects.values_list("created_on", "updated_on")
        assert all(c <= u <= NOW for c, u in updated)

    def test_default_location_settings_messages(self, sandbox_data):
        without_account = CoworkerMessage.objects.filter(email_account_id=None)
        assert without_account.exists()
        assert not without_account.exclude(email_account_display_name=None).exists()

    def test_threads_per_customer(self, sandbox_data):
        """A reply "Re: X" follows an earlier message "X" of the same customer, in the other direction."""
        threads = 0
        for reply in CoworkerMessage.objects.filter(subject__startswith="Re: ", message_id=None):
            earlier = CoworkerMessage.objects.filter(
                coworker_id=reply.coworker_id, subject=reply.subject.removeprefix("Re: "), id__lt=reply.id
            )
            threads += earlier.exists()
        assert threads >= 20
        per_customer = CoworkerMessage.objects.filter(coworker_id=FIRST_COWORKER_ID)
        assert per_customer.filter(incoming=True).exists() and per_customer.filter(incoming=False).exists()

    def test_hostile_bodies_each_present_and_findable(self, sandbox_data):
        hostile = CoworkerMessage.objects.filter(subject__startswith=HOSTILE_SUBJECT_PREFIX)
        assert set(HOSTILE_BODIES) <= set(hostile.values_list("body", flat=True))
        assert not hostile.filter(incoming=False).exists()
        for marker in ("<script>", "onerror=", "javascript:", "<svg onload", "<iframe", "<style>", "<form"):
            assert any(marker in body for body in HOSTILE_BODIES), marker

    def test_tricky_subjects_each_present(self, sandbox_data):
        subjects = set(CoworkerMessage.objects.values_list("subject", flat=True))
        assert set(TRICKY_SUBJECTS) <= subjects
        for first in "=+-@":
            assert any(s and s.startswith(first) for s in subjects), first
        assert any(s and "\n" in s for s in subjects) and any(s and "," in s and '"' in s for s in subjects)

    def test_rich_bodies(self):
        services.seed(messages=3000, now=NOW)
        bodies = [b for b in CoworkerMessage.objects.values_list("body", flat=True) if b]
        assert any("<blockquote" in b for b in bodies)
        assert any('class="signature"' in b for b in bodies)
        assert any('<img src="https://' in b for b in bodies)
        assert any("<a href=\"https://" in b for b in bodies)
        assert any("<" not in b for b in bodies)  # plain text
        assert any(re.search(r"[\U0001F300-\U0001FAFF]", b) for b in bodies)  # emoji
        assert any(re.search(r"[\u4e00-\u9fff\u0600-\u06ff\u0400-\u04ff]", b) for b in bodies)
        assert CoworkerMessage.objects.filter(body=None).exists()
        assert CoworkerMessage.objects.filter(subject=None).exists()
        assert CoworkerMessage.objects.filter(coworker_company_name=None).exists()
        assert CoworkerMessage.objects.exclude(message_id=None).exists()
        assert CoworkerMessage.objects.exclude(reminder_unique_id=None).exists()

    def test_deterministic_for_a_seed(self):
        services.seed(messages=300, seed=5, now=NOW)
        first = list(CoworkerMessage.objects.order_by("id").values_list("id", "subject", "body", "unique_id", "created_on"))
        services.seed(messages=300, seed=5, now=NOW)
        second = list(CoworkerMessage.objects.order_by("id").values_list("id", "subject", "body", "unique_id", "created_on"))
        assert first == second
        services.seed(messages=300, seed=6, now=NOW)
        third = list(CoworkerMessage.objects.order_by("id").values_list("id", "subject", "body", "unique_id", "created_on"))
        assert third != first

    def test_small_seeds_still_work(self):
        summary = services.seed(accounts=3, customers=2, messages=5, now=NOW)
        assert (summary.accounts, summary.customers, summary.messages) == (3, 2, 5)
        assert services.seed(accounts=0, customers=0, messages=0).messages == 0
