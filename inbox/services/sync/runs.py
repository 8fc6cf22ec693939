"""Running a sync: one at a time per resource (a Redis lock), its ``SyncRun`` opened and closed.

Failures end up on the run (status, ``error_kind``, a sentence an admin can act on), not raised;
runs whose worker died are closed by ``reap_dead_runs``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from inbox.locks import LockError, RedisLock, holder_label
from inbox.models import SyncRun
from inbox.nexudus import NexudusAuthError, NexudusClient, NexudusError, NexudusUnavailable

from .accounts import HealthFailed
from .context import LockLost, Progress, RunContext

logger = logging.getLogger(__name__)

Status = SyncRun.Status


class SyncBusy(Exception):
    """Another run of the same resource holds the lock (only raised when no run was given)."""


def lock_name(resource: str) -> str:
    return f"sync:{resource}"


def reap_dead_runs(resource: str) -> int:
    """Close runs that can no longer finish: the worker died running them, or none ever took them.

    A run is *running* only while it holds the resource's lock (its id is the lock's label), so a
    running run that is not the holder died with its worker. A queued run older than the lock
    timeout was never picked up (no worker, or its message was lost).
    """
    try:
        holder = holder_label(lock_name(resource))
    except Exception as exc:  # Redis down: cannot tell, so leave them
        logger.warning("Could not ask Redis who holds the %s sync lock: %s", resource, exc)
        return 0
    now = timezone.now()
    dead_running = SyncRun.objects.filter(resource=resource, status=Status.RUNNING)
    if holder:
        dead_running = dead_running.exclude(pk=holder) if holder.isdigit() else dead_running.none()
    closed = dead_running.update(
        status=Status.FAILED, finished_at=now, error_kind="error",
        error="The worker running this sync stopped before it finished (it was killed or restarted); "
              "the next sync picks up from the last one that succeeded.",
    )
    stale_queued = SyncRun.objects.filter(
        resource=resource, status=Status.QUEUED,
        created_at__lt=now - timedelta(seconds=settings.SYNC_LOCK_TIMEOUT),
    )
    closed += stale_queued.update(
        status=Status.FAILED, finished_at=now, error_kind="unavailable",
        error="No worker started this sync within "
              f"{settings.SYNC_LOCK_TIMEOUT // 60} minutes: check that the Celery worker is running.",
    )
    return closed


def classify(exc: BaseException) -> tuple[str, str]:
    """(error_kind, text an admin can act on) for what stopped a run."""
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(exc, NexudusAuthError):
        return "credentials", str(exc)
    if isinstance(exc, NexudusUnavailable):
        return "unavailable", f"{exc} (Nexudus address: {settings.NEXUDUS_API_URL})"
    if isinstance(exc, NexudusError):
        return "error", str(exc)
    if isinstance(exc, LockError):
        return "unavailable", f"{exc}. Check that Redis is running."
    if isinstance(exc, (LockLost, HealthFailed)):
        return "error", str(exc)
    if isinstance(exc, SoftTimeLimitExceeded):
        return "error", (
            f"The sync was stopped after its time limit ({settings.SYNC_TASK_SOFT_TIME_LIMIT} s); "
            "what it applied is kept, and the next sync continues from the last one that succeeded."
        )
    return "error", f"The sync failed unexpectedly ({type(exc).__name__}: {exc}); see the worker's log."


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
    if run is not None and run.status not in (Status.QUEUED, Status.RUNNING):
        raise ValueError(f"Sync run #{run.pk} has already finished ({run.status}).")
    wait = settings.SYNC_LOCK_WAIT if lock_wait is None else lock_wait
    lock = RedisLock(lock_name(resource), label="starting")
    try:
        got = lock.acquire(wait=0)
        if not got and run is not None and run.status == Status.RUNNING:
            # A task redelivered after its worker died mid-run (acks_late): the lock still names
            # this very run, so its holder is dead and this run takes the lock back at once.
            got = lock.take_over(str(run.pk))
            if got:
                logger.warning("%s sync #%s: its worker died mid-run; running it again.", resource, run.pk)
        if not got:
            got = lock.acquire(wait=wait)
    except LockError as exc:
        run = run or SyncRun.objects.create(resource=resource, mode=mode, trigger=trigger, task_id=task_id)
        return close_run(run, Status.FAILED, *classify(exc))
    if not got:
        holder = holder_label(lock_name(resource))
        text = (
            f"Another {resource} sync (run #{holder or '?'}) was still running after {wait:.0f} s of "
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
        reap_dead_runs(resource)  # we hold the lock: any other "running" run is dead
        run.status = Status.RUNNING
        run.mode = mode
        run.started_at = timezone.now()
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
        own_client = client is None
        ctx: RunContext | None = None
        try:
            if own_client:
                client = NexudusClient.from_settings()
            ctx = RunContext(run, client, lock, progress)
            if progress is not None:
                progress(run)
            work(ctx)
        except Exception as exc:
            kind, text = classify(exc)
            if kind == "error" and not isinstance(exc, (NexudusError, LockLost, HealthFailed)):
                logger.exception("%s sync #%s failed.", resource, run.pk)
            else:
                logger.warning("%s sync #%s failed (%s): %s", resource, run.pk, kind, text,
                               extra={**_run_fields(run), "status": "failed", "error_kind": kind})
            if ctx is not None:
                try:
                    ctx.save_progress()
                except Exception:  # the database itself may be what failed
                    logger.exception("%s sync #%s: could not save its last counters.", resource, run.pk)
            return close_run(run, Status.FAILED, kind, text)
        finally:
            if own_client and client is not None and hasattr(client, "close"):
                client.close()
        ctx.save_progress()
        close_run(run, Status.SUCCESS)
        seconds = (run.finished_at - run.started_at).total_seconds()
        logger.info(
            "%s sync #%s (%s, %s): %d seen, %d created, %d updated, %d deleted in %.1f s, %d requests.",
            resource, run.pk, run.mode, run.trigger or "-", run.records_seen, run.records_created, run.records_updated,
            run.records_deleted, seconds, run.requests_made, extra=_run_fields(run, duration_seconds=round(seconds, 3)),
        )
        return run
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


def close_run(run: SyncRun, status: str, kind: str = "", text: str = "") -> SyncRun:
    run.status = status
    run.finished_at = timezone.now()
    run.error_kind = kind
    run.error = text
    if run.pk is None:
        run.save()
    else:
        run.save(update_fields=["status", "finished_at", "error_kind", "error", "warning"])
    return run
