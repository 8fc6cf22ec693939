"""Running a sync: one at a time per resource (a Redis lock), its ``SyncRun`` opened and closed.

Failures end up on the run (status, ``error_kind``, a sentence an admin can act on), not raised;
runs whose worker died are closed by ``reap_dead_runs`` and started again once (``restart``).

The lock is a short lease (``SYNC_LOCK_LEASE``) that the run renews (``lease.LeaseKeeper``), so a
run whose worker was killed is noticed within a lease: it no longer holds the lock and its
``heartbeat_at`` is older than the lease.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from inbox.platform.locks import LockError, RedisLock, holder_label, redis_client
from inbox.models import SyncRun
from inbox.nexudus import NexudusAuthError, NexudusError, NexudusUnavailable
from inbox.nexudus.configured import nexudus_client

from .accounts import HealthFailed
from .context import LockLost, Progress, RunContext
from .lease import LeaseKeeper, beat
from .messages import _last_watermark

logger = logging.getLogger(__name__)

Status = SyncRun.Status
Mode = SyncRun.Mode

#: error_kind of a run whose worker died, and of one the database failed.
WORKER_LOST = "worker"
DATABASE = "database"
#: A run lost with its worker is started again this many times, no more: a sync that kills its
#: worker each time (out of memory) must not loop.
MAX_RESTARTS = 1
#: The database errors that mean "unreachable", not a bug (PEP 249's OperationalError/InterfaceError).
DATABASE_ERRORS = (OperationalError, InterfaceError)
#: Attempts at recording a run's end while the database does not answer, and the waits between.
RECORD_WAITS = (1, 2, 4, 8)

WORKER_STOPPED = (
    "The worker stopped (killed or restarted) while this sync ran; what it applied is kept, and "
    "the sync is started again."
)
WORKER_STOPPED_AGAIN = (
    "The worker stopped (killed or restarted) while this sync ran, a second time: it is not started "
    "again. Check the worker's memory and log; the next scheduled sync tries again."
)


class SyncBusy(Exception):
    """Another run of the same resource holds the lock (only raised when no run was given)."""


def lock_name(resource: str) -> str:
    return f"sync:{resource}"


# --- Dead runs --------------------------------------------------------------------------------


def reap_dead_runs(resource: str, *, holder: str | None = None) -> int:
    """Close runs that can no longer finish: their worker died running them, or none ever took them.

    A run is *running* only while it holds the resource's lock (its id is the lock's label) and
    renews it. ``holder``: the caller holds the lock under this label, so every other running run
    is dead. Otherwise a running run is dead when it is not the holder and its heartbeat is older
    than the lease. A dead run is failed in true words and started again once, unless a later run
    covers it. A queued run whose waiting worker stopped beating is sent to the workers again
    (once); a queued run that no worker took within ``SYNC_LOCK_TIMEOUT`` is failed.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SYNC_LOCK_LEASE)
    runs = SyncRun.objects.filter(resource=resource).annotate(beat_at=Coalesce("heartbeat_at", "started_at", "created_at"))
    if holder is None:
        try:
            holder = holder_label(lock_name(resource))
        except Exception as exc:  # Redis down: cannot tell, so leave them
            logger.warning("Could not ask Redis who holds the %s sync lock: %s", resource, exc)
            return 0
        dead = runs.filter(status=Status.RUNNING, beat_at__lt=stale)
    else:
        dead = runs.filter(status=Status.RUNNING)
    if holder:
        dead = dead.exclude(pk=holder) if holder.isdigit() else dead.none()
    closed = 0
    for run in dead:
        kind, text = noted_outcome(run) or (WORKER_LOST, WORKER_STOPPED)
        # One update per run, on its status: of two reapers at once, one closes (and restarts) it.
        if SyncRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(
            status=Status.FAILED, finished_at=now, error_kind=kind, error=text,
        ):
            closed += 1
            logger.warning("%s sync #%s: %s", resource, run.pk, text)
            if kind == WORKER_LOST:
                run.status, run.error_kind = Status.FAILED, kind
                restart(run)
    # A run waiting for the lock beats every SYNC_HEARTBEAT_INTERVAL; two and a half missed mean its
    # worker died (if not, the run is only sent twice, and its second task finds it done).
    silent = now - timedelta(seconds=2.5 * settings.SYNC_HEARTBEAT_INTERVAL)
    for run in runs.filter(status=Status.QUEUED, heartbeat_at__lt=silent):
        _send_again(run)
    stale_queued = SyncRun.objects.filter(
        resource=resource, status=Status.QUEUED, heartbeat_at__isnull=True,
        created_at__lt=now - timedelta(seconds=settings.SYNC_LOCK_TIMEOUT),
    )
    closed += stale_queued.update(
        status=Status.FAILED, finished_at=now, error_kind="unavailable",
        error="No worker started this sync within "
              f"{settings.SYNC_LOCK_TIMEOUT // 60} minutes: check that the Celery worker is running.",
    )
    return closed


