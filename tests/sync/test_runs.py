"""Runs: one at a time under the lock, and those whose worker died, or whose database went away,
noticed, told in true words, started again.

Real database, real Redis; Nexudus is not needed (the sync's work is replaced where it would call
it). The same behaviour with a real worker killed by SIGKILL is in ``test_worker_killed``.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from inbox.models import SyncRun
from inbox.platform.locks import RedisLock, holder_label
from inbox.sync import context as sync_context
from inbox.sync import messages as message_sync
from inbox.sync import queueing, tasks
from inbox.sync import services as sync
from inbox.sync.runs import end as run_end
from inbox.sync.runs.lock import SyncBusy
from inbox.sync.runs.reap import WORKER_STOPPED, reap_dead_runs, superseded_by
from tests.sync.fixtures import (  # noqa: F401 (fixtures)
    BOTH_DBS,
    assert_mirror_equals_source,
    nexudus_sandbox,
    seeded,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH_DBS)


@pytest.fixture
def sent(monkeypatch):
    """The tasks that would go to the broker: (run id, resource, mode, trigger)."""
    queued = []
    monkeypatch.setattr(queueing, "enqueue", lambda *args: queued.append(args))
    return queued


@pytest.fixture
def no_work(monkeypatch):
    """The messages sync's work replaced: it records which runs ran."""
    ran = []
    monkeypatch.setattr(message_sync, "messages_work", lambda ctx, mode: ran.append(ctx.run.pk))
    return ran


@pytest.fixture(autouse=True)
def free_locks():
    yield
    client = RedisLock("sync:messages").client
    client.delete("helpdesk:lock:sync:messages", "helpdesk:lock:sync:accounts")


def dead_run(settings, **fields) -> SyncRun:
    """A run left "running" by a worker killed more than a lease ago."""
    long_ago = timezone.now() - timedelta(seconds=settings.SYNC_LOCK_LEASE + 5)
    options = dict(resource="messages", mode="full", status="running", trigger="admin",
                   started_at=long_ago, heartbeat_at=long_ago)
    options.update(fields)
    return SyncRun.objects.create(**options)


# --- The lease --------------------------------------------------------------------------------


def test_a_page_longer_than_the_lease_keeps_its_lock(settings, monkeypatch):
    """A timer thread renews the short lease while one slow page is fetched, and beats."""
    settings.SYNC_LOCK_LEASE = 1
    settings.SYNC_HEARTBEAT_INTERVAL = 0.2
    seen = {}

    def slow_page(ctx, mode):
        started = ctx.run.heartbeat_at
        time.sleep(2.5)  # one long page: 2.5 leases
        seen["holder"] = holder_label("sync:messages")
        seen["beat"] = SyncRun.objects.get(pk=ctx.run.pk).heartbeat_at > started
        seen["other"] = RedisLock("sync:messages").acquire()

    monkeypatch.setattr(message_sync, "messages_work", slow_page)
    run = sync.sync_messages(mode="full", client=object(), trigger="test")
    assert run.status == "success", run.error
    assert seen == {"holder": str(run.pk), "beat": True, "other": False}
    assert holder_label("sync:messages") is None  # released at the end


def test_the_heartbeat_records_the_requests_sent_during_a_page(settings, monkeypatch):
    """A page throttled or retried for minutes: the sync page shows its requests climbing (and says
    more requests than pages), not "0 requests" until the page arrives."""
    from types import SimpleNamespace

    from inbox.sync.selectors import SyncCard

    settings.SYNC_LOCK_LEASE = 1
    settings.SYNC_HEARTBEAT_INTERVAL = 0.1
    client = SimpleNamespace(requests_made=0)
    seen = {}

    def throttled_page(ctx, mode):
        for _ in range(12):  # one request answered "wait" after another
            client.requests_made += 1
            time.sleep(0.05)
        time.sleep(0.3)
        run = SyncRun.objects.get(pk=ctx.run.pk)
        seen["requests"] = run.requests_made
        seen["struggling"] = SyncCard(state=None, run=run, now=timezone.now()).struggling

    monkeypatch.setattr(message_sync, "messages_work", throttled_page)
    run = sync.sync_messages(mode="full", client=client, trigger="test")
    assert run.status == "success", run.error
    assert seen == {"requests": 12, "struggling": True}


