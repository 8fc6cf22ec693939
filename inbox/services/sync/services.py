"""The public services: sync messages or accounts now (tasks, the command), or queue a sync (the /sync/ page)."""

from __future__ import annotations

import logging
from functools import partial

import kombu.exceptions
import redis.exceptions
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from inbox.platform.locks import LockError, RedisLock
from inbox.models import SyncRun
from inbox.nexudus import NexudusClient

from .accounts import accounts_work
from .context import Progress
from .messages import messages_work
from .runs import execute, reap_dead_runs

logger = logging.getLogger(__name__)

Resource = SyncRun.Resource
Mode = SyncRun.Mode
Status = SyncRun.Status


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
    """Sync CoworkerMessages (``incremental`` from the last watermark, or ``full``); the run, finished.

    Failures are recorded on the run (status failed, ``error``, ``error_kind``), not raised. Waits
    up to ``lock_wait`` seconds (default ``SYNC_LOCK_WAIT``) for another run of messages to end;
    if it does not, the given ``run`` is failed, or :class:`SyncBusy` is raised when none was given.
    """
    if mode not in Mode.values:
        raise ValueError(f"Unknown sync mode {mode!r}: use 'incremental' or 'full'.")
    return execute(
        resource=Resource.MESSAGES, mode=mode, run=run, client=client, progress=progress,
        trigger=trigger, task_id=task_id, lock_wait=lock_wait,
        work=lambda ctx: messages_work(ctx, mode),
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
    return execute(
        resource=Resource.ACCOUNTS, mode=Mode.FULL, run=run, client=client, progress=progress,
        trigger=trigger, task_id=task_id, lock_wait=lock_wait, work=accounts_work,
    )


def request_sync(*, resource: str, mode: str, trigger: str) -> tuple[SyncRun, bool]:
    """Queue a sync of ``resource`` unless one that covers it is queued or running; (the run, whether
    it is new).

    A full run covers either mode, an incremental one only an incremental request: a Full resync
    asked while an incremental sync runs is queued behind it (it waits for the lock), not dropped.
    Runs whose worker died are reaped first (and started again), so a dead run never answers for a
    new request. The task is sent after the transaction commits, so the worker always finds the run.
    """
    if resource not in Resource.values:
        raise ValueError(f"Unknown resource {resource!r}: use 'messages' or 'accounts'.")
    if mode not in Mode.values:
        raise ValueError(f"Unknown sync mode {mode!r}: use 'incremental' or 'full'.")
    if resource == Resource.ACCOUNTS:
        mode = Mode.FULL  # accounts are always walked whole
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
            transaction.on_commit(partial(_enqueue, run.pk, resource, mode, trigger))
    finally:
        gate.release()
    run.refresh_from_db()
    return run, True


def _enqueue(run_id: int, resource: str, mode: str, trigger: str) -> None:
    from inbox import tasks

    try:
        if resource == Resource.MESSAGES:
            result = tasks.sync_messages.apply_async(kwargs={"mode": mode, "run_id": run_id, "trigger": trigger})
        else:
            result = tasks.sync_accounts.apply_async(kwargs={"run_id": run_id, "trigger": trigger})
    except Exception as exc:
        kind, text = queue_failure(exc)
        logger.exception("Could not queue %s sync #%s: %s", resource, run_id, text)
        SyncRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
            status=Status.FAILED, finished_at=timezone.now(), error_kind=kind,
            error=f"The sync could not be queued: {text}",
        )
        return
    SyncRun.objects.filter(pk=run_id, task_id="").update(task_id=result.id or "")


def queue_failure(exc: BaseException) -> tuple[str, str]:
    """Why a task could not be queued, as (error kind, a sentence naming the real cause and its fix).

    "Redis did not answer" is kept for connection failures; a missing package, a value that cannot
    be serialised or a misconfiguration each say so in their own words.
    """
    chain = _exception_chain(exc)
    words = f"{type(exc).__name__}: {exc}".rstrip(": ")
    for cause in chain:
        if isinstance(cause, ImportError):
            missing = f" ({cause.name})" if getattr(cause, "name", None) else ""
            return "setup", (
                f"a Python package is missing{missing}: {type(cause).__name__}: {cause}. Install the "
                "locked requirements into the server's virtualenv (scripts/bootstrap, or "
                "pip install --require-hashes -r requirements.txt) and restart the web and workers."
            )
    for cause in chain:
        if isinstance(cause, kombu.exceptions.EncodeError):
            return "error", (
                f"the task's arguments could not be serialised ({type(cause).__name__}: {cause}). "
                "This is a bug in the dashboard: please report it with this message."
            )
    for cause in chain:
        if isinstance(cause, (ImproperlyConfigured, ValueError, KeyError)):
            return "setup", (
                f"the Celery set-up is wrong ({type(cause).__name__}: {cause}). Check REDIS_URL (the "
                "broker's address, redis://[:password@]host:port/db) in the server's environment."
            )
    for cause in chain:
        if isinstance(cause, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                              kombu.exceptions.OperationalError, ConnectionError, TimeoutError, OSError)):
            return "unavailable", (
                f"the Celery broker (Redis) did not answer ({words}). Check that Redis and the "
                "worker are running and that REDIS_URL points at them."
            )
    return "error", f"{words}."


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