def superseded_by(run: SyncRun) -> SyncRun | None:
    """A later run of the same resource that does what ``run`` was for: queued, running or done.

    A full run is covered by a full one, or, while messages have no watermark yet, by any: the
    first messages sync walks everything and checks deletions whatever it was asked.
    """
    later = SyncRun.objects.filter(
        resource=run.resource, pk__gt=run.pk, status__in=[Status.QUEUED, Status.RUNNING, Status.SUCCESS],
    )
    if run.mode == Mode.FULL and not (run.resource == SyncRun.Resource.MESSAGES and _last_watermark() is None):
        later = later.filter(mode=Mode.FULL)
    return later.order_by("pk").first()


def restart(run: SyncRun, *, enqueue: bool = True) -> SyncRun | None:
    """A fresh queued run in place of ``run``, whose worker died; None if none is needed.

    None when a later run already covers it, or when it was started again once already. With
    ``enqueue`` its task is sent (after commit); without, the caller runs it itself.
    """
    if run.restarts >= MAX_RESTARTS or superseded_by(run) is not None:
        return None
    if not SyncRun.objects.filter(pk=run.pk, restarts=run.restarts).update(restarts=run.restarts + 1):
        return None  # another reaper, or the redelivered task, got there first
    run.restarts += 1
    again = SyncRun.objects.create(
        resource=run.resource, mode=run.mode, status=Status.QUEUED, trigger="restart", restarts=run.restarts,
    )
    logger.warning("%s sync #%s is started again as #%s.", run.resource, run.pk, again.pk)
    if enqueue:
        from . import services  # the module the tests patch ``_enqueue`` in

        transaction.on_commit(partial(services._enqueue, again.pk, again.resource, again.mode, again.trigger))
    return again


def _send_again(run: SyncRun) -> None:
    """A queued run whose worker died while it waited for the lock: its task goes out again (once)."""
    if run.restarts >= MAX_RESTARTS:
        SyncRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
            status=Status.FAILED, finished_at=timezone.now(), error_kind=WORKER_LOST,
            error="The worker waiting to run this sync stopped (killed or restarted), a second time: "
                  "it is not sent again. Check the worker's memory and log.",
        )
        return
    if not SyncRun.objects.filter(pk=run.pk, status=Status.QUEUED, heartbeat_at=run.heartbeat_at).update(
        heartbeat_at=None, restarts=run.restarts + 1, task_id="",
    ):
        return
    logger.warning("%s sync #%s: the worker waiting to run it stopped; sending it again.", run.resource, run.pk)
    from . import services

    transaction.on_commit(partial(services._enqueue, run.pk, run.resource, run.mode, run.trigger or "restart"))


# --- The outcome of a run the database failed -------------------------------------------------

def _outcome_key(run: SyncRun) -> str:
    # The creation time too: a database made anew reuses ids, and a note must never outlive its run.
    return f"helpdesk:sync:outcome:{run.pk}:{int(run.created_at.timestamp() * 1_000_000)}"


def note_outcome(run: SyncRun, kind: str, text: str) -> None:
    """Keep a run's outcome in Redis while the database cannot take it, for whoever closes the run."""
    try:
        redis_client().set(_outcome_key(run), json.dumps([kind, text]), ex=24 * 3600)
    except Exception as exc:
        logger.warning("Sync run #%s: could not note its outcome in Redis either (%s).", run.pk, exc)


def noted_outcome(run: SyncRun) -> tuple[str, str] | None:
    """The outcome noted for ``run`` (and forgotten: it is recorded now), or None."""
    try:
        key = _outcome_key(run)
        value, _ = redis_client().pipeline().get(key).delete(key).execute()  # GETDEL needs Redis 6.2
        kind, text = json.loads(value) if value else (None, None)
    except Exception:
        return None
    return (str(kind), str(text)) if kind else None


