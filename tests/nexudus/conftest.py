"""Fixtures of the client's tests: a faked Nexudus (``responses``), recorded sleeps, a settable clock."""

from __future__ import annotations

import pytest
import responses

from inbox.nexudus import NexudusClient
from tests.nexudus.fake_api import BASE, PASSWORD, USERNAME, Clock


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_client(sleeps, clock):
    def make(**overrides) -> NexudusClient:
        options = dict(
            base_url=BASE, username=USERNAME, password=PASSWORD, page_size=50, sleep=sleeps.append,
            connect_timeout=3, read_timeout=30, max_attempts=4, backoff_base=0.5, backoff_max=4.0,
            max_retry_after=10.0, clock=clock,
        )
        options.update(overrides)
        return NexudusClient(**options)

    return make
