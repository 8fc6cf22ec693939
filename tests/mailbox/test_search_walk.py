"""Common search words on SQLite: spelled out as exact words and found by walking the newest rows
(inbox/platform/search.py, first_rows). Whatever the plan, the rows are the view's rows."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.platform import search
from inbox.models import CoworkerMessage
from inbox.mailbox.cursor import Cursor
from inbox.mailbox.filters import InboxFilters
from inbox.mailbox.selectors import message_list, page_after
from tests.factories import BASE_TIME, build_message

pytestmark = pytest.mark.django_db
sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'")


@pytest.fixture
def mixed(db, monkeypatch):
    """120 messages, newest first: "mike"/"mikes" in every second one of the newest 60, then only
    "oscar" words below (a word common overall but absent from a stretch of the list). Their ids
    fall as they get newer: ids that do not follow the dates (the per-row probes' case)."""
    return _mixed(monkeypatch, id_of=lambda i: 50_000 + i)


@pytest.fixture
def mixed_rising(db, monkeypatch):
    """The same messages numbered as Nexudus numbers them: the newer, the higher the id (the case
    of the matches from the window's lowest id up)."""
    return _mixed(monkeypatch, id_of=lambda i: 50_200 - i)


def _mixed(monkeypatch, *, id_of):
    cache.clear()
    monkeypatch.setattr(search, "WALK_WINDOW", 9)
    monkeypatch.setattr(search, "WALK_MIN_SHARE", 0.2)
    monkeypatch.setattr(search, "FEW_MATCHES", 5)
    messages = []
    for i in range(120):
        if i < 60:
            subject = ("mike" if i % 4 == 0 else "mikes report") if i % 2 == 0 else "oscar"
        elif i < 110:
            subject = "oscar"
        else:
            subject = "mike again"  # the oldest ones say it again
        messages.append(build_message(id=id_of(i), subject=subject, body_text="", is_new_message=i % 3 == 0,
                                      incoming=i % 5 != 0, created_on=BASE_TIME - dt.timedelta(minutes=i // 2)))
    CoworkerMessage.objects.bulk_create(messages)
    return messages


def expected(messages, word: str, **flags) -> list[int]:
    rows = [m for m in messages if any(w.startswith(word) for w in m.subject.lower().split())]
    if flags.get("incoming") is not None:
        rows = [m for m in rows if m.incoming == flags["incoming"]]
    return [m.pk for m in sorted(rows, key=lambda m: (m.created_on, m.pk), reverse=True)]


def walk_pages(user, filters: InboxFilters, size: int) -> list[int]:
    seen, cursor = [], None
    while True:
        page = page_after(message_list(user=user, filters=filters), cursor, size)
        seen += [m.pk for m in page.rows]
        if not page.has_next:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize("size", [1, 4, 7, 25])
@pytest.mark.parametrize("filters,word,flags", [
    (InboxFilters(q="mike"), "mike", {}),
    (InboxFilters(q="mik", direction="incoming"), "mik", {"incoming": True}),
])
@pytest.mark.parametrize("numbered", ["mixed", "mixed_rising"])
def test_every_page_is_the_views_rows_whatever_the_plan(request, staff_user, numbered, size, filters, word, flags):
    messages = request.getfixturevalue(numbered)
    assert walk_pages(staff_user, filters, size) == expected(messages, word, **flags)


@sqlite_only
def test_a_common_word_is_walked_within_the_window(staff_user, mixed):
    qs = message_list(user=staff_user, filters=InboxFilters(q="mike"))
    assert search.walkable(qs)
    with CaptureQueriesContext(connection) as ctx:
        page = page_after(qs, None, 3)
    assert [m.pk for m in page.rows] == expected(mixed, "mike")[:3]
    walked = [q["sql"] for q in ctx.captured_queries if "EXISTS (SELECT 1 FROM inbox_message_fts" in q["sql"]]
    assert len(walked) == 1 and '("mike" OR "mikes")' in walked[0], walked


@sqlite_only
def test_where_ids_follow_the_dates_the_window_keeps_the_matches_from_its_lowest_id_up(staff_user, mixed_rising):
    qs = message_list(user=staff_user, filters=InboxFilters(q="mike"))
    with CaptureQueriesContext(connection) as ctx:
        page = page_after(qs, None, 3)
    assert [m.pk for m in page.rows] == expected(mixed_rising, "mike")[:3]
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "EXISTS (SELECT 1 FROM inbox_message_fts" not in sql
    lowest = min(m.pk for m in sorted(mixed_rising, key=lambda m: (m.created_on, m.pk), reverse=True)[: search.WALK_WINDOW])
    walked = [q["sql"] for q in ctx.captured_queries if "MATCH" in q["sql"] and "rowid >= " in q["sql"]]
    assert len(walked) == 1 and '("mike" OR "mikes")' in walked[0] and f"rowid >= {lowest}" in walked[0], walked


@sqlite_only
def test_the_prefix_is_spelled_out_as_the_indexed_words(mixed):
    assert search._spelled_out("default", ["mik"]) == '("mike" OR "mikes")'
    assert search._spelled_out("default", ["mike", "rep"]) == '("mike" OR "mikes") AND ("report")'
    assert search._spelled_out("default", ["zzz"]) is None  # nothing to spell: the prefix query says so
    assert search._spelled_out("default", ["ключи"]) is None  # not ASCII: the tokenizer folds it


@sqlite_only
def test_a_new_word_form_is_found_at_once(staff_user, mixed):
    before = search._spelled_out("default", ["mik"])
    CoworkerMessage.objects.bulk_create([build_message(id=99_999, subject="mikado", body_text="",
                                                       created_on=BASE_TIME + dt.timedelta(hours=1))])
    assert search._spelled_out("default", ["mik"]) != before
    rows = page_after(message_list(user=staff_user, filters=InboxFilters(q="mik")), None, 2).rows
    assert rows[0].pk == 99_999


@sqlite_only
def test_too_many_word_forms_keep_the_prefix(mixed, monkeypatch):
    monkeypatch.setattr(search, "MAX_EXPANSIONS", 1)
    cache.clear()
    assert search._spelled_out("default", ["mik"]) is None
    assert search.sqlite_match_query("default", ["mik"]) == '"mik"*'


def test_deep_pages_walk_from_the_cursor(staff_user, mixed):
    everything = expected(mixed, "mike")
    view = message_list(user=staff_user, filters=InboxFilters(q="mike"))
    deep = next(m for m in mixed if m.pk == everything[10])
    page = page_after(view, Cursor.of(deep), 50)
    assert [m.pk for m in page.rows] == everything[11:]
    assert not page.has_next


def test_the_live_poll_counts_new_matches_whatever_the_plan(staff_user, mixed):
    from inbox.mailbox.selectors import newer_count

    view = InboxFilters(q="mike")
    newest = next(m for m in mixed if m.pk == expected(mixed, "mike")[0])
    assert newer_count(user=staff_user, filters=view, cursor=Cursor.of(newest)) == 0
    later = BASE_TIME + dt.timedelta(hours=2)
    CoworkerMessage.objects.bulk_create([
        build_message(id=70_000 + i, subject="mike" if i % 2 else "oscar", body_text="", created_on=later)
        for i in range(6)
    ])
    with CaptureQueriesContext(connection) as ctx:
        assert newer_count(user=staff_user, filters=view, cursor=Cursor.of(newest)) == 3
    if connection.vendor == "sqlite":
        assert any("EXISTS (SELECT 1 FROM inbox_message_fts" in q["sql"] for q in ctx.captured_queries)
    # Many newer rows (more than the window): the set plan, same answer.
    CoworkerMessage.objects.bulk_create([
        build_message(id=71_000 + i, subject="mike", body_text="", created_on=later) for i in range(12)
    ])
    assert newer_count(user=staff_user, filters=view, cursor=Cursor.of(newest)) == 15


# --- Words with many matches but not common: looked for in a window sized by their share ---------


@pytest.fixture
def not_common(monkeypatch):
    """Every word with many matches is below the share that is walked row by row."""
    monkeypatch.setattr(search, "WALK_MIN_SHARE", 0.95)


@pytest.mark.parametrize("size", [1, 4, 7, 25])
@pytest.mark.parametrize("filters,words,flags", [
    (InboxFilters(q="mike"), ["mike"], {}),
    (InboxFilters(q="mike rep"), ["mike", "rep"], {}),
    (InboxFilters(q="rep mik", direction="outgoing"), ["rep", "mik"], {"incoming": False}),
    (InboxFilters(q="mik", direction="incoming"), ["mik"], {"incoming": True}),
])
@pytest.mark.parametrize("numbered", ["mixed", "mixed_rising"])
@pytest.mark.parametrize("limits", [{}, {"MAX_WINDOW_IDS": 3}, {"MAX_WINDOW": 10}, {"WINDOW_MARGIN": 0.2}])
def test_a_window_sized_by_the_share_gives_the_views_rows(request, monkeypatch, not_common, staff_user, numbered,
                                                          size, filters, words, flags, limits):
    """Whatever the window holds (enough matches, too few: the rest from beyond its edge; ids
    that do not follow the dates: too many ids, the set plan; a window too large: the set plan),
    every page is the view's rows."""
    messages = request.getfixturevalue(numbered)
    for name, value in limits.items():
        monkeypatch.setattr(search, name, value)
    want = [m.pk for m in sorted(
        (m for m in messages if all(any(w.startswith(word) for w in m.subject.lower().split()) for word in words)
         and (flags.get("incoming") is None or m.incoming == flags["incoming"])),
        key=lambda m: (m.created_on, m.pk), reverse=True)]
    assert want and walk_pages(staff_user, filters, size) == want


@sqlite_only
def test_several_words_in_part_of_the_messages_are_read_from_the_windows_ids(staff_user, mixed_rising, not_common):
    qs = message_list(user=staff_user, filters=InboxFilters(q="mike rep"))
    match = search._walk_match(qs)
    assert match is not None and not search.walkable(qs) and match.share == 15 / 120  # "mikes report"
    with CaptureQueriesContext(connection) as ctx:
        page = page_after(qs, None, 3)
    want = [m.pk for m in sorted(mixed_rising, key=lambda m: (m.created_on, m.pk), reverse=True)
            if m.subject == "mikes report"]
    assert [m.pk for m in page.rows] == want[:3]
    window = math.ceil(search.WINDOW_MARGIN * 4 / match.share)  # 4 rows asked for: the page and one more
    newest = sorted(mixed_rising, key=lambda m: (m.created_on, m.pk), reverse=True)
    lowest = min(m.pk for m in newest[:window])
    sql = [q["sql"] for q in ctx.captured_queries]
    ranged = [s for s in sql if "MATCH" in s and f"rowid >= {lowest}" in s]
    assert len(ranged) == 1 and '("mike" OR "mikes") AND ("report")' in ranged[0], sql
    # No query built the words' whole match set, nor probed rows one by one.
    assert not [s for s in sql if "IN (SELECT rowid FROM inbox_message_fts" in s or "EXISTS (SELECT 1 FROM" in s], sql


@sqlite_only
def test_one_word_in_part_of_the_messages_keeps_the_set_plan(staff_user, mixed_rising, not_common):
    """Its whole match set is no larger than a window holding a page of it would be."""
    qs = message_list(user=staff_user, filters=InboxFilters(q="mike"))
    assert search._walk_match(qs) is None
    with CaptureQueriesContext(connection) as ctx:
        page = page_after(qs, None, 3)
    assert [m.pk for m in page.rows] == expected(mixed_rising, "mike")[:3]
    assert any("IN (SELECT rowid FROM inbox_message_fts" in q["sql"] for q in ctx.captured_queries)


@sqlite_only
def test_the_window_says_nothing_is_missing_when_the_view_is_smaller(staff_user, mixed_rising, not_common,
                                                                    monkeypatch):
    monkeypatch.setattr(search, "WINDOW_MARGIN", 1000)  # a window larger than the whole view
    assert search._window_edge(message_list(user=staff_user, filters=InboxFilters(q="mike rep")), 1000)[0] is None
    want = [m.pk for m in sorted(mixed_rising, key=lambda m: (m.created_on, m.pk), reverse=True)
            if m.subject == "mikes report"]
    assert walk_pages(staff_user, InboxFilters(q="mike rep"), 5) == want
