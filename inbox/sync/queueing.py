"""A run's task sent to the workers, and, when it cannot be, the run failed saying why.

The task is found by name through the registry, so queueing a sync never imports the tasks module
(which imports the services that queue).
"""

from __future__ import annotations

import logging

import kombu.exceptions
import redis.exceptions
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from inbox.models import SyncRun

from . import registry

logger = logging.getLogger(__name__)

Status = SyncRun.Status


def enqueue(run_id: int, resource: str, mode: str, trigger: str) -> None:
    """Send the task that carries out run ``run_id`` (call it after the run's transaction commits)."""
    task = registry.get(resource).signature(mode=mode, run_id=run_id, trigger=trigger)
    try:
        result = task.apply_async()
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
