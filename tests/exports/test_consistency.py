"""The export is the inbox view: for the same URL, the same ids in the same order, over every page."""

from __future__ import annotations

import datetime as dt
import random
import re
from html import unescape
from urllib.parse import parse_qs

import pytest

from inbox.mailbox.filters import InboxFilterForm
from inbox.models import MessageMark
from inbox.mailbox.selectors import message_list, page_after
from tests.exports.fixtures import read_csv, response_bytes
from tests.factories import make_account, make_mixed_messages

QUERIES = [
    "",
    "unread=1",
    "direction=incoming",
    "direction=outgoing",
    "account=11",
    "account=none",
    "customer=102",
    "q=invoice",
    "q=hello+parking",
    "since=2026-11-05",
    "until=2026-11-10",
    "since=2026-11-03&until=2026-11-12",
    "unread=1&direction=incoming",
    "unread=1&direction=outgoing&account=12",
    "account=none&direction=incoming&q=wifi",
    "customer=104&since=2026-11-02&unread=1",
    "unread=1&direction=incoming&account=11&customer=101&q=booking&since=2026-11-01&until=2026-11-20",
    "after=not-a-cursor&direction=incoming",  # the paging cursor never narrows the export
]
PAGE_SIZE = 7


@pytest.fixture
def mailbox(staff_user, django_user_model):
    make_account(id=11, display_name="Front desk")
    make_account(id=12, display_name="Events")
    messages = make_mixed_messages(400, start=dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC))  # the days of QUERIES
    # The person's own marks change what is unread for them (and only for them).
    rng = random.Random(3)
    other = django_user_model.objects.create_user(username="other", password="x-pass-123")
    for message in rng.sample(messages, 120):
        MessageMark.objects.create(user=staff_user, message=message, is_read=rng.random() < 0.5)
    for message in rng.sample(messages, 120):
        MessageMark.objects.create(user=other, message=message, is_read=rng.random() < 0.5)
    return messages


def listed_ids(*, user, query: str) -> list[int]:
    """Walk the inbox page by page (keyset), as the list shows it, until there is no next page."""
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items() if k != "after"}
    form = InboxFilterForm(params)
    assert form.is_valid(), form.errors
    qs = message_list(user=user, filters=form.filters)
    ids, cursor, pages = [], None, 0
    while True:
        page = page_after(qs, cursor, PAGE_SIZE)
        ids += [m.pk for m in page.rows]
        pages += 1
        if not page.has_next:
            return ids
        cursor = page.next_cursor


@pytest.fixture(params=["cursor", "keyset"])
def reading(request, monkeypatch):
    """Both ways the export reads: one streaming cursor, or keyset batches (PostgreSQL without
    server-side cursors). Tiny batches, so that every view takes many of them."""
    monkeypatch.setattr("inbox.exports.messages.DB_CHUNK_SIZE", 7)
    if request.param == "keyset":
        monkeypatch.setattr("inbox.exports.messages.server_side_cursors", lambda connection: False)
    return request.param


@pytest.mark.django_db
@pytest.mark.parametrize("query", QUERIES)
def test_export_ids_equal_the_listed_ids_in_order(staff_client, staff_user, mailbox, reading, query):
    listed = listed_ids(user=staff_user, query=query)
    response = staff_client.get("/export.csv?" + query)
    assert response.status_code == 200
    rows = read_csv(response_bytes(response))
    exported = [int(r[0]) for r in rows[1:]]
    assert exported == listed
    assert listed, "a combination that selects nothing would prove nothing"
    assert len(exported) == len(set(exported))
    if query in ("", "direction=incoming", "unread=1"):
        assert len(listed) > 3 * PAGE_SIZE  # many pages, not one


@pytest.mark.django_db
def test_the_unread_column_matches_the_unread_filter(staff_client, mailbox):
    everything = read_csv(response_bytes(staff_client.get("/export.csv")))[1:]
    unread = read_csv(response_bytes(staff_client.get("/export.csv?unread=1")))[1:]
    assert [r[0] for r in everything if r[4] == "yes"] == [r[0] for r in unread]
    assert {r[4] for r in unread} == {"yes"}
    assert 0 < len(unread) < len(everything)


ROW = re.compile(r'<li id="msg-(\d+)"[^>]*data-unread="([01])"')
OLDER = re.compile(r'<li id="more"[^>]*>\s*<a href="([^"]+)"')


def page_walk(client, query: str) -> list[tuple[int, str]]:
    """(id, unread) of every row the inbox page shows for ``query``, following "Older messages"
    links from page to page as a person without JavaScript would."""
    seen, url = [], "/?" + query
    for _ in range(500):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        seen += [(int(pk), "yes" if unread == "1" else "no") for pk, unread in ROW.findall(html)]
        older = OLDER.search(html)
        if not older:
            return seen
        url = unescape(older.group(1))
    raise AssertionError("the inbox never reached its last page")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["", "unread=1", "direction=outgoing&account=11", "account=none&q=invoice", "customer=103&since=2026-11-04"],
)
def test_the_export_is_what_the_inbox_page_shows_page_after_page(staff_client, mailbox, settings, query):
    settings.INBOX_PAGE_SIZE = 9
    shown = page_walk(staff_client, query)
    rows = read_csv(response_bytes(staff_client.get("/export.csv?" + query)))[1:]
    assert [(int(r[0]), r[4]) for r in rows] == shown
    assert len(shown) > 9  # more than one page


@pytest.mark.django_db
def test_the_button_url_exports_what_the_page_shows_even_with_an_ignored_filter(staff_client, mailbox, settings):
    """The inbox ignores a bad filter (and says so); the export refuses it with a 400. So the
    "Export CSV" button carries the page's *valid* filters (``filters.querystring``), not the raw
    address: what it downloads is what the page shows."""
    settings.INBOX_PAGE_SIZE = 25
    query = "unread=1&direction=sideways&since=2026-11-03&after=whatever"
    assert staff_client.get("/export.csv?" + query).status_code == 400
    form = InboxFilterForm({k: v[-1] for k, v in parse_qs(query).items()})
    button = "/export.csv?" + form.filters.querystring()
    assert "direction" not in button and "after" not in button
    rows = read_csv(response_bytes(staff_client.get(button)))[1:]
    assert [(int(r[0]), r[4]) for r in rows] == page_walk(staff_client, query.replace("&after=whatever", ""))
