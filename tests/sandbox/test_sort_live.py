"""The Nexudus client against the sandbox's two ``dir`` conventions, over real HTTP (a live server).

``Config.dir_convention`` and ``Config.sort_direction_echo`` let the client's discovery of the
convention be tried against each combination: from the records' own order, and from the
``CurrentSortDirection`` echo when a page's records cannot tell (a page of one record).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from inbox.nexudus import NexudusClient, NexudusError
from inbox.nexudus.configured import nexudus_client
from inbox.nexudus.sort import ProcessSortMemory
from sandbox import services as sandbox

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "sandbox"]),
    pytest.mark.timeout(120),
]

ASCENDING_DIR = {"developers": 1, "learn": 0}


@pytest.fixture
def make_client(live_server):
    sandbox.seed(accounts=4, customers=10, messages=60, seed=5, now=datetime(2025, 6, 30, 12, 0, tzinfo=timezone.utc))
    made = []

    def make(**overrides) -> NexudusClient:
        # A memory of its own: what one test's client learns must not carry over to the next.
        options = dict(base_url=live_server.url + "/sandbox", page_size=20, share_tokens=False,
                       ascending_dir=None, sort_memory=ProcessSortMemory())
        client = nexudus_client(**{**options, **overrides})
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def walk_ids(client: NexudusClient, **params) -> list[int]:
    return [record.id for page in client.iter_message_pages(**params) for record in page.records]


@pytest.mark.parametrize("echo", ["integer", "word", "omit"])
@pytest.mark.parametrize("convention", ["developers", "learn"])
def test_the_client_finds_the_convention_from_the_records(make_client, convention, echo):
    sandbox.configure(dir_convention=convention, sort_direction_echo=echo)
    client = make_client()
    assert walk_ids(client) == sandbox.message_ids()
    assert client.ascending_dir == ASCENDING_DIR[convention]


@pytest.mark.parametrize("convention", ["developers", "learn"])
def test_a_word_echo_tells_when_the_records_cannot(make_client, convention):
    """Pages of one record have no order of their own: the echoed word is the evidence."""
    sandbox.configure(dir_convention=convention, sort_direction_echo="word")
    client = make_client()
    first = next(iter(client.iter_message_pages(page_size=1)))
    assert [record.id for record in first.records] == sandbox.message_ids()[:1]
    assert client.ascending_dir == ASCENDING_DIR[convention]


def test_a_pinned_dir_the_server_reads_the_other_way_is_refused(make_client):
    sandbox.configure(dir_convention="learn")
    with pytest.raises(NexudusError, match="NEXUDUS_SORT_ASCENDING_DIR=1 is set"):
        walk_ids(make_client(ascending_dir=1))


def test_dir_0_is_ascending_under_the_developers_convention_too(make_client):
    sandbox.configure(dir_convention="developers")
    assert walk_ids(make_client(ascending_dir=0)) == sandbox.message_ids()
