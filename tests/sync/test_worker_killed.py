"""A worker killed as a whole mid-sync (SIGKILL to the worker and its pool processes, as an OOM kill
or a host crash does): its run is noticed within the lease, failed in true words, and the next
run (or an admin's Full resync queued behind it) completes, with the mirror equal to the source.

The workers are real ``celery -A helpdesk worker`` processes (prefork), each in a process group of
its own; beat is played by this test, sending the routine task every ``BEAT`` seconds as beat
would. The lease is shortened (``SYNC_LOCK_LEASE``) to keep the test short; the figures for the
default lease are measured by ``bench/resilience_bench.py``.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.utils import timezone

from inbox.models import CoworkerMessage, SyncRun
from inbox.sync import services as sync
from inbox.sync import tasks
from inbox.sync.runs.reap import WORKER_STOPPED
from sandbox import models as sbx
from sandbox import services as sandbox
from tests.sync.fixtures import (  # noqa: F401 (fixtures)
    BOTH_DBS,
    assert_mirror_equals_source,
    nexudus_sandbox,
    seeded,
)
from tests.workers import forget_unacknowledged, kill_group, wait_for, worker_environment, worker_process

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=BOTH_DBS),
    pytest.mark.worker,
    pytest.mark.timeout(240),
]

LEASE = 4  # seconds (the default is 60)
BEAT = 2  # seconds between routine runs (the default is 60)


@pytest.fixture
def worker_env(nexudus_sandbox, settings, tmp_path):
    settings.SYNC_LOCK_LEASE = LEASE
    settings.SYNC_HEARTBEAT_INTERVAL = LEASE / 4
    forget_unacknowledged()
    env = worker_environment(
        NEXUDUS_API_URL=nexudus_sandbox.url + "/sandbox",
        NEXUDUS_PAGE_SIZE=str(settings.NEXUDUS_PAGE_SIZE),
        SYNC_LOCK_LEASE=str(LEASE),
        SYNC_HEARTBEAT_INTERVAL=str(LEASE / 4),
    )
    yield env
    forget_unacknowledged()
    sandbox.set_faults()


@contextmanager
def beat(every: float = BEAT):
    """Send beat's routine messages task every ``every`` seconds, with beat's options."""
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            tasks.sync_messages.apply_async(kwargs={"trigger": "beat"}, expires=every)
            stop.wait(every)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def running(**lookups) -> SyncRun | None:
    return SyncRun.objects.filter(status="running", **lookups).first()


def succeeded_after(moment) -> SyncRun | None:
    return SyncRun.objects.filter(status="success", started_at__gt=moment).order_by("finished_at").first()


def assert_one_at_a_time(runs: list[SyncRun], killed_at) -> None:
    """No two runs held the resource at once (a killed run's time ends at the kill)."""
    spans = sorted((r.started_at, min(r.finished_at, killed_at) if r.error_kind == "worker" else r.finished_at)
                   for r in runs if r.started_at)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert end <= start, spans


def test_a_run_killed_with_its_worker_is_reaped_and_the_next_run_completes(seeded, worker_env, tmp_path):
    sandbox.set_faults(latency_ms=700)  # ~9 pages: the first sync takes several seconds
    with worker_process(worker_env, log_path=tmp_path / "worker-1.log") as first, beat():
        dead = wait_for(lambda: running(pages_done__gte=2), timeout=60, what="a run mid-way")
        killed_at = timezone.now()
        kill_group(first)
    with worker_process(worker_env, log_path=tmp_path / "worker-2.log"), beat():  # restarted, as systemd would
        sandbox.set_faults(latency_ms=100)
        reaped = wait_for(lambda: SyncRun.objects.filter(pk=dead.pk, status="failed").first(),
                          timeout=LEASE + 4 * BEAT + 30, what="the dead run reaped")
        success = wait_for(lambda: succeeded_after(killed_at), timeout=90, what="a run after the kill")
        wait_for(lambda: not SyncRun.objects.filter(status__in=["queued", "running"]).exists(), timeout=60,
                 what="every run to end")
    noticed = (reaped.finished_at - killed_at).total_seconds()
    recovered = (success.finished_at - killed_at).total_seconds()
    print(f"\nkilled mid-run at page {dead.pages_done}: failed {noticed:.1f} s after the kill, "
          f"next success {recovered:.1f} s after it (lease {LEASE} s, beat every {BEAT} s)")
    assert reaped.error_kind == "worker" and reaped.error == WORKER_STOPPED
    assert noticed <= LEASE + 2 * BEAT + 5  # within the heartbeat window (and a beat)
    runs = list(SyncRun.objects.order_by("pk"))
    assert [r for r in runs if r.status == "failed"] == [reaped], [(r.pk, r.error) for r in runs]
    assert_one_at_a_time(runs, killed_at)
    assert_mirror_equals_source(accounts=False)
    assert CoworkerMessage.objects.count() == sbx.CoworkerMessage.objects.count()


def test_an_admins_full_resync_queued_behind_a_killed_run_runs(seeded, worker_env, tmp_path):
    first_sync = sync.sync_messages(mode="full", trigger="test")  # a watermark: the next is incremental
    assert first_sync.status == "success", first_sync.error
    sandbox.add_messages(80)  # two pages for the incremental run
    sandbox.delete_messages(sandbox.message_ids()[:5])  # only a full sync notices these
    sandbox.set_faults(latency_ms=1500)
    with worker_process(worker_env, log_path=tmp_path / "worker-1.log") as first:
        tasks.sync_messages.apply_async(kwargs={"trigger": "beat"})
        incremental = wait_for(lambda: running(mode="incremental"), timeout=60, what="the incremental run")
        resync, created = sync.request_sync(resource="messages", mode="full", trigger="admin")
        assert created and resync.mode == "full"  # queued behind the incremental one, not dropped
        wait_for(lambda: SyncRun.objects.get(pk=resync.pk).heartbeat_at, timeout=30,
                 what="the resync waiting in the worker")
        killed_at = timezone.now()
        kill_group(first)
    sandbox.set_faults(latency_ms=100)
    with worker_process(worker_env, log_path=tmp_path / "worker-2.log"), beat():
        done = wait_for(lambda: SyncRun.objects.filter(pk=resync.pk, status__in=["success", "failed"]).first(),
                        timeout=120, what="the admin's resync")
        wait_for(lambda: not SyncRun.objects.filter(status__in=["queued", "running"]).exists(), timeout=60,
                 what="every run to end")
    recovered = (done.finished_at - killed_at).total_seconds()
    print(f"\nthe admin's Full resync #{done.pk} succeeded {recovered:.1f} s after the kill "
          f"(lease {LEASE} s, beat every {BEAT} s)")
    assert done.status == "success", done.error
    assert (done.mode, done.trigger, done.restarts) == ("full", "admin", 1) and done.records_deleted == 5
    incremental.refresh_from_db()
    assert incremental.status == "failed" and incremental.error_kind == "worker"
    assert not SyncRun.objects.filter(trigger="restart").exists()  # the resync covered it
    assert_one_at_a_time(list(SyncRun.objects.exclude(pk=first_sync.pk)), killed_at)
    assert_mirror_equals_source(accounts=False)


def pool_processes(worker) -> list[int]:
    """The pids of a prefork worker's pool processes (its children)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == worker.pid:
                children.append(int(entry.name))
    return children


def test_a_beat_run_whose_pool_process_is_killed_is_carried_on_by_its_redelivered_task(seeded, worker_env, tmp_path):
    """Only the pool process dies (an OOM kill of the child): the worker requeues the task at once
    (task_reject_on_worker_lost) and the redelivered task takes its own run's lock back."""
    sandbox.set_faults(latency_ms=700)
    with worker_process(worker_env, log_path=tmp_path / "worker.log") as worker:
        tasks.sync_messages.apply_async(kwargs={"trigger": "beat"}, expires=60)
        run = wait_for(lambda: running(pages_done__gte=2), timeout=60, what="a run mid-way")
        page_at_kill = SyncRun.objects.get(pk=run.pk).pages_done
        for pid in pool_processes(worker):
            os.kill(pid, signal.SIGKILL)
        killed_at = timezone.now()
        sandbox.set_faults(latency_ms=100)
        wait_for(lambda: SyncRun.objects.filter(pk=run.pk, status="success").first(), timeout=60,
                 what="the same run, carried on")
    run.refresh_from_db()
    print(f"\npool processes killed at page {page_at_kill}: run #{run.pk} carried on by its redelivered task, "
          f"done {(run.finished_at - killed_at).total_seconds():.1f} s after the kill")
    assert run.restarts == 1 and run.started_at > killed_at
    assert SyncRun.objects.count() == 1  # not skipped, not a second run
    assert_mirror_equals_source(accounts=False)
