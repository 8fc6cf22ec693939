"""The public services: sync a resource now (the tasks, the command), or queue a sync (the /sync/ page)."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from inbox.models import SyncRun
from inbox.nexudus import NexudusClient
from inbox.platform.locks import LockError, RedisLock

from . import queueing, registry
from .context import Progress
from .runs.reap import reap_dead_runs
from .runs.start import execute

Mode = SyncRun.Mode
Status = SyncRun.Status


def sync_resource(
    *,
    resource: str,
    mode: str | None = None,
    client: NexudusClient | None = None,
    run: SyncRun | None = None,
    progress: Progress | None = None,
    trigger: str = "",
    task_id: str = "",
    lock_wait: float | None = None,
) -> SyncRun:
    """Sync ``resource`` now (in ``mode``; by default the one beat uses); the run, finished.

    Failures are recorded on the run (status failed, ``error``, ``error_kind``), not raised. Waits
    up to ``lock_wait`` seconds (default ``SYNC_LOCK_WAIT``) for another run of the resource to end;
    if it does not, the given ``run`` is failed, or ``SyncBusy`` is raised when none was given.
    """
    entry = registry.get(resource)
    mode = entry.mode_for(mode)
    return execute(
        resource=entry.name, mode=mode, run=run, client=client, progress=progress,
        trigger=trigger, task_id=task_id, lock_wait=lock_wait,
        work=lambda ctx: entry.work_function()(ctx, mode),
    )


def sync_messages(
    *,
    mode: str = Mode.INCREMENTAL,
    client: NexudusClient | None = None,
    run: SyncRun | None = None,
    progress: Progress | None = None,
    trigger: str = "",
    task_id: str = "",
    lock_wait: float | None = None,
) -> SyncRun:
    """Sync CoworkerMessages (``incremental`` from the last watermark, or ``full``); see ``sync_resource``."""
    return sync_resource(
        resource=registry.MESSAGES.name, mode=mode, client=client, run=run, progress=progress,
        trigger=trigger, task_id=task_id, lock_wait=lock_wait,
    )


def sync_accounts(
    *,
    client: NexudusClient | None = None,
    run: SyncRun | None = None,
    progress: Progress | None = None,
    trigger: str = "",
    task_id: str = "",
    lock_wait: float | None = None,
) -> SyncRun:
    """Sync businesses and EmailAccounts (always a full walk: there are few), then account health."""
    return sync_resource(
        resource=registry.ACCOUNTS.name, client=client, run=run, progress=progress,
        trigger=trigger, task_id=task_id, lock_wait=lock_wait,
    )


def request_sync(*, resource: str, mode: str, trigger: str) -> tuple[SyncRun, bool]:
    """Queue a sync of ``resource`` unless one that covers it is queued or running; (the run, whether
    it is new).

    A full run covers either mode, an incremental one only an incremental request: a Full resync
    asked while an incremental sync runs is queued behind it (it waits for the lock), not dropped.
    Runs whose worker died are reaped first (and started again), so a dead run never answers for a
    new request. The task is sent after the transaction commits, so the worker always finds the run.
    """
    entry = registry.get(resource)
    mode = entry.mode_for(mode)
    resource = entry.name
    # Two clicks at once must not queue two runs: a short lock around check-then-create.
    gate = RedisLock(f"request:{resource}", timeout=30, label="request")
    if not gate.acquire(wait=10):
        raise LockError(f"Another request to sync {resource} did not finish in time")
    try:
        reap_dead_runs(resource)
        active = SyncRun.objects.filter(resource=resource, status__in=[Status.QUEUED, Status.RUNNING])
        if mode == Mode.FULL:
            active = active.filter(mode=Mode.FULL)
        active = active.order_by("created_at", "id").first()
        if active is not None:
            return active, False
        with transaction.atomic():
            run = SyncRun.objects.create(resource=resource, mode=mode, status=Status.QUEUED, trigger=trigger)
            transaction.on_commit(partial(queueing.enqueue, run.pk, resource, mode, trigger))
    finally:
        gate.release()
    run.refresh_from_db()
    return run, True
