"""``/accounts/export.csv``: the accounts page as CSV, for admins, never a token."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from inbox.accounts.rules import assess
from inbox.accounts.overview import accounts_overview
from inbox.exports.accounts import ACCOUNT_HEADER
from inbox.exports.cells import text_cell
from inbox.models import AccountIncident, EmailAccount
from tests.exports.fixtures import read_csv, response_bytes
from tests.factories import make_account, make_business, make_message

URL = "/accounts/export.csv"


def healthy(pk: int, **fields) -> EmailAccount:
    """A healthy account of location 1 named by its id, IMAP on port 993 with SSL."""
    now = timezone.now()
    defaults = dict(
        display_name=f"Box {pk}", email_address=f"box{pk}@example.com", business_id=1, active=True,
        incoming_server="imap.example.com", incoming_server_port=993, incoming_server_ssl=True,
        incoming_server_type=1, outgoing_server_port=465, error_count=0,
        created_on=now - dt.timedelta(days=300), updated_on=now - dt.timedelta(days=1),
    )  # fmt: skip
    return make_account(now=now, pk=pk, **{**defaults, **fields})


@pytest.fixture
def accounts():
    make_business(1, "Canal Works")
    now = timezone.now()
    made = [
        healthy(1),
        healthy(2, error_count=40, display_name="=cmd|' /C calc'!A0"),
        healthy(3, active=False),
        healthy(4, incoming_server_ssl=False, last_check_time=now - dt.timedelta(hours=1)),
        healthy(5, incoming_server="", has_google_token=True, has_office365_token=True),
        healthy(6, deleted_at=now),  # removed from Nexudus: not a live account
    ]
    AccountIncident.objects.create(account_id=2, opened_at=now - dt.timedelta(hours=3), reasons=["errors"])
    make_message(pk=100, email_account_id=1, incoming=True, created_on=now - dt.timedelta(days=2), subject="+ hello")
    make_message(pk=101, email_account_id=1, incoming=False, created_on=now - dt.timedelta(days=10))
    return made


@pytest.mark.django_db
class TestPermissions:
    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_staff_are_refused(self, staff_client):
        assert staff_client.get(URL).status_code == 403

    def test_admins_by_group_may(self, staff_client, staff_user, settings):
        staff_user.groups.add(Group.objects.create(name=settings.HELPDESK_ADMIN_GROUP))
        assert staff_client.get(URL).status_code == 200

    def test_superusers_may_and_the_file_is_named(self, admin_client_):
        response = admin_client_.get(URL)
        assert response.status_code == 200
        today = dt.datetime.now(dt.UTC).date().isoformat()
        assert response["Content-Disposition"] == f'attachment; filename="accounts-health-{today}.csv"'
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert read_csv(response_bytes(response)) == [list(ACCOUNT_HEADER)]


@pytest.mark.django_db
class TestContent:
    def test_every_live_account_in_the_page_order_with_its_health(self, admin_client_, accounts):
        rows = read_csv(response_bytes(admin_client_.get(URL)))
        assert rows[0] == list(ACCOUNT_HEADER)
        body = [dict(zip(rows[0], r)) for r in rows[1:]]
        page = [r.account.pk for g in accounts_overview(now=timezone.now()).groups for r in g.rows]
        assert [int(r["Id"]) for r in body] == page
        assert sorted(page) == [1, 2, 3, 4, 5]
        now = timezone.now()
        for row in body:
            account = EmailAccount.objects.get(pk=row["Id"])
            health = assess(account, now=now)
            assert row["Status"] == health.status.value
            assert row["Reasons"] == text_cell("; ".join(r.text for r in health.reasons))
        by_id = {int(r["Id"]): r for r in body}
        assert by_id[1]["Status"] == "healthy" and by_id[1]["Reasons"] == ""
        assert by_id[2]["Status"] == "failing" and "40 errors" in by_id[2]["Reasons"]
        assert by_id[3]["Status"] == "inactive" and by_id[3]["Active"] == "no"
        assert by_id[4]["Status"] == "warning" and "SSL is off" in by_id[4]["Reasons"]
        assert "; " in by_id[4]["Reasons"]  # two reasons, joined
        assert by_id[5]["Connections"] == "Google connected; Office 365 connected"

    def test_page_fields(self, admin_client_, accounts):
        rows = read_csv(response_bytes(admin_client_.get(URL)))
        one = next(dict(zip(rows[0], r)) for r in rows[1:] if r[0] == "1")
        assert one["Account"] == "Box 1" and one["EmailAddress"] == "box1@example.com"
        assert one["Location"] == "Canal Works"
        assert one["IncomingServer"] == "imap.example.com" and one["IncomingServerPort"] == "993"
        assert one["IncomingServerSSL"] == "yes" and one["ErrorCount"] == "0"
        assert one["Received7Days"] == "1" and one["Sent7Days"] == "0" and one["Sent30Days"] == "1"
        assert one["LastReceivedMessageId"] == "100" and one["LastReceivedSubject"] == "'+ hello"
        assert dt.datetime.fromisoformat(one["LastCheckTime"]).utcoffset() is not None
        two = next(dict(zip(rows[0], r)) for r in rows[1:] if r[0] == "2")
        assert two["Account"] == "'=cmd|' /C calc'!A0"
        assert two["FailingSince"] != ""

    def test_no_token_column_and_no_secret(self, admin_client_, accounts):
        data = response_bytes(admin_client_.get(URL))
        header = read_csv(data)[0]
        assert not any("token" in h.lower() or "password" in h.lower() for h in header)
        assert not any("token" in f.name for f in EmailAccount._meta.get_fields() if not f.name.startswith("has_"))


@pytest.mark.django_db
def test_the_export_is_the_view_on_screen_needing_attention_and_removed(admin_client_, accounts):
    """The page's "Needing attention" and "Show removed" views export what they list, and the
    page's Export CSV link carries its view."""
    for query in ("", "attention=1", "removed=1", "attention=1&removed=1"):
        params = dict(pair.split("=") for pair in query.split("&")) if query else {}
        overview = accounts_overview(now=timezone.now(), attention_only="attention" in params, show_removed="removed" in params)
        on_screen = [row.account.pk for group in overview.groups for row in group.rows]
        rows = read_csv(response_bytes(admin_client_.get(f"{URL}?{query}")))
        assert [int(r[0]) for r in rows[1:]] == on_screen, query
        page = admin_client_.get(f"/accounts/?{query}").content.decode()
        assert f'href="{URL}{"?" + query.replace("&", "&amp;") if query else ""}">Export CSV' in page
    attention = [int(r[0]) for r in read_csv(response_bytes(admin_client_.get(f"{URL}?attention=1")))[1:]]
    everyone = [int(r[0]) for r in read_csv(response_bytes(admin_client_.get(URL)))[1:]]
    assert 1 in everyone and 1 not in attention and 2 in attention  # the healthy one left out
    assert 6 not in everyone and 6 in [int(r[0]) for r in read_csv(response_bytes(admin_client_.get(f"{URL}?removed=1")))[1:]]
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert admin_client_.get(f"{URL}?attention=1")["Content-Disposition"] == f'attachment; filename="accounts-health-attention-{today}.csv"'


@pytest.mark.django_db
def test_a_switch_it_cannot_read_is_a_400_not_read_as_on(admin_client_, accounts):
    response = admin_client_.get(f"{URL}?attention=banana")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "  attention=banana: “Needing attention” takes 1 (on) or 0 (off)." in response.content.decode()
    assert "Content-Disposition" not in response
    page = admin_client_.get(f"{URL}?attention=banana&removed=1", HTTP_ACCEPT="text/html,*/*;q=0.8")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "<h1>No export was made</h1>" in html
    assert '<a class="button" href="/accounts/?attention=banana&amp;removed=1">Back to this view</a>' in html
