"""A run's end: what stopped it, in words an admin can act on, recorded even through an outage.

Failures end up on the run (status, ``error_kind``, a sentence), not raised. When the database does
not take a run's end, it is tried again for a while, then noted in Redis for whoever closes the run
next (``reap.reap_dead_runs``, or the task retried once the database answers).
"""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.utils import timezone

from inbox.context_processors import forget_last_synced
from inbox.models import SyncRun
from inbox.nexudus import NexudusAuthError, NexudusError, NexudusUnavailable
from inbox.platform.locks import LockError, redis_client

from ..accounts import HealthFailed
from ..context import LockLost

logger = logging.getLogger(__name__)

Status = SyncRun.Status

#: error_kind of a run whose worker died, and of one the database failed.
WORKER_LOST = "worker"
DATABASE = "database"
#: The database errors that mean "unreachable", not a bug (PEP 249's OperationalError/InterfaceError).
DATABASE_ERRORS = (OperationalError, InterfaceError)
#: Attempts at recording a run's end while the database does not answer, and the waits between.
RECORD_WAITS = (1, 2, 4, 8)


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


def close_run(run: SyncRun, status: str, kind: str = "", text: str = "") -> SyncRun:
    run.status = status
    run.finished_at = timezone.now()
    run.error_kind = kind
    run.error = text
    if run.pk is None:
        run.save()
    else:
        run.save(update_fields=["status", "finished_at", "error_kind", "error", "warning"])
    if run.resource == SyncRun.Resource.MESSAGES:
        forget_last_synced()  # the top bar's "Synced 3 min ago" or "Sync failing" reads this end at once
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