# --- Running -------------------------------------------------------------------------------------


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
    if isinstance(exc, DATABASE_ERRORS):
        return DATABASE, (
            f"The database was unreachable during this sync ({type(exc).__name__}: {exc}); what was "
            "applied before is kept, and the sync is tried again once the database answers."
        )
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
            got = _wait_for_lock(lock, run, max(wait, _dead_holder_lease(lock)))
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


def _dead_holder_lease(lock: RedisLock) -> float:
    """Seconds left on the lock's lease when its holder has stopped beating (its worker is most
    likely dead), else 0. A routine run, which does not wait for a live holder, waits that long
    rather than skip: the resource is picked up as soon as the lease runs out, not a beat later."""
    try:
        holder = lock.holder()
        if not holder or not holder.isdigit():
            return 0.0
        beat_at = SyncRun.objects.filter(pk=holder, status=Status.RUNNING).values_list("heartbeat_at", flat=True).first()
        if beat_at is None or (timezone.now() - beat_at).total_seconds() < 2 * settings.SYNC_HEARTBEAT_INTERVAL:
            return 0.0
        left = lock.client.pttl(lock.key) / 1000
    except Exception as exc:  # a look, no more: Redis or the database not answering is not fatal here
        logger.debug("Could not tell whether the holder of %s is alive: %s", lock.key, exc)
        return 0.0
    return left + 1.0 if 0 < left <= settings.SYNC_LOCK_LEASE else 0.0


def _wait_for_lock(lock: RedisLock, run: SyncRun | None, wait: float) -> bool:
    """Wait up to ``wait`` seconds for the lock; a given run beats meanwhile, so that a worker that
    dies while it waits is noticed (``reap_dead_runs`` sends the run out again)."""
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        if run is not None and run.pk is not None and wait > 0:
            beat(run.pk)
        remaining = deadline - time.monotonic()
        if lock.acquire(wait=max(0.0, min(settings.SYNC_HEARTBEAT_INTERVAL, remaining))):
            return True
        if time.monotonic() >= deadline:
            return False


def _run_work(run: SyncRun, client: Any, lock: RedisLock, lease: LeaseKeeper, progress: Progress | None,
              work: Callable[[RunContext], None]) -> SyncRun:
    resource = run.resource
    own_client = client is None
    ctx: RunContext | None = None
    try:
        if own_client:
            client = nexudus_client()
        ctx = RunContext(run, client, lock, progress, lease)
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
    record_end(run, Status.SUCCESS)
    seconds = (run.finished_at - run.started_at).total_seconds()
    logger.info(
        "%s sync #%s (%s, %s): %d seen, %d created, %d updated, %d deleted in %.1f s, %d requests.",
        resource, run.pk, run.mode, run.trigger or "-", run.records_seen, run.records_created, run.records_updated,
        run.records_deleted, seconds, run.requests_made, extra=_run_fields(run, duration_seconds=round(seconds, 3)),
    )
    return run


def record_end(run: SyncRun, status: str, kind: str = "", text: str = "", *,
               waits: tuple[float, ...] = RECORD_WAITS) -> SyncRun:
    """``close_run``, tried again while the database does not answer (a few times, ~15 s in all).

    If it still cannot be recorded, the outcome is noted in Redis (``reap_dead_runs`` records it in
    these words once the database is back) and the database error is raised for the task to retry.
    """
    for attempt, pause in enumerate((*waits, None), start=1):
        try:
            return close_run(run, status, kind, text)
        except DATABASE_ERRORS as exc:
            if pause is None:
                logger.error("%s sync #%s: the database did not take its outcome after %d attempts.",
                             run.resource, run.pk, attempt)
                note_outcome(run, *((kind, text) if status == Status.FAILED else classify(exc)))
                raise
            logger.warning("%s sync #%s: the database did not take its outcome (%s); trying again in %s s.",
                           run.resource, run.pk, type(exc).__name__, pause)
            time.sleep(pause)
            if not connection.in_atomic_block:
                close_old_connections()  # a broken connection is replaced on the next query
    raise AssertionError("unreachable")  # pragma: no cover


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
