"""``awaiting=1`` (who is still waiting for an answer) and ``order=oldest``, as people meet them:
the list, its heading and the wait on each row, the counts, the URL and its controls, the live
banner, the marks and the CSV. The flag itself is the sync's (tests/sync/test_awaiting.py checks
it against the source); here the mirror is built directly and the flag computed the same way."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.http import QueryDict
from django.utils import timezone

from inbox.mailbox.counts import message_counts
from inbox.mailbox.cursor import Cursor
from inbox.mailbox.filters import InboxFilterForm, InboxFilters
from inbox.models import CoworkerMessage
from inbox.sync import awaiting
from inbox.mailbox.rows import waiting
from inbox.timefmt import wait_length
from tests.exports.fixtures import read_csv, response_bytes
from tests.factories import build_message
from tests.mailbox.inbox_fixtures import ACCOUNT_A, ACCOUNT_B

pytestmark = pytest.mark.django_db

ROW_ID = re.compile(r'<li id="msg-(\d+)"')
ANNA, BORIS, CLEO = 8001, 8002, 8003


def shown_ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [int(i) for i in ROW_ID.findall(response.content.decode())]


@pytest.fixture
def waits():
    """Anna asked twice and was answered once in between (through another account): her later
    question waits. Boris asked and was answered. Cleo asked, was answered, and the answer was
    deleted: she waits. A message with no customer never waits. Times relative to now."""
    now = timezone.now()
    hours = lambda h: now - dt.timedelta(hours=h)  # noqa: E731
    rows = [
        build_message(id=1, coworker_id=ANNA, incoming=True, created_on=hours(50), email_account_id=ACCOUNT_A),
        build_message(id=2, coworker_id=ANNA, incoming=False, created_on=hours(40), email_account_id=ACCOUNT_B),
        build_message(id=3, coworker_id=ANNA, incoming=True, created_on=hours(30), email_account_id=ACCOUNT_A,
                     is_new_message=True),
        build_message(id=4, coworker_id=BORIS, incoming=True, created_on=hours(5), email_account_id=ACCOUNT_B),
        build_message(id=5, coworker_id=BORIS, incoming=False, created_on=hours(4), email_account_id=ACCOUNT_B),
        build_message(id=6, coworker_id=CLEO, incoming=True, created_on=hours(3), email_account_id=ACCOUNT_B),
        build_message(id=7, coworker_id=CLEO, incoming=False, created_on=hours(2), deleted_at=hours(1)),
        build_message(id=8, coworker_id=None, incoming=True, created_on=hours(1)),
    ]
    CoworkerMessage.objects.bulk_create(rows)
    awaiting.rebuild()
    return rows


def test_the_view_shows_who_waits_newest_first_and_oldest_first(staff_client, waits):
    assert shown_ids(staff_client.get("/", {"awaiting": "1"})) == [6, 3]
    assert shown_ids(staff_client.get("/", {"awaiting": "1", "order": "oldest"})) == [3, 6]
    assert shown_ids(staff_client.get("/", {"awaiting": "1", "account": str(ACCOUNT_B)})) == [6]
    assert shown_ids(staff_client.get("/", {"awaiting": "1", "direction": "outgoing"})) == []
    assert shown_ids(staff_client.get("/", {"order": "oldest"})) == [1, 2, 3, 4, 5, 6, 8]


def test_each_row_says_how_long_and_marks_a_wait_past_the_target(staff_client, waits, settings):
    settings.HELPDESK_REPLY_TARGET_HOURS = 24
    html = staff_client.get("/", {"awaiting": "1"}).content.decode()
    assert "<h1 class=\"list-title\">Awaiting reply</h1>" in html
    row3 = html[html.index('id="msg-3"'):html.index("</li>", html.index('id="msg-3"'))]
    row6 = html[html.index('id="msg-6"'):html.index("</li>", html.index('id="msg-6"'))]
    assert re.search(r'class="waiting late"[^>]*>waiting 30 h<', row3)
    assert re.search(r'class="waiting"[^>]*>waiting 3 h<', row6)
    # Only awaiting rows carry a wait, in every view.
    everything = staff_client.get("/").content.decode()
    assert everything.count('class="waiting') == 2


def test_wait_lengths_read_naturally():
    assert [wait_length(s) for s in (0, 59, 60, 3599, 3600, 47 * 3600, 48 * 3600, 400 * 86400)] == [
        "under 1 min", "1 min", "1 min", "59 min", "1 h", "47 h", "2 d", "400 d"
    ]
    message = build_message(created_on=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert waiting(message, now=dt.datetime(2026, 1, 2, 0, 0, tzinfo=dt.UTC)).late is True
    assert waiting(message, now=dt.datetime(2026, 1, 1, 23, 59, tzinfo=dt.UTC)).late is False


def test_the_counts_say_awaiting_reply_and_combine_with_the_other_facets(staff_user, staff_client, waits):
    assert message_counts(user=staff_user, filters=InboxFilters()).awaiting == 2
    assert message_counts(user=staff_user, filters=InboxFilters(account=ACCOUNT_A)).awaiting == 1
    assert message_counts(user=staff_user, filters=InboxFilters(unread=True)).awaiting == 1  # 3 is unread
    assert message_counts(user=staff_user, filters=InboxFilters(direction="outgoing")).awaiting == 0
    assert message_counts(user=staff_user, filters=InboxFilters(customer=ANNA)).awaiting == 1  # a narrowed view
    on = message_counts(user=staff_user, filters=InboxFilters(awaiting=True))
    assert (on.total, on.incoming, on.outgoing, on.awaiting) == (2, 2, 0, 2)
    assert {a.account: a.count for a in on.accounts} == {ACCOUNT_A: 1, ACCOUNT_B: 1}
    html = staff_client.get("/inbox/counts/", HTTP_HX_REQUEST="true").content.decode()
    assert re.search(r'href="/\?awaiting=1">Awaiting reply</a> <span class="count" data-count="awaiting">2<', html)
    # The order is not a filter: the counts of a view are the same both ways.
    def numbers(counts):
        return (counts.total, counts.unread, counts.incoming, counts.outgoing, counts.awaiting,
                [(a.account, a.count) for a in counts.accounts])

    oldest = message_counts(user=staff_user, filters=InboxFilters(awaiting=True, order="oldest"))
    assert numbers(oldest) == numbers(on)
    assert all("order=oldest" in a.querystring for a in oldest.accounts)  # the facet links keep it


def test_reading_a_message_does_not_answer_it(staff_client, staff_user, waits):
    staff_client.post("/inbox/mark/", {"ids": ["3", "6"], "action": "read"})
    assert shown_ids(staff_client.get("/", {"awaiting": "1"})) == [6, 3]
    assert message_counts(user=staff_user, filters=InboxFilters()).awaiting == 2


def test_the_url_round_trips_and_the_form_draws_the_controls(staff_client, waits):
    filters = InboxFilters(awaiting=True, account=ACCOUNT_A, order="oldest")
    assert filters.to_params() == {"awaiting": "1", "account": str(ACCOUNT_A), "order": "oldest"}
    assert InboxFilterForm(QueryDict(filters.querystring())).filters == filters
    assert InboxFilterForm({"order": "newest"}).filters == InboxFilters()
    html = staff_client.get("/", filters.to_params()).content.decode()
    assert re.search(r'<input type="checkbox" name="awaiting" value="1" checked', html)
    assert re.search(r'<option value="oldest" selected>Oldest first</option>', html)
    assert 'href="/export.csv?awaiting=1&amp;account=501&amp;order=oldest"' in html
    assert 'aria-label="Messages, oldest first"' in html


@pytest.mark.parametrize("params,said", [
    ({"awaiting": "maybe"}, "“Awaiting reply” takes 1 (on) or 0 (off)"),
    ({"order": "sideways"}, "is not an order"),
])
def test_a_bad_value_is_said_and_ignored(staff_client, waits, params, said):
    response = staff_client.get("/", params)
    assert shown_ids(response) == [8, 6, 5, 4, 3, 2, 1]
    assert said in response.content.decode()
    assert staff_client.get("/export.csv", params).status_code == 400


def test_the_live_banner_counts_new_waits_in_either_order(staff_client, waits):
    for order in ("newest", "oldest"):
        html = staff_client.get("/", {"awaiting": "1", "order": order}).content.decode()
        token = re.search(r"newest=([A-Za-z0-9_-]+)", html).group(1)
        assert Cursor.decode(token) == Cursor.of(waits[5])  # the view's newest, whatever the order
    newest = Cursor.of(waits[5]).encode()
    CoworkerMessage.objects.bulk_create([
        build_message(id=20, coworker_id=BORIS, incoming=True, created_on=timezone.now()),
        build_message(id=21, coworker_id=ANNA, incoming=False, created_on=timezone.now() - dt.timedelta(minutes=1)),
    ])
    awaiting.refresh([BORIS, ANNA])
    html = staff_client.get("/inbox/live/", {"awaiting": "1", "newest": newest}, HTTP_HX_REQUEST="true").content.decode()
    assert "1 new message" in html
    assert shown_ids(staff_client.get("/", {"awaiting": "1"})) == [20, 6]  # Anna was answered


def test_the_csv_holds_the_view_in_its_order_and_says_so_in_its_name(staff_client, waits):
    response = staff_client.get("/export.csv", {"awaiting": "1", "order": "oldest"})
    rows = read_csv(response_bytes(response))
    assert [r[0] for r in rows[1:]] == ["3", "6"]
    assert 'filename="messages-awaiting-reply-oldest-first-' in response["Content-Disposition"]
    newest = read_csv(response_bytes(staff_client.get("/export.csv", {"order": "oldest"})))
    assert [r[0] for r in newest[1:]] == ["1", "2", "3", "4", "5", "6", "8"]


def test_the_message_says_it_awaits_a_reply_until_one_is_sent(staff_client, waits):
    html = staff_client.get("/messages/3/").content.decode()
    wait = re.search(r'<span class="waiting late"([^>]*)>Awaiting reply · waiting 30 h</span>', html)
    assert wait, html
    # What the page needs to keep the wait true as time passes (static/js/app.js, renderWaits).
    message = CoworkerMessage.objects.get(pk=3)
    assert f'data-since="{message.created_on.astimezone(dt.timezone.utc).isoformat()}"' in wait.group(1)
    assert 'data-target="24"' in wait.group(1) and 'data-prefix="Awaiting reply · "' in wait.group(1)
    assert "Awaiting reply ·" not in staff_client.get("/messages/4/").content.decode()  # Boris was answered
    assert "Awaiting reply ·" not in staff_client.get("/messages/2/").content.decode()  # a sent message
