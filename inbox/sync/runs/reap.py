"""Dead runs: closed in true words, and started again once.

A run is *running* only while it holds its resource's lock (its id is the lock's label) and renews
it; one whose worker died stops renewing, so within a lease (``SYNC_LOCK_LEASE``) it no longer
holds the lock and its ``heartbeat_at`` is older than the lease. A queued run waiting for the lock
beats too, so a worker that died while waiting is noticed the same way.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from inbox.models import SyncRun

from .. import queueing
from ..messages import _last_watermark
from ..registry import MESSAGES
from .end import WORKER_LOST, noted_outcome
from .lock import holder as lock_holder

logger = logging.getLogger(__name__)

Status = SyncRun.Status
Mode = SyncRun.Mode

#: A run lost with its worker is started again this many times, no more: a sync that kills its
#: worker each time (out of memory) must not loop.
MAX_RESTARTS = 1

WORKER_STOPPED = (
    "The worker stopped (killed or restarted) while this sync ran; what it applied is kept, and "
    "the sync is started again."
)
WORKER_STOPPED_AGAIN = (
    "The worker stopped (killed or restarted) while this sync ran, a second time: it is not started "
    "again. Check the worker's memory and log; the next scheduled sync tries again."
)


def reap_dead_runs(resource: str, *, holder: str | None = None) -> int:
    """Close runs that can no longer finish: their worker died running them, or none ever took them.

    ``holder``: the caller holds the lock under this label, so every other running run is dead.
    Otherwise a running run is dead when it is not the holder and its heartbeat is older than the
    lease. A dead run is failed in true words and started again once, unless a later run covers
    it. A queued run whose waiting worker stopped beating is sent to the workers again (once); a
    queued run that no worker took within ``SYNC_LOCK_TIMEOUT`` is failed.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SYNC_LOCK_LEASE)
    runs = SyncRun.objects.filter(resource=resource).annotate(beat_at=Coalesce("heartbeat_at", "started_at", "created_at"))
    if holder is None:
        try:
            holder = lock_holder(resource)
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
    if run.mode == Mode.FULL and not (run.resource == MESSAGES.name and _last_watermark() is None):
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
        transaction.on_commit(partial(queueing.enqueue, again.pk, again.resource, again.mode, again.trigger))
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
    transaction.on_commit(partial(queueing.enqueue, run.pk, run.resource, run.mode, run.trigger or "restart"))
