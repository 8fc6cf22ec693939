"""Keyset paging, the counts, the live endpoint and the cost of each (queries constant in rows)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse

from inbox.models import CoworkerMessage
from inbox.mailbox.counts import cached_message_counts, message_counts
from inbox.mailbox.cursor import Cursor
from inbox.mailbox.filters import InboxFilters
from inbox.mailbox.selectors import message_list, page_after
from tests.factories import build_message
from tests.mailbox.inbox_fixtures import (
    ACCOUNT_A,
    ACCOUNT_B,
    ACCOUNT_UNKNOWN,
    BASE_TIME,
    expected_ids,
)

ROW_ID = re.compile(r'<li id="msg-(\d+)"')
MORE = re.compile(r'<li id="more"[^>]*hx-get="([^"]+)"')


def ids_of(html: str) -> list[int]:
    return [int(i) for i in ROW_ID.findall(html)]


# --- Keyset paging ----------------------------------------------------------------------------


@pytest.mark.parametrize("filters", [
    InboxFilters(), InboxFilters(direction="incoming"), InboxFilters(q="invoice"),
    InboxFilters(order="oldest"), InboxFilters(awaiting=True, order="oldest"), InboxFilters(q="invoice", order="oldest"),
], ids=lambda f: f.querystring() or "all")
def test_pages_cover_every_row_exactly_once(staff_client, staff_user, inbox_data, settings, filters):
    """Follow the infinite-scroll sentinel (htmx) page after page: every row once, in order."""
    settings.INBOX_PAGE_SIZE = 7
    seen: list[int] = []
    html = staff_client.get("/", filters.to_params()).content.decode()
    for _ in range(50):
        seen += ids_of(html)
        more = MORE.search(html)
        if not more:
            break
        html = staff_client.get(more.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="more").content.decode()
        assert "<html" not in html  # a fragment: the rows and the next sentinel only
    assert seen == expected_ids(inbox_data, staff_user, filters)
    assert len(seen) == len(set(seen))


def test_the_older_link_works_without_javascript(staff_client, staff_user, inbox_data, settings):
    settings.INBOX_PAGE_SIZE = 10
    html = staff_client.get("/?direction=outgoing").content.decode()
    link = re.search(r'<a href="(/\?[^"]*after=[^"]+)">Older messages</a>', html).group(1).replace("&amp;", "&")
    page2 = staff_client.get(link).content.decode()
    expected = expected_ids(inbox_data, staff_user, InboxFilters(direction="outgoing"))
    assert ids_of(page2)[:10] == expected[10:20]
    assert "Newest messages" in page2 and "<html" in page2


def test_ties_on_created_on_are_broken_by_id(staff_user, db):
    same = BASE_TIME
    CoworkerMessage.objects.bulk_create([build_message(id=i, created_on=same) for i in range(10, 30)])
    qs = message_list(user=staff_user, filters=InboxFilters())
    seen, cursor = [], None
    while True:
        page = page_after(qs, cursor, 3)
        seen += [m.pk for m in page.rows]
        if not page.has_next:
            break
        cursor = page.next_cursor
    assert seen == list(range(29, 9, -1))


@pytest.mark.parametrize("token", ["", "abc", "MTIz", "!!!", "x" * 100, "LTk5OTk5OTk5OTk5OTk5OTk5OTlfMQ"])
def test_bad_cursors_are_refused(token):
    with pytest.raises(ValueError):
        Cursor.decode(token)


def test_cursor_round_trip_keeps_microseconds():
    cursor = Cursor(created_on=dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC), id=2**63 - 1)
    assert Cursor.decode(cursor.encode()) == cursor


def test_a_deep_page_costs_the_same_queries_as_the_first(staff_client, inbox_data, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.INBOX_PAGE_SIZE = 5
    last = inbox_data.messages[40]
    token = Cursor.of(last).encode()
    staff_client.get("/")  # warm the session
    with CaptureQueriesContext(connection) as first:
        staff_client.get("/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="more")
    with CaptureQueriesContext(connection) as deep:
        staff_client.get(f"/?after={token}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="more")
    assert len(deep.captured_queries) == len(first.captured_queries)
    page_sql = [q["sql"] for q in deep.captured_queries if "inbox_coworkermessage" in q["sql"]]
    assert len(page_sql) == 1 and "OFFSET" not in page_sql[0].upper()


# --- Query counts constant in the number of rows ----------------------------------------------


def _seed(n: int, start: int) -> None:
    CoworkerMessage.objects.bulk_create(
        [build_message(id=start + i, created_on=BASE_TIME - dt.timedelta(minutes=i), is_new_message=i % 2 == 0,
                       email_account_id=[ACCOUNT_A, ACCOUNT_B, None][i % 3], body_text=f"Body of {start + i}")
         for i in range(n)]
    )


@pytest.mark.parametrize("url,headers", [
    ("/", {}),
    ("/?unread=1&direction=incoming&q=body", {}),
    ("/", {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}),
    ("/inbox/counts/?account=none", {"HTTP_HX_REQUEST": "true"}),
])
def test_queries_do_not_grow_with_rows(staff_client, staff_user, db, settings, url, headers):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.INBOX_COUNTS_CACHE_SECONDS = 0
    staff_client.get(url, **headers)  # warm the session (and PostgreSQL's cached search probe)
    counts = []
    for n, start in [(3, 1000), (60, 5000)]:
        _seed(n, start)
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(url, **headers).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


# --- Counts -----------------------------------------------------------------------------------


def _expected_counts(data, user, filters: InboxFilters) -> dict:
    def n(f):
        return len(expected_ids(data, user, f))

    accounts = {}
    for account in [ACCOUNT_A, ACCOUNT_B, ACCOUNT_UNKNOWN, "none"]:
        c = n(InboxFilters(**{**filters.__dict__, "account": account}))
        if c:
            accounts[account] = c
    return {
        "total": n(filters),
        "unread": n(InboxFilters(**{**filters.__dict__, "unread": True})),
        "incoming": n(InboxFilters(**{**filters.__dict__, "direction": "incoming"})),
        "outgoing": n(InboxFilters(**{**filters.__dict__, "direction": "outgoing"})),
        "accounts": accounts,
    }


@pytest.mark.parametrize("filters", [
    InboxFilters(),
    InboxFilters(unread=True),
    InboxFilters(direction="incoming"),
    InboxFilters(account=ACCOUNT_A),
    InboxFilters(account="none", direction="outgoing"),
    InboxFilters(unread=True, direction="incoming", account=ACCOUNT_B),
    InboxFilters(q="invoice"),
    InboxFilters(customer=7001, since=(BASE_TIME - dt.timedelta(days=6)).date()),
], ids=lambda f: f.querystring() or "none")
def test_counts_are_facets_of_the_view(staff_user, inbox_data, filters):
    inbox_data.mark(staff_user, next(m for m in inbox_data.messages if m.is_new_message).pk, is_read=True)
    inbox_data.mark(staff_user, next(m for m in inbox_data.messages if not m.is_new_message).pk, is_read=False)
    counts = message_counts(user=staff_user, filters=filters)
    expected = _expected_counts(inbox_data, staff_user, filters)
    assert counts.total == expected["total"]
    assert counts.unread == expected["unread"]
    assert (counts.incoming, counts.outgoing) == (expected["incoming"], expected["outgoing"])
    assert {a.account: a.count for a in counts.accounts} == expected["accounts"]


def test_counts_fragment_and_page(staff_client, staff_user, inbox_data):
    expected = _expected_counts(inbox_data, staff_user, InboxFilters())
    html = staff_client.get("/inbox/counts/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html
    assert f'data-count="unread">{expected["unread"]}<' in html
    assert f'data-account="none">{expected["accounts"]["none"]}<' in html
    assert "Account 999" in html and "Default location settings" in html
    page = staff_client.get("/inbox/counts/").content.decode()  # without JavaScript: a page
    assert "<html" in page and "Back to the inbox" in page


def test_counts_are_cached_but_a_persons_marks_show_at_once(staff_user, inbox_data, settings):
    settings.INBOX_COUNTS_CACHE_SECONDS = 60
    cache.clear()
    view = InboxFilters(since=(BASE_TIME - dt.timedelta(days=60)).date())  # counted with GROUP BY, then cached
    first = cached_message_counts(user=staff_user, filters=view)
    in_view = expected_ids(inbox_data, staff_user, view)
    changed = next(m for m in inbox_data.messages if m.pk in in_view)  # its direction changes below
    CoworkerMessage.objects.filter(pk=changed.pk).update(incoming=not changed.incoming)
    new = next(m for m in inbox_data.messages if m.is_new_message and m.pk in in_view)
    inbox_data.mark(staff_user, new.pk, is_read=True)
    second = cached_message_counts(user=staff_user, filters=view)
    assert second.incoming == first.incoming  # the shared part came from the cache
    assert second.unread == first.unread - 1  # the person's own read did not wait for it
    # The whole mirror's counts come from the tally: always current, never cached.
    before = cached_message_counts(user=staff_user, filters=InboxFilters())
    CoworkerMessage.objects.filter(pk=changed.pk).update(incoming=changed.incoming)
    after = cached_message_counts(user=staff_user, filters=InboxFilters())
    assert after.incoming == before.incoming + (1 if changed.incoming else -1)


def test_counts_survive_a_broken_cache(staff_user, inbox_data, settings, monkeypatch):
    from django.core.cache import cache

    from inbox.platform import cache as platform_cache

    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get", broken)
    monkeypatch.setattr(cache, "set", broken)
    platform_cache.reset()
    view = InboxFilters(since=(BASE_TIME - dt.timedelta(days=60)).date())  # a cached kind of view
    counts = cached_message_counts(user=staff_user, filters=view)
    assert counts.total == len(inbox_data.messages)
    assert platform_cache.is_down()  # and the cache is left alone for a while


# --- Live -------------------------------------------------------------------------------------


def _live(client, filters: InboxFilters, newest: str):
    return client.get(reverse("inbox-live"), {**filters.to_params(), "newest": newest}, HTTP_HX_REQUEST="true")


def test_live_announces_new_messages_of_the_view(staff_client, inbox_data, django_assert_max_num_queries):
    html = staff_client.get("/?direction=incoming").content.decode()
    newest = re.search(r'hx-get="/inbox/live/\?[^"]*newest=([^"&]+)&amp;shown=0"', html).group(1)
    assert "new message" not in _live(staff_client, InboxFilters(direction="incoming"), newest).content.decode()

    later = BASE_TIME + dt.timedelta(minutes=5)
    CoworkerMessage.objects.bulk_create([
        build_message(created_on=later, incoming=True),
        build_message(created_on=later, incoming=True),
        build_message(created_on=later, incoming=False),  # not in this view
    ])
    with django_assert_max_num_queries(3):  # session, user, one count
        response = _live(staff_client, InboxFilters(direction="incoming"), newest)
    html = response.content.decode()
    assert "2 new messages" in html
    assert 'hx-get="/?direction=incoming"' in html and 'hx-target="#results"' in html
    assert 'hx-trigger="every' in html  # it keeps polling


def test_live_ignores_a_bad_cursor(staff_client, inbox_data):
    response = _live(staff_client, InboxFilters(), "garbage")
    assert response.status_code == 200 and "new message" not in response.content.decode()


def test_live_on_an_empty_view_counts_what_arrives(staff_client, db):
    assert "new message" not in _live(staff_client, InboxFilters(), "").content.decode()
    CoworkerMessage.objects.bulk_create([build_message()])
    assert "1 new message" in _live(staff_client, InboxFilters(), "").content.decode()


def test_the_tally_follows_every_kind_of_write(staff_user, inbox_data):
    """The unfiltered counts come from a tally kept by triggers: it must equal a real count after
    inserts, upserts that change counted columns, soft deletes, undeletes and deletes."""
    from inbox.mailbox.counts import _flag_sample, _tally, rebuild_tally

    def real() -> dict:
        groups = {}
        for key in CoworkerMessage.objects.filter(deleted_at__isnull=True).values_list(
                "email_account_id", "incoming", "is_new_message", "awaiting_reply"):
            groups[key] = groups.get(key, 0) + 1
        return groups

    assert _tally() == real()
    first, second, third = inbox_data.messages[:3]
    CoworkerMessage.objects.bulk_create(
        [build_message(id=first.pk, created_on=first.created_on, incoming=not first.incoming,
                       is_new_message=not first.is_new_message, email_account_id=None),
         build_message(id=777777, email_account_id=ACCOUNT_B)],
        update_conflicts=True, unique_fields=["id"], update_fields=["incoming", "is_new_message", "email_account_id"],
    )
    CoworkerMessage.objects.filter(pk=second.pk).update(deleted_at=BASE_TIME)
    CoworkerMessage.objects.filter(pk=inbox_data.deleted[0].pk).update(deleted_at=None)
    CoworkerMessage.objects.filter(pk=third.pk).delete()
    CoworkerMessage.objects.filter(pk=777777).update(subject="no counted column changed")
    assert _tally() == real()
    CoworkerMessage.objects.filter(pk=inbox_data.messages[4].pk).update(awaiting_reply=True)
    CoworkerMessage.objects.filter(pk=inbox_data.messages[5].pk).update(awaiting_reply=True, deleted_at=BASE_TIME)
    assert _tally() == real()
    assert _flag_sample(InboxFilters()).groups == real()
    rebuild_tally()
    assert _tally() == real()


def test_live_redraws_nothing_while_what_it_shows_is_still_true(staff_client, inbox_data):
    """The poll says how many new messages its page shows (shown=): the same number again is an
    empty 204 (htmx swaps nothing, the banner under someone's focus stays the same element); a new
    number is drawn, with the new shown=; a bad shown= is as none."""
    html = staff_client.get("/").content.decode()
    url = unescape(re.search(r'<div id="live" class="live" hx-get="([^"]+)"', html).group(1))
    assert url.endswith("&shown=0")
    quiet = staff_client.get(url, HTTP_HX_REQUEST="true")
    assert quiet.status_code == 204 and quiet.content == b""
    CoworkerMessage.objects.bulk_create([build_message(created_on=BASE_TIME + dt.timedelta(minutes=5))])
    drawn = staff_client.get(url, HTTP_HX_REQUEST="true")
    assert drawn.status_code == 200 and "1 new message" in drawn.content.decode()
    again = unescape(re.search(r'hx-get="(/inbox/live/[^"]+)"', drawn.content.decode()).group(1))
    assert again.endswith("&shown=1")
    assert staff_client.get(again, HTTP_HX_REQUEST="true").status_code == 204
    for bad in ("x", "-1", "", "1e3", "١"):
        response = staff_client.get(url.replace("shown=0", f"shown={bad}"), HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and "1 new message" in response.content.decode(), bad
