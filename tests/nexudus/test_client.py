"""Reading one record, a batch of them, and the businesses.

The client's ``sleep`` is a list's ``append``: waits are asserted, not slept.
"""

from __future__ import annotations

import pytest

from inbox.nexudus import NexudusError, NexudusNotFound
from tests.nexudus.fake_api import (
    ACCOUNTS_URL,
    BUSINESSES_URL,
    MESSAGES_URL,
    api_calls,
    first_page,
    msg,
    page,
    query,
    token_ok,
)

pytestmark = pytest.mark.timeout(30)


def test_get_one_and_its_404(rsps, make_client, sleeps):
    token_ok(rsps)
    rsps.get(f"{MESSAGES_URL}/42", json=msg(42, Body="<p>Hi</p>"))
    rsps.get(f"{ACCOUNTS_URL}/7", json={"Id": 7, "DisplayName": "Front desk", "GoogleAccessToken": "tok"})
    rsps.get(f"{MESSAGES_URL}/43", status=404)
    client = make_client()

    assert client.get_message(42).body == "<p>Hi</p>"
    account = client.get_account(7)
    assert account.display_name == "Front desk" and account.has_google_token
    with pytest.raises(NexudusNotFound, match="CoworkerMessage 43"):
        client.get_message(43)
    assert sleeps == []  # a 404 is an answer, not a fault


def test_list_404_points_at_the_base_url(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=404)

    with pytest.raises(NexudusError, match="NEXUDUS_API_URL") as caught:
        first_page(make_client())
    assert not isinstance(caught.value, NexudusNotFound)


def test_batch_get_chunks_and_returns_only_existing(rsps, make_client):
    token_ok(rsps)
    ids = list(range(1, 251)) + [5, 6]  # duplicates asked once
    for chunk in (range(1, 101), range(101, 201), range(201, 251)):
        rsps.get(f"{MESSAGES_URL}/", json=[msg(i) for i in chunk if i % 3])  # some do not exist
    client = make_client()

    found = client.get_messages(ids)

    assert [r.id for r in found] == [i for i in range(1, 251) if i % 3]
    calls = api_calls(rsps)
    assert len(calls) == 3
    assert query(calls[0])["id"] == ["[" + ",".join(map(str, range(1, 101))) + "]"]
    assert query(calls[2])["id"] == ["[" + ",".join(map(str, range(201, 251))) + "]"]
    assert calls[0].request.url.startswith(f"{MESSAGES_URL}/?id=%5B1%2C2%2C3%2C")


def test_batch_get_of_nothing_sends_nothing(rsps, make_client):
    assert make_client().get_messages([]) == []
    assert len(rsps.calls) == 0


def test_batch_accounts_tolerates_an_envelope(rsps, make_client):
    token_ok(rsps)
    rsps.get(f"{ACCOUNTS_URL}/", json={"Records": [{"Id": 1}, {"Id": 2}]})

    assert [a.id for a in make_client().get_accounts([1, 2, 3])] == [1, 2]


def test_businesses(rsps, make_client):
    token_ok(rsps)
    rsps.get(BUSINESSES_URL, json=page([{"Id": 1, "Name": "Dublin"}, {"Id": 2, "Name": None}]))

    [result] = list(make_client().iter_business_pages())

    assert [(b.id, b.name) for b in result.records] == [(1, "Dublin"), (2, None)]
