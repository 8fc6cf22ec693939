"""The health rules of a mail account (inbox/accounts/rules.py): each rule, each boundary, nulls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from inbox.accounts.rules import Health, Severity, Status, Thresholds, ago, assess, exact
from inbox.models import EmailAccount
from inbox.nexudus.records import EmailAccountRecord

NOW = datetime(2025, 5, 14, 12, 0, tzinfo=UTC)
T = Thresholds(
    error_failing=5,
    stale_warning=timedelta(minutes=30),
    stale_failing=timedelta(minutes=120),
    silent=timedelta(days=7),
)

GOOD = dict(
    active=True,
    incoming_server="imap.example.com",
    incoming_server_type=1,
    incoming_server_port=993,
    incoming_server_ssl=True,
    outgoing_server="smtp.example.com",
    outgoing_server_port=587,
    outgoing_server_ssl=True,
    last_check_time=NOW - timedelta(minutes=5),
    error_count=0,
    created_on=NOW - timedelta(days=100),
)


def account(**changes):
    return SimpleNamespace(**{**GOOD, **changes})


@dataclass
class Stats:
    last_received_at: datetime | None
    received_before_silence: int | None = None


def check(acc, stats=None) -> Health:
    return assess(acc, now=NOW, stats=stats, thresholds=T)


def codes(health: Health) -> set[str]:
    return {r.code for r in health.reasons}


def test_a_well_configured_recently_checked_account_is_healthy():
    health = check(account())
    assert health.status == Status.HEALTHY
    assert health.reasons == []
    assert not health.needs_attention


def test_inactive_account_is_inactive_whatever_its_errors():
    health = check(account(active=False, error_count=50, last_check_time=None))
    assert health.status == Status.INACTIVE
    assert codes(health) == {"inactive"}
    assert not health.needs_attention


def test_inactive_account_still_lists_its_configuration_problems_as_information():
    health = check(account(active=False, incoming_server=None, incoming_server_ssl=False))
    assert health.status == Status.INACTIVE
    assert codes(health) == {"inactive", "no_incoming_server", "insecure_incoming"}
    assert all(r.severity == Severity.INFO for r in health.reasons)


class TestErrors:
    def test_one_error_is_a_warning_in_words(self):
        health = check(account(error_count=1))
        assert health.status == Status.WARNING
        assert [r.text for r in health.reasons] == ["1 error since the last successful check"]

    def test_exactly_at_the_threshold_is_still_a_warning(self):
        health = check(account(error_count=5))
        assert health.status == Status.WARNING
        assert health.reasons[0].text == "5 errors since the last successful check"

    def test_just_over_the_threshold_is_failing(self):
        health = check(account(error_count=6))
        assert health.status == Status.FAILING
        assert health.reasons[0].text == "6 errors since the last successful check (more than 5)"

    def test_twelve_errors_read_as_the_issue_says(self):
        assert check(account(error_count=12)).reasons[0].text.startswith("12 errors since the last successful check")

    def test_errors_of_an_account_never_checked_are_not_since_a_successful_check(self):
        health = check(account(error_count=4, last_check_time=None))
        assert "4 errors and no successful check yet" in [r.text for r in health.reasons]

    @pytest.mark.parametrize("count", [0, None, -3])
    def test_no_errors_zero_unknown_or_nonsense_is_not_a_reason(self, count):
        assert "errors" not in codes(check(account(error_count=count)))

    def test_threshold_comes_from_the_settings(self, settings):
        settings.HEALTH_ERROR_FAILING_THRESHOLD = 2
        assert assess(account(error_count=3), now=NOW).status == Status.FAILING
        settings.HEALTH_ERROR_FAILING_THRESHOLD = 3
        assert assess(account(error_count=3), now=NOW).status == Status.WARNING


class TestStaleness:
    def test_exactly_thirty_minutes_is_fine(self):
        assert check(account(last_check_time=NOW - timedelta(minutes=30))).status == Status.HEALTHY

    def test_just_over_thirty_minutes_is_a_warning(self):
        health = check(account(last_check_time=NOW - timedelta(minutes=30, seconds=1)))
        assert health.status == Status.WARNING
        assert health.reasons[0].code == "stale"
        assert health.reasons[0].text.startswith("last checked 30 minutes ago (at 11:29 UTC)")

    def test_exactly_two_hours_is_a_warning(self):
        health = check(account(last_check_time=NOW - timedelta(hours=2)))
        assert health.status == Status.WARNING

    def test_just_over_two_hours_is_failing_with_the_time_in_words(self):
        health = check(account(last_check_time=NOW - timedelta(hours=2, seconds=1)))
        assert health.status == Status.FAILING
        assert health.reasons[0].text.startswith("last checked 2 hours ago (at 9:59 UTC)")

    def test_three_hours_reads_as_in_the_issue(self):
        text = check(account(last_check_time=datetime(2025, 5, 14, 9, 0, tzinfo=UTC))).reasons[0].text
        assert text.startswith("last checked 3 hours ago (at 9:00 UTC)")

    def test_a_check_on_another_day_gives_the_date(self):
        text = check(account(last_check_time=datetime(2025, 5, 1, 8, 15, tzinfo=UTC))).reasons[0].text
        assert "last checked 13 days ago (at 1 May 8:15 UTC)" in text

    def test_the_time_is_marked_for_a_page_to_write_in_its_zone(self):
        checked = datetime(2025, 5, 14, 9, 0, tzinfo=UTC)
        reason = check(account(last_check_time=checked)).reasons[0]
        assert reason.at == checked and reason.at_text == "9:00 UTC"
        assert reason.around == ("last checked 3 hours ago (at ", "); Nexudus checks every 15 minutes")

    def test_a_check_in_the_future_clock_skew_is_not_stale(self):
        assert check(account(last_check_time=NOW + timedelta(minutes=10))).status == Status.HEALTHY

    def test_never_checked_while_active_is_a_warning_when_new(self):
        health = check(account(last_check_time=None, created_on=NOW - timedelta(minutes=20)))
        assert health.status == Status.WARNING
        assert health.reasons[0].code == "never_checked"

    def test_never_checked_long_after_it_was_added_is_failing(self):
        health = check(account(last_check_time=None, created_on=NOW - timedelta(days=2)))
        assert health.status == Status.FAILING
        assert health.reasons[0].text == "never checked, though it was added 2 days ago"

    def test_never_checked_with_no_creation_date_is_a_warning(self):
        assert check(account(last_check_time=None, created_on=None)).status == Status.WARNING

    def test_thresholds_come_from_the_settings(self, settings):
        settings.HEALTH_STALE_WARNING_MINUTES = 10
        settings.HEALTH_STALE_FAILING_MINUTES = 20
        assert assess(account(last_check_time=NOW - timedelta(minutes=11)), now=NOW).status == Status.WARNING
        assert assess(account(last_check_time=NOW - timedelta(minutes=21)), now=NOW).status == Status.FAILING


class TestSecurity:
    def test_ssl_off_for_incoming_mail_is_a_warning(self):
        health = check(account(incoming_server_ssl=False))
        assert health.status == Status.WARNING
        assert [r.text for r in health.reasons] == ["SSL is off for incoming mail"]

    def test_ssl_off_for_outgoing_mail_is_a_warning(self):
        assert codes(check(account(outgoing_server_ssl=False))) == {"insecure_outgoing"}

    def test_outgoing_ssl_does_not_matter_without_an_outgoing_server(self):
        assert check(account(outgoing_server="", outgoing_server_ssl=False, outgoing_server_port=None)).reasons == []

    def test_unknown_ssl_is_not_called_insecure(self):
        assert check(account(incoming_server_ssl=None, outgoing_server_ssl=None)).reasons == []


class TestConfiguration:
    @pytest.mark.parametrize("server", [None, "", "   "])
    def test_no_incoming_server_is_failing(self, server):
        health = check(account(incoming_server=server))
        assert health.status == Status.FAILING
        assert [r.text for r in health.reasons] == ["no incoming server is set"]

    @pytest.mark.parametrize("port, text", [(0, "the incoming port is 0"), (None, "the incoming port is not set")])
    def test_port_zero_or_missing_is_failing(self, port, text):
        health = check(account(incoming_server_port=port))
        assert health.status == Status.FAILING
        assert [r.text for r in health.reasons] == [text]

    @pytest.mark.parametrize("port", [-1, 65536, 99999])
    def test_an_impossible_port_is_failing(self, port):
        assert codes(check(account(incoming_server_port=port))) == {"bad_incoming_port"}

    @pytest.mark.parametrize("port", [1, 143, 993, 65535])
    def test_possible_ports_are_fine(self, port):
        assert check(account(incoming_server_port=port)).reasons == []

    def test_an_unknown_server_type_is_failing(self):
        health = check(account(incoming_server_type=2))
        assert health.status == Status.FAILING
        assert health.reasons[0].text == "unknown incoming server type 2 (Nexudus checks IMAP, type 1, only)"

    @pytest.mark.parametrize("kind", [0, None])
    def test_an_unset_server_type_is_a_warning(self, kind):
        health = check(account(incoming_server_type=kind))
        assert health.status == Status.WARNING
        assert codes(health) == {"server_type_unset"}

    def test_an_outgoing_server_without_a_port_is_a_warning(self):
        assert codes(check(account(outgoing_server_port=0))) == {"bad_outgoing_port"}


class TestSilence:
    def test_nothing_received_for_more_than_the_threshold_though_it_used_to(self):
        health = check(account(), Stats(last_received_at=NOW - timedelta(days=7, seconds=1)))
        assert health.status == Status.WARNING
        assert health.reasons[0].code == "silent"
        assert health.reasons[0].text.startswith("received nothing for 7 days (last message 7 May 11:59 UTC)")
        before, after = health.reasons[0].around
        assert before == "received nothing for 7 days (last message " and after.startswith("), though")

    def test_exactly_at_the_threshold_is_fine(self):
        assert check(account(), Stats(last_received_at=NOW - timedelta(days=7))).status == Status.HEALTHY

    def test_an_account_that_never_received_anything_is_not_silent(self):
        assert check(account(), Stats(last_received_at=None)).status == Status.HEALTHY

    def test_without_stats_the_rule_is_skipped(self):
        assert check(account(), None).status == Status.HEALTHY

    def test_an_inactive_account_is_never_silent(self):
        health = check(account(active=False), Stats(last_received_at=NOW - timedelta(days=90)))
        assert codes(health) == {"inactive"}

    def test_silence_counts_only_when_that_much_mail_would_have_come(self):
        # 4 messages in the 4 weeks before: 21 days of silence is 3 expected ones (flagged),
        # 20 days is 2.9 (not: a quiet account is allowed its gaps).
        flagged = check(account(), Stats(NOW - timedelta(days=21), received_before_silence=4))
        assert flagged.status == Status.WARNING
        assert flagged.reasons[0].text.endswith("though it received 4 in the 4 weeks before")
        quiet = check(account(), Stats(NOW - timedelta(days=20), received_before_silence=4))
        assert quiet.status == Status.HEALTHY

    def test_a_busy_account_is_silent_after_the_minimum_days(self):
        busy = Stats(NOW - timedelta(days=7, minutes=1), received_before_silence=200)
        assert codes(check(account(), busy)) == {"silent"}
        assert check(account(), Stats(NOW - timedelta(days=7), received_before_silence=200)).reasons == []

    def test_threshold_comes_from_the_settings(self, settings):
        settings.HEALTH_SILENT_DAYS = 2
        stats = Stats(last_received_at=NOW - timedelta(days=3))
        assert assess(account(), now=NOW, stats=stats).status == Status.WARNING


class TestCombinations:
    def test_every_reason_is_listed_worst_first(self):
        health = check(
            account(
                error_count=9,
                last_check_time=NOW - timedelta(minutes=45),
                incoming_server_ssl=False,
                incoming_server_type=0,
            ),
            Stats(last_received_at=NOW - timedelta(days=20)),
        )
        assert health.status == Status.FAILING
        assert codes(health) == {"errors", "stale", "insecure_incoming", "server_type_unset", "silent"}
        severities = [r.severity for r in health.reasons]
        assert severities == sorted(severities, reverse=True)
        assert health.reasons[0].code == "errors"

    def test_warnings_alone_give_a_warning(self):
        health = check(account(error_count=2, outgoing_server_ssl=False))
        assert health.status == Status.WARNING
        assert codes(health) == {"errors", "insecure_outgoing"}

    def test_sort_key_puts_the_worst_first(self):
        healths = {
            "healthy": check(account()),
            "inactive": check(account(active=False)),
            "warning": check(account(error_count=1)),
            "failing one": check(account(error_count=9)),
            "failing two": check(account(error_count=9, incoming_server=None)),
        }
        order = sorted(healths, key=lambda name: healths[name].sort_key)
        assert order == ["failing two", "failing one", "warning", "inactive", "healthy"]


class TestNullsEverywhere:
    def test_an_empty_model_instance_does_not_crash(self):
        health = check(EmailAccount(id=1))
        # Null "active" is not "inactive": it is judged, and found without a server.
        assert health.status == Status.FAILING
        assert {"no_incoming_server", "no_incoming_port", "server_type_unset", "never_checked"} <= codes(health)

    def test_a_record_with_only_an_id_does_not_crash(self):
        fields = {f: None for f in EmailAccountRecord.__dataclass_fields__}
        fields.update(id=7, has_google_token=False, has_office365_token=False)
        health = check(EmailAccountRecord(**fields))
        assert health.status == Status.FAILING

    def test_an_object_without_any_attribute_does_not_crash(self):
        assert check(object(), Stats(last_received_at=None)).status == Status.FAILING

    def test_an_inactive_account_with_nulls_elsewhere(self):
        assert check(EmailAccount(id=1, active=False)).status == Status.INACTIVE


def test_ago_uses_the_largest_whole_unit():
    assert ago(timedelta(seconds=59)) == "59 seconds"
    assert ago(timedelta(minutes=1)) == "1 minute"
    assert ago(timedelta(minutes=119)) == "1 hour"
    assert ago(timedelta(days=1, hours=23)) == "1 day"
    assert ago(timedelta(seconds=-5)) == "0 seconds"


def test_exact_adds_the_year_only_when_it_differs():
    assert exact(datetime(2024, 12, 31, 23, 5, tzinfo=UTC), NOW) == "31 Dec 2024 23:05 UTC"


def test_exact_writes_the_hour_as_every_page_does(settings):
    """The one way to write a time (inbox/timefmt.py): no leading zero on the hour, the day then
    the month; the zone named, since a reason or an alert is read later or elsewhere."""
    assert exact(NOW.replace(hour=9, minute=5), NOW) == "9:05 UTC"
    assert exact(datetime(NOW.year, 1, 2, 0, 7, tzinfo=UTC), NOW) == "2 Jan 0:07 UTC"
    settings.HELPDESK_TIME_ZONE = "Europe/Paris"
    assert exact(datetime(NOW.year, 1, 2, 0, 7, tzinfo=UTC), NOW) == "2 Jan 1:07 CET"
