"""Throttling is not failure: syncs against a sandbox that throttles a third of the requests.

Two syncs run at once in two threads, each with its own client, sharing the Redis rate limiter as
two workers do. Every request's arrival is recorded at the sandbox (it runs in this process, in the
live server's threads), so the test sees what the server saw: never more than the budget in any
sliding minute, and every run succeeds.
"""

from __future__ import annotations

import threading
import time

import pytest

from inbox.nexudus import clear_shared_tokens, configured
from inbox.sync import services as sync
from sandbox import guard
from sandbox import services as sandbox
from tests.sync.fixtures import (  # noqa: F401 (fixtures)
    BOTH_DBS,
    assert_mirror_equals_source,
    nexudus_sandbox,
    seeded,
)

pytestmark = [pytest.mark.django_db(transaction=True, databases=BOTH_DBS), pytest.mark.timeout(300)]

BUDGET = 20  # requests a minute: low, so that the syncs need more than one minute's budget


def most_in_a_minute(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - 60.0:
            start += 1
        best = max(best, end - start + 1)
    return best


class Arrivals(list):
    """The moment each request reached the sandbox, and how many it answered 409."""

    throttled = 0


@pytest.fixture
def arrivals(monkeypatch):
    seen = Arrivals()
    real_check, real_throttled = guard.over_rate_limit, guard.throttled
    lock = threading.Lock()

    def counted(config):
        with lock:
            seen.append(time.time())
        return real_check(config)

    def throttled():
        with lock:
            seen.throttled += 1
        return real_throttled()

    monkeypatch.setattr(guard, "over_rate_limit", counted)
    monkeypatch.setattr(guard, "throttled", throttled)
    return seen


def test_two_syncs_against_a_throttling_sandbox_succeed_inside_the_budget(seeded, settings, arrivals):
    settings.NEXUDUS_PAGE_SIZE = 20  # 21 pages of messages, besides the accounts: ~25 answers needed
    settings.NEXUDUS_RATE_PER_SECOND = 10
    settings.NEXUDUS_RATE_PER_MINUTE = BUDGET
    settings.NEXUDUS_RATE_WINDOW_MARGIN = 2.0
    settings.NEXUDUS_MAX_ATTEMPTS = 3  # throttled answers must not use these up
    configured.rate_limiter().reset()  # earlier tests' grants and cool-downs
    clear_shared_tokens()
    sandbox.set_faults(throttle_rate=0.33)
    runs: dict[str, object] = {}
    try:
        threads = [
            threading.Thread(target=lambda: runs.__setitem__("messages", sync.sync_messages(mode="full", trigger="test"))),
            threading.Thread(target=lambda: runs.__setitem__("accounts", sync.sync_accounts(trigger="test"))),
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=280)
        elapsed = time.monotonic() - started
    finally:
        sandbox.set_faults()
        configured.rate_limiter().reset()

    assert set(runs) == {"messages", "accounts"}
    for name, run in runs.items():
        assert run.status == "success", (name, run.error)
    assert_mirror_equals_source()
    print(f"\n{len(arrivals)} requests reached the sandbox in {elapsed:.0f} s ({arrivals.throttled} "
          f"throttled); the most in any minute: {most_in_a_minute(arrivals)} (budget {BUDGET})")
    assert len(arrivals) > BUDGET, "the syncs fitted in one minute's budget: the test proved nothing"
    assert arrivals.throttled >= 3, "hardly anything was throttled: the test proved nothing"
    assert most_in_a_minute(arrivals) <= BUDGET