def test_a_run_that_lost_its_lock_stops_at_its_next_page(settings, monkeypatch):
    settings.SYNC_LOCK_LEASE = 1
    settings.SYNC_HEARTBEAT_INTERVAL = 0.2

    def work(ctx, mode):
        RedisLock("sync:messages").client.delete("helpdesk:lock:sync:messages")  # e.g. Redis restarted
        time.sleep(0.5)
        ctx.heartbeat()

    monkeypatch.setattr(message_sync, "messages_work", work)
    run = sync.sync_messages(mode="full", client=object(), trigger="test")
    assert run.status == "failed" and "lost its lock" in run.error


# --- Reaping ----------------------------------------------------------------------------------


def test_a_dead_run_is_reaped_in_true_words_and_started_again_once(settings, sent):
    dead = dead_run(settings)
    assert reap_dead_runs("messages") == 1
    dead.refresh_from_db()
    assert (dead.status, dead.error_kind) == ("failed", "worker")
    assert dead.error.startswith("The worker stopped (killed or restarted) while this sync ran")
    again = SyncRun.objects.get(trigger="restart")
    assert (again.status, again.mode, again.restarts) == ("queued", "full", 1)
    assert sent == [(again.pk, "messages", "full", "restart")]
    # The restart dies too: reaped, and not started a third time.
    SyncRun.objects.filter(pk=again.pk).update(status="running", started_at=dead.started_at,
                                                 heartbeat_at=dead.heartbeat_at)
    assert reap_dead_runs("messages") == 1
    assert SyncRun.objects.filter(status__in=["queued", "running"]).count() == 0
    assert len(sent) == 1


def test_a_run_whose_heartbeat_is_fresh_is_not_reaped_yet(settings, sent):
    alive = SyncRun.objects.create(resource="messages", mode="full", status="running",
                                   started_at=timezone.now(), heartbeat_at=timezone.now())
    assert reap_dead_runs("messages") == 0
    alive.refresh_from_db()
    assert alive.status == "running" and sent == []


def test_a_dead_run_covered_by_a_later_one_is_not_started_again(settings, sent):
    dead = dead_run(settings, mode="incremental", trigger="beat")
    behind = SyncRun.objects.create(resource="messages", mode="full", status="queued", trigger="admin")
    assert reap_dead_runs("messages") == 1
    assert superseded_by(SyncRun.objects.get(pk=dead.pk)) == behind
    assert sent == [] and not SyncRun.objects.filter(trigger="restart").exists()


def test_a_first_full_walk_killed_is_covered_by_the_next_run_whatever_its_mode(settings, sent):
    """With no watermark yet, the next messages run walks everything (and checks deletions)."""
    dead_run(settings, mode="full", trigger="beat")
    SyncRun.objects.create(resource="messages", mode="incremental", status="queued", trigger="beat")
    reap_dead_runs("messages")
    assert sent == [] and not SyncRun.objects.filter(trigger="restart").exists()


def test_a_queued_run_whose_waiting_worker_died_is_sent_again(settings, sent):
    long_ago = timezone.now() - timedelta(seconds=settings.SYNC_LOCK_LEASE + 5)
    waiting = SyncRun.objects.create(resource="messages", mode="full", status="queued", trigger="admin",
                                     heartbeat_at=long_ago, task_id="lost-with-its-worker")
    reap_dead_runs("messages")
    waiting.refresh_from_db()
    assert (waiting.status, waiting.heartbeat_at, waiting.restarts, waiting.task_id) == ("queued", None, 1, "")
    assert sent == [(waiting.pk, "messages", "full", "admin")]


