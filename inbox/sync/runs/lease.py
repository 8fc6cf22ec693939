"""A running sync's lease: its Redis lock renewed, and its heartbeat recorded, while it runs.

The lock is taken on a short lease (``SYNC_LOCK_LEASE``), so that a worker killed as a whole (an
OOM kill, a host crash) frees the resource within about a minute. One page can take longer than
that to fetch (Nexudus slow, throttled, retried), so renewing between pages is not enough: a timer
thread renews the lease every ``SYNC_HEARTBEAT_INTERVAL`` seconds and records the run's
``heartbeat_at`` for as long as the run goes on. It dies with its process, which is the point.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from inbox.models import SyncRun
from inbox.platform.locks import RedisLock

logger = logging.getLogger(__name__)


def beat(run_id: int, requests: int | None = None) -> None:
    """Record that the worker running (or waiting to run) ``run_id`` is alive, and how many
    requests it has sent so far (a page throttled or retried for minutes shows them climbing on
    the sync page, rather than "0 requests" until the page arrives).

    A database that does not answer for a moment does not stop the run: the lock, renewed in
    Redis, is what keeps it; the next beat records it.
    """
    changes = {"heartbeat_at": timezone.now()}
    if requests is not None:
        changes["requests_made"] = requests
    try:
        SyncRun.objects.filter(pk=run_id).update(**changes)
    except DatabaseError as exc:
        logger.warning("Sync run #%s: could not record its heartbeat (%s).", run_id, type(exc).__name__)


class LeaseKeeper:
    """``with LeaseKeeper(lock, run.pk):`` renews ``lock`` and beats for the run from a daemon thread.

    ``lost`` turns true when the lock was found taken or expired: the run then stops at its next
    page (``RunContext.heartbeat``) rather than run alongside another.
    """

    def __init__(self, lock: RedisLock, run_id: int, *, interval: float | None = None):
        self.lock = lock
        self.run_id = run_id
        self.interval = interval if interval is not None else settings.SYNC_HEARTBEAT_INTERVAL
        self.lost = False
        self.requests: Callable[[], int] | None = None  # the run's requests so far, once its client exists
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LeaseKeeper:
        self._thread = threading.Thread(target=self._run, name=f"sync-lease-{self.run_id}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                if not self.lock.extend():
                    self.lost = True
                    logger.warning("Sync run #%s: its lock expired or was taken; it stops at its next page.",
                                   self.run_id)
                    return
                beat(self.run_id, self.requests() if self.requests is not None else None)
        finally:
            connection.close()  # this thread's own connection, if it opened one
