"""The ``dir`` convention: always sent, checked on every page, learnt and shared."""

from __future__ import annotations

import json
import logging

import pytest
import responses

from inbox.nexudus import NexudusError
from tests.nexudus.fake_api import (
    ACCOUNTS_URL,
    BASE,
    BUSINESSES_URL,
    MESSAGES_URL,
    api_calls,
    first_page,
    msg,
    page,
    query,
    query_of,
    token_ok,
)

pytestmark = pytest.mark.timeout(30)


def learn_convention_server(rsps, records, *, echo="int", **extra):
    """A server of the learn.nexudus.com convention: dir=0 ascending, dir=1 descending."""
    def answer(request):
        direction = query_of(request.url).get("dir", ["0"])[0]
        ordered = records if direction == "0" else list(reversed(records))
        echoed = {"int": int(direction), "word": "Ascending" if direction == "0" else "Descending",
                  "none": ...}[echo]
        return 200, {}, json.dumps(page(ordered, CurrentSortDirection=echoed, **extra))

    rsps.add_callback(responses.GET, MESSAGES_URL, callback=answer)


def test_order_by_and_dir_are_always_sent(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([], CurrentOrderField="UpdatedOn"))
    rsps.get(ACCOUNTS_URL, json=page([]))
    rsps.get(BUSINESSES_URL, json=page([]))
    client = make_client()

    list(client.iter_message_pages(order_by="UpdatedOn"))
    list(client.iter_account_pages())
    list(client.iter_business_pages())

    sent = [(query(c)["orderBy"], query(c)["dir"]) for c in api_calls(rsps)]
    assert sent == [(["UpdatedOn"], ["1"]), (["Id"], ["1"]), (["Id"], ["1"])]


@pytest.mark.parametrize("direction", [1, 0, "ASC", "Ascending", None])
def test_ascending_echoes_are_accepted(rsps, make_client, direction):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1), msg(2)], CurrentSortDirection=direction))

    assert len(first_page(make_client()).records) == 2


@pytest.mark.parametrize("echo", ["int", "word", "none"])
def test_a_page_answered_descending_is_asked_again_with_the_other_dir(rsps, make_client, echo, caplog):
    token_ok(rsps)
    learn_convention_server(rsps, [msg(1), msg(2), msg(3)], echo=echo)
    client = make_client()

    with caplog.at_level(logging.INFO, logger="inbox.nexudus.sort"):
        result = first_page(client)

    assert [r.id for r in result.records] == [1, 2, 3]
    assert [query(c)["dir"] for c in api_calls(rsps)] == [["1"], ["0"]]
    assert client.ascending_dir == 0
    assert [r.getMessage() for r in caplog.records if "sorts dir=0 ascending" in r.getMessage()] != []


def test_the_learnt_dir_is_sent_first_from_then_on(rsps, make_client):
    token_ok(rsps)
    learn_convention_server(rsps, [msg(1), msg(2)])
    client = make_client()
    first_page(client)
    first_page(client)

    assert [query(c)["dir"] for c in api_calls(rsps)] == [["1"], ["0"], ["0"]]


def test_a_single_record_with_a_descending_word_switches_too(rsps, make_client):
    token_ok(rsps)
    learn_convention_server(rsps, [msg(1)], echo="word")

    assert [r.id for r in first_page(make_client()).records] == [1]
    assert [query(c)["dir"] for c in api_calls(rsps)] == [["1"], ["0"]]


def test_a_developers_convention_server_is_confirmed_and_kept(rsps, make_client, caplog):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1), msg(2)]))
    client = make_client()

    with caplog.at_level(logging.INFO, logger="inbox.nexudus.sort"):
        first_page(client)

    assert client.dir_convention.memory.get(BASE) == 1
    assert any("sorts dir=1 ascending" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("direction", [-1, "DESC", "descending"])
def test_descending_for_both_dir_values_is_an_error(rsps, make_client, direction):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1)], CurrentSortDirection=direction))

    with pytest.raises(NexudusError, match="descending order for both dir=1 and dir=0"):
        first_page(make_client())
    assert [query(c)["dir"] for c in api_calls(rsps)] == [["1"], ["0"]]


def test_an_override_that_is_answered_descending_says_to_unset_it(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(3), msg(2), msg(1)]))

    with pytest.raises(NexudusError, match="NEXUDUS_SORT_ASCENDING_DIR=1 is set .* unset it"):
        first_page(make_client(ascending_dir=1))
    assert len(api_calls(rsps)) == 1


def test_other_order_field_echo_is_an_error(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1)], CurrentOrderField="Id"))

    with pytest.raises(NexudusError, match="sorted .* by 'Id' although orderBy='UpdatedOn'"):
        next(iter(make_client().iter_message_pages(order_by="UpdatedOn")))


def test_records_in_descending_order_are_detected_even_with_an_ambiguous_echo(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(3), msg(2), msg(1)], CurrentSortDirection=1))
    rsps.get(MESSAGES_URL, json=page([msg(1), msg(2), msg(3)], CurrentSortDirection=0))

    assert [r.id for r in first_page(make_client()).records] == [1, 2, 3]
    assert [query(c)["dir"] for c in api_calls(rsps)] == [["1"], ["0"]]


def test_updated_on_order_is_checked_on_the_records(rsps, make_client):
    token_ok(rsps)
    newer, older = msg(1, UpdatedOn="2025-01-02T00:00:00Z"), msg(2, UpdatedOn="2025-01-01T00:00:00Z")
    rsps.get(MESSAGES_URL, json=page([newer, older], CurrentOrderField="UpdatedOn"))
    rsps.get(MESSAGES_URL, json=page([older, newer], CurrentOrderField="UpdatedOn"))

    result = next(iter(make_client().iter_message_pages(order_by="UpdatedOn")))

    assert [r.id for r in result.records] == [2, 1]


def test_a_server_that_turns_descending_mid_walk_stops_the_walk_and_forgets(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1), msg(2)], has_next=True, size=2))
    rsps.get(MESSAGES_URL, json=page([msg(4), msg(3)], page=2, size=2))
    client = make_client()
    pages = client.iter_message_pages(page_size=2)

    assert [r.id for r in next(pages).records] == [1, 2]
    with pytest.raises(NexudusError, match="in the middle of a walk"):
        next(pages)
    assert client.dir_convention.memory.get(BASE) is None


def test_the_convention_is_shared_through_redis(rsps, make_client, redis_client, caplog):
    from inbox.nexudus.sort import RedisSortMemory

    redis_client.delete("test:dir:" + BASE)
    token_ok(rsps)
    learn_convention_server(rsps, [msg(1), msg(2)])
    first = make_client(sort_memory=RedisSortMemory(redis_client, prefix="test:dir:"))
    second = make_client(sort_memory=RedisSortMemory(redis_client, prefix="test:dir:"))

    with caplog.at_level(logging.INFO, logger="inbox.nexudus.sort"):
        first_page(first)
        first_page(second)

    assert [query(c)["dir"] for c in api_calls(rsps)] == [["1"], ["0"], ["0"]]
    assert len([r for r in caplog.records if "sorts dir=0" in r.getMessage()]) == 1
    redis_client.delete("test:dir:" + BASE)


def test_configured_ascending_dir_is_sent(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([]))

    first_page(make_client(ascending_dir=0))

    assert query(api_calls(rsps)[0])["dir"] == ["0"]