def test_a_routine_run_waits_out_a_silent_holders_lease_rather_than_skip(settings, no_work):
    """The holder stopped beating (its worker is likely dead): beat's run takes over as soon as
    the lease runs out, not one beat later; a holder that beats is still skipped at once."""
    settings.SYNC_LOCK_LEASE = 2
    settings.SYNC_HEARTBEAT_INTERVAL = 0.5
    silent = dead_run(settings, heartbeat_at=timezone.now() - timedelta(seconds=1.5))
    assert RedisLock("sync:messages", label=str(silent.pk)).acquire()  # its lease: 2 s more
    started = time.monotonic()
    run = sync.sync_messages(mode="incremental", client=object(), trigger="beat", lock_wait=0)
    assert run.status == "success" and 1.5 < time.monotonic() - started < 4
    silent.refresh_from_db()
    assert silent.status == "failed" and silent.error_kind == "worker"

    alive = SyncRun.objects.create(resource="messages", mode="full", status="running", trigger="admin",
                                   started_at=timezone.now(), heartbeat_at=timezone.now())
    assert RedisLock("sync:messages", label=str(alive.pk)).acquire()
    started = time.monotonic()
    with pytest.raises(SyncBusy):
        sync.sync_messages(mode="incremental", client=object(), trigger="beat", lock_wait=0)
    assert time.monotonic() - started < 1


def test_an_explicit_run_waiting_for_the_lock_beats(settings, no_work):
    settings.SYNC_HEARTBEAT_INTERVAL = 0.2
    holder = RedisLock("sync:messages", timeout=1, label="999")
    assert holder.acquire()
    run = SyncRun.objects.create(resource="messages", mode="full", status="queued", trigger="admin")
    result = sync.sync_messages(mode="full", run=run, client=object(), lock_wait=3)  # the lease runs out
    assert result.status == "success" and no_work == [run.pk]
    assert result.heartbeat_at is not None


# --- Requests and redelivered tasks -------------------------------------------------------------


def test_a_full_resync_is_never_answered_by_a_dead_run(settings, sent, django_capture_on_commit_callbacks):
    dead = dead_run(settings, mode="full", trigger="beat")
    with django_capture_on_commit_callbacks(execute=True):
        run, created = sync.request_sync(resource="messages", mode="full", trigger="admin")
    dead.refresh_from_db()
    assert dead.status == "failed" and dead.error_kind == "worker"
    assert run.pk != dead.pk and run.status == "queued" and run.mode == "full"
    assert [args[0] for args in sent] == [run.pk]  # one run queued for it, not two


