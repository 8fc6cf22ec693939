"""Backing off from a sick Nexudus: beat's routine runs wait longer after each failed run.

The sandbox (over real HTTP) fails every API answer (``failure_rate=1.0``) for five minutes while
beat's task is called as beat calls it, every 10 s of a clock the test moves (``timezone.now``),
so that minutes pass in a second. The requests that reached the sandbox are counted per minute.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import SyncRun
from inbox.sync import tasks
from inbox.sync.runs.backoff import backoff_for, delay_after
from sandbox import guard
from sandbox import services as sandbox
from tests.sync.fixtures import (  # noqa: F401 (fixtures)
    BOTH_DBS,
    nexudus_sandbox,
    seeded,
)

pytestmark = [pytest.mark.django_db(transaction=True, databases=BOTH_DBS), pytest.mark.timeout(180)]

TICK = 10  # seconds between beat's runs, as in the operator's test


class MovedClock:
    """``timezone.now`` as the test moves it."""

    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    moved = MovedClock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr(timezone, "now", moved)
    return moved


@pytest.fixture
def api_requests(monkeypatch):
    """Requests that reached the sandbox's API, by the moved clock's time."""
    seen: list = []
    real = guard.over_rate_limit
    lock = threading.Lock()

    def counted(config):
        with lock:
            seen.append(timezone.now())
        return real(config)

    monkeypatch.setattr(guard, "over_rate_limit", counted)
    return seen


def beat_tick(resource: str = "messages") -> None:
    if resource == "messages":
        tasks.sync_messages.apply(kwargs={"trigger": "beat"})
    else:
        tasks.sync_accounts.apply(kwargs={"trigger": "beat"})


def per_minute(moments, start, minutes: int) -> list[int]:
    counts = [0] * minutes
    for moment in moments:
        index = int((moment - start).total_seconds() // 60)
        if 0 <= index < minutes:
            counts[index] += 1
    return counts


def test_the_delay_doubles_from_the_base_up_to_the_maximum(settings):
    settings.SYNC_BACKOFF_BASE, settings.SYNC_BACKOFF_MAX = 30, 900
    assert [delay_after(n).total_seconds() for n in range(0, 8)] == [0, 30, 60, 120, 240, 480, 900, 900]
    assert delay_after(10_000).total_seconds() == 900


def test_beat_backs_off_from_a_failing_nexudus_and_comes_back_by_itself(seeded, settings, clock, api_requests,
                                                                           client, admin_user):
    settings.NEXUDUS_MAX_ATTEMPTS = 6
    settings.SYNC_BACKOFF_BASE, settings.SYNC_BACKOFF_MAX = 30, 900
    settings.HEALTHZ_MAX_SYNC_FAILING = 240
    first = tasks.sync_messages.apply(kwargs={"trigger": "beat"})  # a healthy start
    assert first.successful() and SyncRun.objects.get().status == "success"
    api_requests.clear()
    sandbox.set_faults(failure_rate=1.0)
    outage_start = clock.now
    try:
        for _ in range(5 * 60 // TICK):  # five minutes of beat
            clock.now += timedelta(seconds=TICK)
            beat_tick()
    finally:
        sandbox.set_faults()
    counts = per_minute(api_requests, outage_start, 5)
    failed = SyncRun.objects.filter(status="failed")
    print(f"\nrequests a minute during a 5-minute outage, beat every {TICK} s: {counts} "
          f"({failed.count()} failed runs of {5 * 60 // TICK} beats)")
    assert all(r.error_kind == "unavailable" for r in failed)
    assert counts[0] <= 2 * 6 and sum(counts[2:]) <= 2 * 6  # without backoff: 6 runs x 6 = 36 every minute
    assert counts[-1] < counts[0]
    backoff = backoff_for("messages")
    assert backoff.failures == failed.count() and backoff.since == failed.order_by("pk").first().started_at
    assert backoff.next_try > clock.now  # still waiting: beat's run now is skipped without a request

    # /healthz: failing for longer than HEALTHZ_MAX_SYNC_FAILING, though the last success is not old.
    response = client.get("/healthz")
    body = response.json()["sync"]["messages"]
    assert response.status_code == 503 and body["ok"] is False and body["age_seconds"] < settings.HEALTHZ_MAX_SYNC_AGE
    assert body["backoff"] == {"failures": backoff.failures, "since": backoff.since.isoformat(),
                               "next_try": backoff.next_try.isoformat()}
    # /sync/: the card says so.
    client.force_login(admin_user)
    page = client.get("/sync/").content.decode()
    assert f"Nexudus has failed {backoff.failures} times since" in page and "next try at" in page
    # One sentence for when and why, then beat's own rhythm, said as what it is while backing off.
    assert re.search(r"backing off while Nexudus fails</span> <span class=\"muted\">\(otherwise every minute\)", page), page

    # Nexudus is back: the next try succeeds by itself, and the backoff is over.
    runs_before = SyncRun.objects.count()
    while clock.now < backoff.next_try:
        clock.now += timedelta(seconds=TICK)
        beat_tick()
    assert SyncRun.objects.count() == runs_before + 1
    assert SyncRun.objects.order_by("pk").last().status == "success"
    assert backoff_for("messages") is None
    assert client.get("/healthz").json()["sync"]["messages"]["backoff"] is None


def test_sync_now_still_tries_at_once_and_counts(seeded, settings, clock, api_requests):
    settings.NEXUDUS_MAX_ATTEMPTS = 2
    settings.SYNC_TASK_MAX_RETRIES = 0
    sandbox.set_faults(failure_rate=1.0)
    try:
        beat_tick()
        beat_tick()  # backing off: skipped, no run, no request
        assert SyncRun.objects.count() == 1 and len(api_requests) == 1 + 2  # the token, 2 attempts
        run = SyncRun.objects.create(resource="messages", mode="incremental", status="queued", trigger="admin")
        tasks.sync_messages.apply(kwargs={"mode": "incremental", "run_id": run.pk, "trigger": "admin"})
    finally:
        sandbox.set_faults()
    run.refresh_from_db()
    assert run.status == "failed" and run.error_kind == "unavailable" and len(api_requests) == 3 + 2
    assert backoff_for("messages").failures == 2


def test_accounts_back_off_on_their_own(seeded, settings, clock):
    settings.NEXUDUS_MAX_ATTEMPTS = 1
    sandbox.set_faults(failure_rate=1.0)
    try:
        beat_tick("accounts")
        clock.now += timedelta(seconds=10)
        beat_tick("accounts")
        beat_tick("messages")  # its own resource: not held back by the accounts' failures
    finally:
        sandbox.set_faults()
    assert list(SyncRun.objects.order_by("pk").values_list("resource", flat=True)) == ["accounts", "messages"]
    assert backoff_for("accounts").failures == 1


def test_refused_credentials_back_off_too(settings, db):
    """A wrong password fails the same way until someone changes it: tried every minute, it is
    a failed sign-in at Nexudus every minute, which can lock the API user out."""
    settings.SYNC_BACKOFF_BASE, settings.SYNC_BACKOFF_MAX = 60, 900
    now = timezone.now()
    for minutes in (3, 2):
        at = now - timedelta(minutes=minutes)
        SyncRun.objects.create(resource="messages", mode="incremental", status="failed", error_kind="credentials",
                               started_at=at, finished_at=at)
    backoff = backoff_for("messages")
    assert backoff.failures == 2 and backoff.next_try == now - timedelta(minutes=2) + timedelta(seconds=120)


def test_other_failures_do_not_back_off(settings, db):
    now = timezone.now()
    for kind in ("worker", "database", "error"):
        SyncRun.objects.create(resource="messages", mode="incremental", status="failed", error_kind=kind,
                               started_at=now, finished_at=now)
    SyncRun.objects.create(resource="messages", mode="incremental", status="failed", error_kind="unavailable",
                           finished_at=now)  # never started: no worker, or Redis down
    assert backoff_for("messages") is None


def test_while_backing_off_the_next_run_is_beats_first_one_not_skipped():
    """Beat runs every minute; its runs before the backoff's next try are skipped, so the page
    names the first one at or after it, not the one due in a few seconds that will be skipped."""
    from inbox.sync.runs.backoff import Backoff
    from inbox.sync.selectors import ResourceState

    now = timezone.now().replace(microsecond=0)
    backoff = Backoff(failures=2, since=now - timedelta(minutes=3), last_failure=now - timedelta(seconds=20),
                      next_try=now + timedelta(seconds=75))
    state = ResourceState(resource="messages", label="Messages", latest=None, last_success=None,
                          next_run=now + timedelta(seconds=10), interval=timedelta(minutes=1), next_full=None,
                          now=now, backoff=backoff)
    assert state.next_try_run == now + timedelta(seconds=130)  # those at 10 s and 70 s are skipped
    assert state.next_run_text == "in 2 min, backing off while Nexudus fails"
    state.backoff = Backoff(failures=1, since=now, last_failure=now, next_try=now - timedelta(seconds=1))
    assert state.next_run_text == "in under 1 min"  # the backoff is over: beat's next run goes ahead
