"""``/accounts/``: every account's health, worst first, grouped by location, with its volumes."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inbox.platform import cache as platform_cache
from inbox import timefmt
from inbox.accounts.overview import accounts_overview
from inbox.accounts.selectors import forget_cached
from inbox.models import AccountIncident, AccountSnapshot, SyncRun
from tests.accounts.fixtures import STATES, make_state
from tests.factories import make_account, make_business, make_messages, make_success

pytestmark = pytest.mark.django_db

URL = "/accounts/"


@pytest.fixture(autouse=True)
def _no_cached_badge():
    forget_cached()
    yield
    forget_cached()


def rows(html: str) -> list[tuple[str, str]]:
    """(account id, status) of every row, in page order."""
    return re.findall(r'<tr id="account-(\d+)"[^>]*data-status="(\w+)"', html)


def test_url_name_is_the_contract():
    assert reverse("accounts-index") == URL


def test_every_state_gets_its_status_and_reasons(admin_client_):
    now = timezone.now()
    accounts = {name: make_state(name, now) for name in STATES}
    response = admin_client_.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    statuses = dict(rows(html))
    for name, (_, status, reason_codes) in STATES.items():
        account = accounts[name]
        assert statuses[str(account.pk)] == status, name
        row = html.split(f'id="account-{account.pk}"')[1].split("</tr>")[0]
        assert set(re.findall(r'data-code="(\w+)"', row)) == reason_codes, name
    # Reasons are in words, with numbers.
    assert "12 errors since the last successful check (more than 5)" in html
    assert "Last checked 5 hours ago" in html
    # The time a reason names is a <time>, written in the zone the page's other times are in (the
    # browser's, unless HELPDESK_TIME_ZONE names one), not as text naming the server's zone.
    stale = html.split(f'id="account-{accounts["very stale"].pk}"')[1].split("</tr>")[0]
    checked = accounts["very stale"].last_check_time
    assert re.search(rf'Last checked 5 hours ago \(at <time datetime="{re.escape(timefmt.iso(checked))}" '
                     r'title="[^"]+" data-time-format="point">[^<]+</time>\); Nexudus checks', stale), stale
    assert "SSL is off for incoming mail" in html
    # No server: nothing said of its SSL ("no incoming server · SSL" read oddly).
    no_server = html.split(f'id="account-{accounts["no server"].pk}"')[1].split("</tr>")[0]
    assert '<span class="account-server">no incoming server</span>' in no_server
    healthy = html.split(f'id="account-{accounts["healthy"].pk}"')[1].split("</tr>")[0]
    assert re.search(r'<span class="account-server">(?:[^<]+<wbr>)+[^<]+:\d+ · SSL</span>', healthy)


def test_worst_first_then_the_filter_shows_only_those_needing_attention(admin_client_):
    now = timezone.now()
    healthy = make_state("healthy", now)
    inactive = make_state("inactive", now)
    warning = make_state("erroring", now)
    failing = make_state("failing", now)
    order = [pk for pk, _ in rows(admin_client_.get(URL).content.decode())]
    assert order == [str(a.pk) for a in (failing, warning, inactive, healthy)]

    filtered = admin_client_.get(URL, {"attention": "1"})
    assert [pk for pk, _ in rows(filtered.content.decode())] == [str(failing.pk), str(warning.pk)]
    assert "Needing attention (2)" in filtered.content.decode()


def test_nothing_needs_attention_says_so(admin_client_):
    make_state("healthy", timezone.now())
    html = admin_client_.get(URL, {"attention": "1"}).content.decode()
    assert "No account needs attention right now." in html


def test_grouped_by_location_with_the_worst_location_first(admin_client_):
    now = timezone.now()
    make_business(1, "Shoreditch")
    make_business(2, "Brixton")
    make_state("healthy", now, business_id=1)
    make_state("failing", now, business_id=2)
    make_state("erroring", now, business_id=99)  # a location the mirror does not know
    html = admin_client_.get(URL).content.decode()
    headings = re.findall(r"<h2>([^<]+)</h2>", html)
    assert headings == ["Brixton", "Location 99", "Shoreditch"]


def test_one_location_needs_no_heading(admin_client_):
    make_business(1, "Shoreditch")
    make_state("healthy", timezone.now(), business_id=1)
    assert "<h2>Shoreditch</h2>" not in admin_client_.get(URL).content.decode()


def test_removed_accounts_are_hidden_unless_asked_for(admin_client_):
    now = timezone.now()
    live = make_state("healthy", now)
    gone = make_state("failing", now, deleted_at=now - timedelta(days=1))
    html = admin_client_.get(URL).content.decode()
    assert dict(rows(html)) == {str(live.pk): "healthy"}
    assert "Show the 1 removed from Nexudus" in html
    shown = dict(rows(admin_client_.get(URL, {"removed": "1"}).content.decode()))
    assert shown == {str(live.pk): "healthy", str(gone.pk): "removed"}
    # A removed account never counts as needing attention.
    assert admin_client_.get(URL).context["overview"].attention == 0


def test_row_shows_address_server_last_check_errors_and_connections(admin_client_):
    now = timezone.now()
    account = make_state("erroring", now, has_google_token=True, has_office365_token=True)
    html = admin_client_.get(URL).content.decode()
    row = html.split(f'id="account-{account.pk}"')[1].split("</tr>")[0]
    # Addresses wrap between their parts in a narrow column (<wbr>), never inside a word.
    assert '<span class="account-address">erroring@<wbr>example<wbr>.com</span>' in row
    assert "imap<wbr>.example<wbr>.com:993" in row
    assert "Google connected" in row and "Office 365 connected" in row
    # Relative, and exact in the tooltip, written the one way (inbox/timefmt.py).
    assert f'title="{timefmt.exact(account.last_check_time)}">5 min ago</time>' in row


def test_volumes_last_message_and_chart(admin_client_):
    now = timezone.now()
    account = make_state("healthy", now)
    other = make_state("erroring", now)
    received = [now - timedelta(days=d, hours=1) for d in (0, 1, 2, 10, 20, 40)]
    make_messages(received, email_account=account, incoming=True)
    make_messages([now - timedelta(days=d) for d in (3, 15)], email_account=account, incoming=False)
    make_messages([now - timedelta(minutes=1)], email_account=account, incoming=True, deleted_at=now)  # deleted: ignored
    make_messages([now - timedelta(days=2)], email_account=other, incoming=True, subject="Other account's")
    make_messages([now - timedelta(hours=3)], email_account=None, incoming=True)  # location default settings
    newest = make_messages([now - timedelta(minutes=10)], email_account=account, incoming=True, subject="Where is my parcel?")[0]

    overview = admin_client_.get(URL).context["overview"]
    row = next(r for g in overview.groups for r in g.rows if r.account.pk == account.pk)
    assert (row.stats.received_7, row.stats.received_30) == (4, 6)
    assert (row.stats.sent_7, row.stats.sent_30) == (1, 2)
    assert row.stats.last_received.pk == newest.pk
    assert len(row.stats.daily) == 30

    html = admin_client_.get(URL).content.decode()
    row_html = html.split(f'id="account-{account.pk}"')[1].split("</tr>")[0]
    assert "Where is my parcel?" in row_html
    assert "4 / 6" in row_html and "1 / 2" in row_html
    chart = re.search(r'<svg class="chart chart-volume".*?</svg>', row_html, re.S).group(0)
    assert 'role="img"' in chart
    days_with_mail = {timezone.localtime(t).date() for t in [*received[:5], newest.created_on]}
    assert chart.count('class="chart-in"') == len(days_with_mail)  # one bar a day with mail
    assert chart.count('class="chart-out"') == 2
    assert "received" in chart and "<title>" in chart


def test_silent_accounts_are_judged_by_their_usual_rate(admin_client_):
    now = timezone.now()
    busy = make_state("healthy", now, display_name="Busy")
    a_day_until_10_days_ago = [now - timedelta(days=10, hours=h) for h in range(0, 28 * 24, 24)]
    make_messages(a_day_until_10_days_ago, email_account=busy, incoming=True)
    sparse = make_state("healthy", now, display_name="Sparse")
    make_messages([now - timedelta(days=10), now - timedelta(days=30)], email_account=sparse, incoming=True)  # 2 in 4 weeks: 10 days is normal
    recent = make_state("healthy", now, display_name="Recent")
    make_messages([now - timedelta(days=1)], email_account=recent, incoming=True)
    html = admin_client_.get(URL).content.decode()
    statuses = dict(rows(html))
    assert statuses == {str(busy.pk): "warning", str(sparse.pk): "healthy", str(recent.pk): "healthy"}
    assert "Received nothing for 10 days" in row_html(html, busy)
    assert "though it received 28 in the 4 weeks before" in row_html(html, busy)


def row_html(html: str, account) -> str:
    return html.split(f'id="account-{account.pk}"')[1].split("</tr>")[0]


def test_the_page_keeps_the_volumes_a_minute_and_the_export_never(admin_client_):
    now = timezone.now()
    account = make_state("healthy", now)
    make_messages([now - timedelta(hours=1)], email_account=account, incoming=True)

    def received_30(overview):
        return next(r for g in overview.groups for r in g.rows).stats.received_30

    assert received_30(admin_client_.get(URL).context["overview"]) == 1
    make_messages([now - timedelta(minutes=30)], email_account=account, incoming=True)
    assert received_30(admin_client_.get(URL).context["overview"]) == 1  # cached
    assert received_30(accounts_overview(now=timezone.now())) == 2  # what the CSV export uses
    forget_cached()
    assert received_30(admin_client_.get(URL).context["overview"]) == 2


def test_failing_since_and_the_error_chart(admin_client_):
    now = timezone.now()
    account = make_state("failing", now)
    opened = now - timedelta(hours=3)
    AccountIncident.objects.create(account=account, opened_at=opened, reasons=[])
    for hours, errors in ((30, 0), (5, 3), (3, 8), (1, 12)):
        AccountSnapshot.objects.create(
            account=account, taken_at=now - timedelta(hours=hours), error_count=errors, status="warning"
        )
    html = admin_client_.get(URL).content.decode()
    row = html.split(f'id="account-{account.pk}"')[1].split("</tr>")[0]
    assert "Failing since" in row and "(for 3 hours)" in row
    assert f'title="{timefmt.exact(opened)}" data-time-format="point">{timefmt.point(opened, now)}</time>' in row
    assert 'class="chart-errors"' in row
    assert "Error count over 7 days: now 12, at most 12" in row


def test_an_account_already_failing_at_the_first_look_says_since_then_at_least(admin_client_):
    now = timezone.now()
    account = make_state("failing", now)
    opened = now - timedelta(minutes=5)
    AccountIncident.objects.create(account=account, opened_at=opened, reasons=[], at_first_look=True)
    html = admin_client_.get(URL).content.decode()
    row = html.split(f'id="account-{account.pk}"')[1].split("</tr>")[0]
    assert f'Failing since at least <time' in row and f'data-time-format="point">{timefmt.point(opened, now)}</time>' in row
    assert "(already failing when the help desk first looked)" in row
    assert "(for 5 minutes)" not in row


def test_an_account_never_checked_says_since_when_it_was_added_not_a_made_up_failing_since(admin_client_):
    """The incident opened when the mirror first saw the account; Nexudus added it long before."""
    now = timezone.now()
    account = make_state("never checked", now, created_on=now - timedelta(days=570))
    AccountIncident.objects.create(account=account, opened_at=now - timedelta(minutes=3), reasons=[])
    html = admin_client_.get(URL).content.decode()
    row = html.split(f'id="account-{account.pk}"')[1].split("</tr>")[0]
    assert "Never checked since it was added" in row and "570 days ago" in row
    assert "never checked, though it was added" not in row.lower()  # said once, not again as a reason
    assert f'title="{timefmt.exact(account.created_on)}"' in row
    assert "Failing since" not in row


def test_accounts_page_writes_times_the_one_way(admin_client_):
    now = timezone.now()
    make_success("accounts", now - timedelta(seconds=5))
    account = make_state("healthy", now)
    make_messages([now - timedelta(hours=3)], email_account=account, incoming=True)
    forget_cached()
    html = admin_client_.get(URL).content.decode()
    assert "Account data from the accounts sync <time" in html and ">just now</time>" in html
    assert "0 minutes" not in html and "minutes ago" not in html
    row = html.split(f'id="account-{account.pk}"')[1].split("</tr>")[0]
    assert ">5 min ago</time>" in row and ">3 h ago</time>" in row


def test_query_count_does_not_grow_with_accounts_or_messages(admin_client_, admin_user):
    now = timezone.now()

    def count_queries() -> int:
        forget_cached()  # count the badge's and the volumes' queries every time
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client_.get(URL).status_code == 200
        return len(ctx.captured_queries)

    first = make_state("failing", now)
    make_messages([now - timedelta(days=1)], email_account=first, incoming=True)
    AccountIncident.objects.create(account=first, opened_at=now, reasons=[])
    few = count_queries()
    for n in range(20):
        account = make_state("erroring" if n % 2 else "healthy", now, business_id=n)
        make_messages([now - timedelta(days=d) for d in range(5)], email_account=account, incoming=True)
        make_messages([now - timedelta(days=d) for d in range(3)], email_account=account, incoming=False)
        AccountIncident.objects.create(account=account, opened_at=now, reasons=[])
        AccountSnapshot.objects.create(account=account, taken_at=now, error_count=1, status="warning")
    assert count_queries() == few


def test_htmx_gets_only_the_list(admin_client_):
    make_state("healthy", timezone.now())
    response = admin_client_.get(URL, {"attention": "1"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="accounts-list">')
    assert "<html" not in html


@pytest.mark.parametrize("query", ["attention=banana", "attention=", "removed=0&attention=0", "x=<script>"])
def test_odd_query_values_never_fail(admin_client_, query):
    make_state("healthy", timezone.now())
    assert admin_client_.get(f"{URL}?{query}").status_code == 200


@pytest.mark.parametrize("value", ["banana", "2", "<b>x</b>"])
def test_a_switch_it_cannot_read_is_refused_in_words_and_left_off(admin_client_, value):
    """``attention=banana`` used to be read as on (Django's BooleanField): the page now says it
    took it for nothing, lists every account, and keeps the other switch."""
    now = timezone.now()
    healthy = make_state("healthy", now)
    failing = make_state("failing", now)
    html = admin_client_.get(URL, {"attention": value}).content.decode()
    assert {pk for pk, _ in rows(html)} == {str(healthy.pk), str(failing.pk)}
    assert "Some of the filters were not understood, so they were ignored:" in html
    assert "<li>“Needing attention” takes 1 (on) or 0 (off) — ignored.</li>" in html
    assert 'id="accounts-tab-all" aria-current="page"' in html
    assert "<b>x</b>" not in html
    kept = admin_client_.get(URL, {"attention": "1", "removed": value}).content.decode()
    assert [pk for pk, _ in rows(kept)] == [str(failing.pk)]
    assert "<li>“Removed from Nexudus” takes 1 (on) or 0 (off) — ignored.</li>" in kept
    for fine in ("1", "0", "", "on", "no"):
        assert "not understood" not in admin_client_.get(URL, {"attention": fine}).content.decode()


def test_account_data_older_than_healthz_allows_is_said_above_the_states(admin_client_, settings):
    """During a long outage each account's "last checked" is judged against now from data that
    stopped coming: healthy accounts drift to warning, then failing. The page says so."""
    settings.HEALTHZ_MAX_ACCOUNTS_SYNC_AGE = 1800
    now = timezone.now()
    make_state("healthy", now)
    run = make_success("accounts", now - timedelta(minutes=10))
    assert "accounts-sync-notice" not in admin_client_.get(URL).content.decode()
    type(run).objects.filter(pk=run.pk).update(finished_at=now - timedelta(minutes=45))
    html = admin_client_.get(URL).content.decode()
    notice = html.split('class="notice notice-warn accounts-sync-notice">')[1].split("</div>")[0]
    assert re.search(r"<strong>The account data is from <time [^>]+>45 min ago</time>:</strong> no accounts sync has ended since", notice), notice
    assert "as of then" in notice and '<a href="/sync/">sync page</a>' in notice


def test_a_failing_accounts_sync_is_said_at_once(admin_client_, settings):
    """Nexudus stops answering: the accounts page says so from the first failed run, not only
    once the data is older than /healthz allows (15 minutes of "Healthy" before)."""
    settings.HEALTHZ_MAX_ACCOUNTS_SYNC_AGE = 1800
    now = timezone.now()
    make_state("healthy", now)
    make_success("accounts", now - timedelta(minutes=6))
    error = "Nexudus did not answer GET /api/sys/emailaccounts properly after 3 attempts; the last failure was a server error (HTTP 503) <b>"
    failed = SyncRun.objects.create(resource="accounts", mode="incremental", status="failed", started_at=now - timedelta(minutes=1),
                                    finished_at=now - timedelta(seconds=50), error=error)
    html = admin_client_.get(URL).content.decode()
    notice = html.split('class="notice notice-warn accounts-sync-notice">')[1].split("</div>")[0]
    assert re.search(r"<strong>The accounts sync is failing</strong> \(last try <time [^>]+>1 min ago</time>\): "
                     r'<span class="sync-error-text">Nexudus did not answer .+\(HTTP 503\) &lt;b&gt;</span>', notice), notice
    assert re.search(r"The states below are as Nexudus gave them <time [^>]+>6 min ago</time>\.", notice), notice
    assert "as of then" not in notice  # not stale yet: the states are still fair
    # A success after it: no notice.
    make_success("accounts", now)
    assert "accounts-sync-notice" not in admin_client_.get(URL).content.decode()
    # Failing since the first run ever: said too.
    SyncRun.objects.filter(status="success").delete()
    failed.save()
    notice = admin_client_.get(URL).content.decode().split("accounts-sync-notice")[1].split("</div>")[0]
    assert "The accounts sync is failing" in notice and "No accounts sync has succeeded yet." in notice


def test_the_last_accounts_syncs_warning_is_on_the_page_too(admin_client_):
    """"Location 1002" headings: why (a role the API user lacks) was said on the sync page only."""
    make_state("healthy", timezone.now())
    make_success("accounts", timezone.now(), warning="The Nexudus API user lacks the Business-List role <b>.")
    html = admin_client_.get(URL).content.decode()
    assert "<strong>From the last accounts sync:</strong> The Nexudus API user lacks the Business-List role &lt;b&gt;." in html


def test_hostile_account_names_are_escaped(admin_client_):
    make_state("failing", timezone.now(), display_name="<script>alert(1)</script>")
    html = admin_client_.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    make_state("erroring", timezone.now(), email_address='"<img src=x onerror=alert(2)>"@x.example')
    html = admin_client_.get(URL).content.decode()
    assert "<img src=x" not in html
    assert "&quot;&lt;img src=x onerror=alert(2)&gt;&quot;@<wbr>x<wbr>.example" in html


def test_nav_badge_counts_accounts_needing_attention(admin_client_):
    now = timezone.now()
    make_state("failing", now)
    make_state("erroring", now)
    make_state("inactive", now)
    make_state("healthy", now)
    html = admin_client_.get(URL).content.decode()
    assert re.search(r'<span class="badge badge-danger" title="2 accounts need attention">2</span>', html)


def test_nav_badge_survives_an_unreachable_cache(admin_client_, settings):
    make_state("failing", timezone.now())
    settings.CACHES = {
        "default": {
            "BACKEND": "helpdesk.cache.ReusedClientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    # Django's setting_changed handler drops the cached cache connections.
    started = time.monotonic()
    for _ in range(3):
        response = admin_client_.get(URL)
        assert response.status_code == 200
        assert 'title="1 account needs attention">1</span>' in response.content.decode()
    # The first page pays for finding the cache down (redis-py retries); the next ones do not.
    assert time.monotonic() - started < 8


@pytest.fixture(autouse=True)
def _cache_up():
    platform_cache.reset()
    yield
    platform_cache.reset()


def test_overview_directly_with_nulls_everywhere():
    make_account(**{f: None for f in ("active", "incoming_server", "incoming_server_port", "incoming_server_type",
                                       "incoming_server_ssl", "outgoing_server", "outgoing_server_port",
                                       "outgoing_server_ssl", "last_check_time", "error_count", "created_on",
                                       "business_id", "display_name", "email_address")})
    overview = accounts_overview(now=timezone.now())
    (group,) = overview.groups
    assert group.name == "No location"
    assert group.rows[0].health.status == "failing"