def test_a_full_resync_asked_while_an_incremental_runs_is_queued_behind_it(sent, django_capture_on_commit_callbacks):
    running = SyncRun.objects.create(resource="messages", mode="incremental", status="running",
                                     trigger="beat", started_at=timezone.now(), heartbeat_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        full, created = sync.request_sync(resource="messages", mode="full", trigger="admin")
        again, created_again = sync.request_sync(resource="messages", mode="incremental", trigger="admin")
    assert created and full.pk != running.pk and full.mode == "full"
    assert not created_again and again.pk == running.pk  # an incremental covers an incremental
    assert sent == [(full.pk, "messages", "full", "admin")]


def test_a_redelivered_task_of_a_reaped_run_runs_it_again(settings, sent, no_work):
    dead = dead_run(settings)
    SyncRun.objects.filter(pk=dead.pk).update(status="failed", error_kind="worker", error=WORKER_STOPPED)
    tasks.sync_messages.apply(kwargs={"mode": "full", "run_id": dead.pk, "trigger": "admin"})
    again = SyncRun.objects.exclude(pk=dead.pk).get()
    assert (again.status, again.mode, again.trigger, again.restarts) == ("success", "full", "restart", 1)
    assert no_work == [again.pk]
    # Delivered once more (Redis's visibility timeout): replaced already, nothing to do.
    tasks.sync_messages.apply(kwargs={"mode": "full", "run_id": dead.pk, "trigger": "admin"})
    assert SyncRun.objects.count() == 2 and no_work == [again.pk]


def test_a_redelivered_beat_run_takes_its_own_lock_back_once(no_work):
    """A beat task carries no run id: its run is found by the task id, the same on redelivery."""
    run = SyncRun.objects.create(resource="messages", mode="incremental", status="running", trigger="beat",
                                 task_id="beat-task-1", started_at=timezone.now())
    dead_holder = RedisLock("sync:messages", label=str(run.pk))
    assert dead_holder.acquire()
    tasks.sync_messages.apply(kwargs={"trigger": "beat"}, task_id="beat-task-1")
    run.refresh_from_db()
    assert (run.status, run.restarts) == ("success", 1) and no_work == [run.pk]
    assert SyncRun.objects.count() == 1
    # Its worker dies again with it: the third delivery fails it and frees the lock at once.
    SyncRun.objects.filter(pk=run.pk).update(status="running")
    assert RedisLock("sync:messages", label=str(run.pk)).acquire()
    tasks.sync_messages.apply(kwargs={"trigger": "beat"}, task_id="beat-task-1")
    run.refresh_from_db()
    assert run.status == "failed" and "a second time" in run.error and no_work == [run.pk]
    assert holder_label("sync:messages") is None


# --- The database -------------------------------------------------------------------------------


def test_a_database_error_mid_run_is_told_as_such_and_the_admins_sync_is_retried(settings, monkeypatch, seeded):
    settings.SYNC_RETRY_DELAY = 0
    real_apply = sync_context.apply_prepared
    calls = []

    def apply_once_broken(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OperationalError("server closed the connection unexpectedly")
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(sync_context, "apply_prepared", apply_once_broken)
    run = SyncRun.objects.create(resource="messages", mode="full", status="queued", trigger="admin")
    tasks.sync_messages.apply(kwargs={"mode": "full", "run_id": run.pk, "trigger": "admin"})
    runs = list(SyncRun.objects.order_by("pk"))
    assert [(r.trigger, r.status, r.error_kind) for r in runs] == [
        ("admin", "failed", "database"), ("retry", "success", ""),
    ]
    assert runs[0].error.startswith("The database was unreachable during this sync (OperationalError: server closed")
    assert "worker" not in runs[0].error
    assert_mirror_equals_source(accounts=False)


def test_an_outcome_the_database_would_not_take_is_recorded_when_it_answers(settings, monkeypatch, sent):
    run = SyncRun.objects.create(resource="messages", mode="full", status="running", trigger="admin",
                                 started_at=timezone.now(), heartbeat_at=timezone.now())
    real_close = run_end.close_run
    failures = []

    def database_away(*args, **kwargs):
        failures.append(1)
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(run_end, "close_run", database_away)
    monkeypatch.setattr(run_end.time, "sleep", lambda seconds: None)
    with pytest.raises(OperationalError):
        run_end.record_end(run, "failed", *run_end.classify(OperationalError("gone")))
    assert len(failures) == len(run_end.RECORD_WAITS) + 1
    monkeypatch.setattr(run_end, "close_run", real_close)
    # Later (the database back, the lease run out), whoever reaps it uses the noted words.
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=settings.SYNC_LOCK_LEASE + 5))
    assert reap_dead_runs("messages") == 1
    run.refresh_from_db()
    assert run.error_kind == "database" and "database was unreachable" in run.error
    assert sent == []  # the task's own retry runs it again, not a restart


def test_a_database_that_answers_again_takes_the_outcome(monkeypatch):
    run = SyncRun.objects.create(resource="messages", mode="full", status="running", trigger="admin")
    real_close = run_end.close_run
    attempts = []

    def flaky(*args, **kwargs):
        attempts.append(1)
        if len(attempts) < 3:
            raise OperationalError("the database system is starting up")
        return real_close(*args, **kwargs)

    monkeypatch.setattr(run_end, "close_run", flaky)
    monkeypatch.setattr(run_end.time, "sleep", lambda seconds: None)
    run_end.record_end(run, "success")
    run.refresh_from_db()
    assert run.status == "success" and len(attempts) == 3


