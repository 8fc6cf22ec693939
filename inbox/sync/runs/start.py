"""Starting a run: its lock taken, its ``SyncRun`` opened, its work done and its end recorded.

A run either carries a ``SyncRun`` made earlier (queued by ``request_sync``, or delivered again
after its worker died) or makes one once it holds the lock. Whatever stops the work ends up on the
run (``end.classify``), not raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone

from inbox.models import SyncRun
from inbox.nexudus import NexudusError
from inbox.nexudus.configured import nexudus_client
from inbox.platform.locks import LockError, RedisLock

from ..accounts import HealthFailed
from ..context import LockLost, Progress, RunContext
from .end import DATABASE, WORKER_LOST, classify, close_run, record_end
from .lease import LeaseKeeper
from .lock import SyncBusy, dead_holder_lease, holder, resource_lock, wait_for_lock
from .reap import MAX_RESTARTS, WORKER_STOPPED_AGAIN, reap_dead_runs

logger = logging.getLogger(__name__)

Status = SyncRun.Status


def execute(
    *,
    resource: str,
    mode: str,
    run: SyncRun | None,
    client: Any,
    progress: Progress | None,
    trigger: str,
    task_id: str,
    lock_wait: float | None,
    work: Callable[[RunContext], None],
) -> SyncRun:
    """One run of ``resource`` doing ``work`` under the resource's lock; the run, finished.

    Waits up to ``lock_wait`` seconds (default ``SYNC_LOCK_WAIT``) for another run to end; if it
    does not, the given ``run`` is failed, or ``SyncBusy`` is raised when none was given.
    """
    if run is not None and run.status not in (Status.QUEUED, Status.RUNNING):
        raise ValueError(f"Sync run #{run.pk} has already finished ({run.status}).")
    wait = settings.SYNC_LOCK_WAIT if lock_wait is None else lock_wait
    lock = resource_lock(resource)
    # A run already running: its task was delivered again after its worker died (acks_late).
    redelivered = run is not None and run.status == Status.RUNNING
    try:
        if redelivered and run.restarts >= MAX_RESTARTS:
            if lock.take_over(str(run.pk)):
                lock.release()  # its dead holder's lock, freed at once
            return close_run(run, Status.FAILED, WORKER_LOST, WORKER_STOPPED_AGAIN)
        if redelivered:
            run.restarts += 1
            SyncRun.objects.filter(pk=run.pk).update(restarts=run.restarts)
        got = lock.acquire(wait=0)
        if not got and redelivered:
            # The lock still names this very run: its holder is dead, and this run takes it back.
            got = lock.take_over(str(run.pk))
            if got:
                logger.warning("%s sync #%s: its worker died mid-run; running it again.", resource, run.pk)
            else:  # another run holds it now: wait for it like any queued run
                run.status = Status.QUEUED
                SyncRun.objects.filter(pk=run.pk).update(status=Status.QUEUED)
        if not got:
            got = wait_for_lock(lock, run, max(wait, dead_holder_lease(lock)))
    except LockError as exc:
        run = run or SyncRun.objects.create(resource=resource, mode=mode, trigger=trigger, task_id=task_id)
        return close_run(run, Status.FAILED, *classify(exc))
    if not got:
        label = holder(resource)
        text = (
            f"Another {resource} sync (run #{label or '?'}) was still running after {wait:.0f} s of "
            "waiting, so this one did not start."
        )
        if run is None:
            raise SyncBusy(text)
        return close_run(run, Status.FAILED, "error", text)
    try:
        if run is None:
            run = SyncRun.objects.create(
                resource=resource, mode=mode, status=Status.QUEUED, trigger=trigger, task_id=task_id
            )
        if not lock.relabel(str(run.pk)):
            return close_run(run, Status.FAILED, "error", "The sync lost its lock before it started.")
        if run.status == Status.QUEUED:
            run.refresh_from_db(fields=["status"])
            if run.status not in (Status.QUEUED, Status.RUNNING):  # its task was sent twice: done already
                return run
        reap_dead_runs(resource, holder=str(run.pk))  # we hold the lock: any other "running" run is dead
        run.status = Status.RUNNING
        run.mode = mode
        run.started_at = run.heartbeat_at = timezone.now()
        run.finished_at = run.since = run.watermark = run.pages_total = None
        run.records_seen = run.records_created = run.records_updated = run.records_deleted = 0
        run.requests_made = run.pages_done = 0
        run.error = run.error_kind = run.warning = ""
        if task_id:
            run.task_id = task_id
        if trigger and not run.trigger:
            run.trigger = trigger
        run.save()
        logger.debug("%s sync #%s (%s, %s) started.", resource, run.pk, run.mode, run.trigger or "-")
        with LeaseKeeper(lock, run.pk) as lease:
            return _run_work(run, client, lock, lease, progress, work)
    finally:
        lock.release()
        if progress is not None and run is not None:
            progress(run)


def _run_fields(run: SyncRun, **more) -> dict:
    """A run's facts as fields of its log line (LOG_FORMAT=json makes them keys)."""
    return {
        "event": "sync_run", "resource": run.resource, "run": run.pk, "mode": run.mode,
        "trigger": run.trigger, "status": run.status, "records_seen": run.records_seen,
        "records_created": run.records_created, "records_updated": run.records_updated,
        "records_deleted": run.records_deleted, "requests": run.requests_made, **more,
    }


def _run_work(run: SyncRun, client: Any, lock: RedisLock, lease: LeaseKeeper, progress: Progress | None,
              work: Callable[[RunContext], None]) -> SyncRun:
    resource = run.resource
    own_client = client is None
    ctx: RunContext | None = None
    try:
        if own_client:
            client = nexudus_client()
        ctx = RunContext(run, client, lock, progress, lease)
        lease.requests = ctx.requests  # the heartbeat records them between pages too
        if progress is not None:
            progress(run)
        work(ctx)
        ctx.save_progress()
    except Exception as exc:
        kind, text = classify(exc)
        if kind == "error" and not isinstance(exc, (NexudusError, LockLost, HealthFailed)):
            logger.exception("%s sync #%s failed.", resource, run.pk)
        else:
            logger.warning("%s sync #%s failed (%s): %s", resource, run.pk, kind, text,
                           extra={**_run_fields(run), "status": "failed", "error_kind": kind})
        if ctx is not None and kind != DATABASE:
            try:
                ctx.save_progress()
            except Exception:  # the database itself may be what failed
                logger.exception("%s sync #%s: could not save its last counters.", resource, run.pk)
        return record_end(run, Status.FAILED, kind, text)
    finally:
        if own_client and client is not None and hasattr(client, "close"):
            client.close()
    record_end(run, Status.SUCCESS)  # forgets the top bar's cached "Synced 3 min ago" (end.close_run)
    seconds = (run.finished_at - run.started_at).total_seconds()
    logger.info(
        "%s sync #%s (%s, %s): %d seen, %d created, %d updated, %d deleted in %.1f s, %d request%s.",
        resource, run.pk, run.mode, run.trigger or "-", run.records_seen, run.records_created, run.records_updated,
        run.records_deleted, seconds, run.requests_made, "" if run.requests_made == 1 else "s",
        extra=_run_fields(run, duration_seconds=round(seconds, 3)),
    )
    return run
