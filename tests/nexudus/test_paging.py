"""Walking pages: the envelope, the granted size, and servers that page wrongly."""

from __future__ import annotations

import pytest

from inbox.nexudus import NexudusError
from tests.nexudus.fake_api import (
    MESSAGES_URL,
    api_calls,
    first_page,
    msg,
    page,
    query,
    token_ok,
)

pytestmark = pytest.mark.timeout(30)


def test_paging_follows_has_next_page_and_reads_the_granted_size(rsps, make_client):
    token_ok(rsps)
    # Asked for 5 a page; the server grants 2.
    rsps.get(MESSAGES_URL, json=page([msg(1), msg(2)], page=1, size=2, has_next=True, TotalItems=5))
    rsps.get(MESSAGES_URL, json=page([msg(3), msg(4)], page=2, size=2, has_next=True, TotalItems=5))
    rsps.get(MESSAGES_URL, json=page([msg(5)], page=3, size=2, has_next=False, TotalItems=5))
    client = make_client()

    pages = list(client.iter_message_pages(page_size=5))

    assert [[r.id for r in p.records] for p in pages] == [[1, 2], [3, 4], [5]]
    assert [p.page_size for p in pages] == [2, 2, 2] and pages[0].total_items == 5
    asked = [(query(c)["page"], query(c)["size"]) for c in api_calls(rsps)]
    assert asked == [(["1"], ["5"]), (["2"], ["2"]), (["3"], ["2"])]
    assert client.requests_made == 4


def test_start_page(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(7)], page=4, size=10, has_next=False))

    pages = list(make_client().iter_message_pages(start_page=4, page_size=10))

    assert pages[0].page == 4 and query(api_calls(rsps)[0])["page"] == ["4"]


@pytest.mark.parametrize(
    "first, expect_second",
    [
        ({"TotalPages": 2}, True),
        ({"TotalPages": 1}, False),
        ({"TotalItems": 3}, True),
        ({"TotalItems": 2}, False),
        ({}, True),  # a full page and nothing else said: ask for the next one
    ],
)
def test_missing_has_next_page_is_inferred(rsps, make_client, first, expect_second):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json={"Records": [msg(1), msg(2)], "CurrentPage": 1, "CurrentPageSize": 2, **first})
    if expect_second:
        rsps.get(MESSAGES_URL, json={"Records": [msg(3)], "CurrentPage": 2, "CurrentPageSize": 2})

    pages = list(make_client().iter_message_pages(page_size=2))

    assert len(pages) == (2 if expect_second else 1)


def test_envelope_with_almost_nothing_is_tolerated(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json={"Records": [msg(1)]})

    pages = list(make_client().iter_message_pages(page_size=10))

    assert len(pages) == 1 and pages[0].page == 1 and pages[0].page_size == 10 and not pages[0].has_next


def test_has_next_page_with_no_records_stops_with_an_error(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([], has_next=True))

    with pytest.raises(NexudusError, match="no records"):
        list(make_client().iter_message_pages())


def test_a_server_that_ignores_the_page_parameter_is_stopped(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json={"Records": [msg(1), msg(2)], "HasNextPage": True})

    with pytest.raises(NexudusError, match="same page"):
        list(make_client().iter_message_pages(page_size=2))
    assert len(api_calls(rsps)) == 2


def test_a_server_that_answers_another_page_is_stopped(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1)], page=1, size=1, has_next=True))
    rsps.get(MESSAGES_URL, json=page([msg(1)], page=1, size=1, has_next=True))

    with pytest.raises(NexudusError, match="answered page 1 .* page 2 was asked"):
        list(make_client().iter_message_pages(page_size=1))


def test_entries_without_id_are_skipped_and_counted(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1), {"Subject": "no id"}, None, msg(2)]))

    result = first_page(make_client())

    assert [r.id for r in result.records] == [1, 2] and result.skipped == 2


def test_a_bare_array_where_a_page_was_expected_is_tolerated(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=[msg(1), msg(2)])

    result = first_page(make_client())

    assert [r.id for r in result.records] == [1, 2] and not result.has_next


@pytest.mark.parametrize("body", ["text", 42, {"Records": "nope"}])
def test_a_page_that_is_not_an_envelope_is_an_error(rsps, make_client, body):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=body)

    with pytest.raises(NexudusError, match="list page|not a list"):
        first_page(make_client())