@pytest.mark.django_db
class TestRunBookkeeping:
    def test_a_busy_resource_without_a_run_raises_busy(self, settings):
        lock = RedisLock("sync:messages", timeout=10, label="999")
        assert lock.acquire()
        try:
            with pytest.raises(SyncBusy, match="run #999"):
                sync.sync_messages(lock_wait=0.2, client=object())
            run = SyncRun.objects.create(resource="messages", mode="incremental", status="queued")
            result = sync.sync_messages(run=run, lock_wait=0.2, client=object())
            assert result.status == "failed" and "still running" in result.error
        finally:
            lock.release()

    def test_dead_running_runs_and_forgotten_queued_runs_are_closed(self, settings):
        long_ago = timezone.now() - timedelta(seconds=settings.SYNC_LOCK_LEASE + 5)
        dead = SyncRun.objects.create(resource="messages", mode="full", status="running",
                                      started_at=long_ago, heartbeat_at=long_ago)
        stale = SyncRun.objects.create(resource="messages", mode="full", status="queued")
        SyncRun.objects.filter(pk=stale.pk).update(
            created_at=timezone.now() - timedelta(seconds=settings.SYNC_LOCK_TIMEOUT + 60)
        )
        fresh = SyncRun.objects.create(resource="messages", mode="full", status="queued")
        assert reap_dead_runs("messages") == 2
        dead.refresh_from_db(), stale.refresh_from_db(), fresh.refresh_from_db()
        assert dead.status == "failed" and dead.error_kind == "worker"
        assert "the worker stopped (killed or restarted) while this sync ran" in dead.error.lower()
        assert stale.status == "failed" and "Celery worker" in stale.error
        assert fresh.status == "queued"

    def test_the_running_run_that_holds_the_lock_is_alive(self):
        alive = SyncRun.objects.create(resource="accounts", mode="full", status="running")
        lock = RedisLock("sync:accounts", timeout=10, label=str(alive.pk))
        assert lock.acquire()
        try:
            assert reap_dead_runs("accounts") == 0
        finally:
            lock.release()

    def test_request_sync_validates_its_arguments(self):
        with pytest.raises(ValueError, match="messages"):
            sync.request_sync(resource="coworkers", mode="full", trigger="admin")
        with pytest.raises(ValueError, match="incremental"):
            sync.request_sync(resource="messages", mode="partial", trigger="admin")

    def test_request_sync_does_not_queue_twice(self, django_capture_on_commit_callbacks, monkeypatch):
        sent = []
        monkeypatch.setattr(queueing, "enqueue", lambda *args: sent.append(args))
        with django_capture_on_commit_callbacks(execute=True):
            run, created = sync.request_sync(resource="messages", mode="full", trigger="admin")
        assert created and run.status == "queued" and run.trigger == "admin"
        again, created_again = sync.request_sync(resource="messages", mode="incremental", trigger="admin")
        assert again.pk == run.pk and not created_again
        assert sent == [(run.pk, "messages", "full", "admin")]
        accounts, created = sync.request_sync(resource="accounts", mode="incremental", trigger="admin")
        assert created and accounts.mode == "full"  # accounts are always walked whole


@pytest.mark.django_db
def test_a_redelivered_run_takes_its_own_dead_lock_back(monkeypatch):
    """acks_late redelivers a task whose worker died: the lock still names that run, so it goes on."""
    run = SyncRun.objects.create(resource="messages", mode="full", status="running")
    dead = RedisLock("sync:messages", timeout=60, label=str(run.pk))
    assert dead.acquire()
    calls = []
    monkeypatch.setattr(message_sync, "messages_work", lambda ctx, mode: calls.append(ctx.run.pk))
    result = sync.sync_messages(mode="full", run=run, lock_wait=0.2, client=object())
    assert result.status == "success" and calls == [run.pk]
    assert holder_label("sync:messages") is None
    # Another run's lock is never taken over.
    other = RedisLock("sync:messages", timeout=60, label="999999")
    assert other.acquire()
    try:
        second = SyncRun.objects.create(resource="messages", mode="full", status="running")
        assert sync.sync_messages(mode="full", run=second, lock_wait=0.2, client=object()).status == "failed"
        assert holder_label("sync:messages") == "999999"
    finally:
        other.release()
