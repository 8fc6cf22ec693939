"""Taking a resource's lock: one run at a time per resource, waited for or refused.

The lock is a short lease (``SYNC_LOCK_LEASE``) labelled with the run's id, which the run renews
(``lease.LeaseKeeper``): a run whose worker was killed no longer renews it, so it frees itself
within a lease.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.utils import timezone

from inbox.models import SyncRun
from inbox.platform.locks import RedisLock, holder_label

from .lease import beat

logger = logging.getLogger(__name__)


class SyncBusy(Exception):
    """Another run of the same resource holds the lock (only raised when no run was given)."""


def lock_name(resource: str) -> str:
    return f"sync:{resource}"


def resource_lock(resource: str) -> RedisLock:
    """The resource's lock, not taken yet (labelled "starting" until the run it guards has an id)."""
    return RedisLock(lock_name(resource), label="starting")


def holder(resource: str) -> str | None:
    """The label (a run's id) of whoever holds the resource's lock, or None when it is free."""
    return holder_label(lock_name(resource))


def dead_holder_lease(lock: RedisLock) -> float:
    """Seconds left on the lock's lease when its holder has stopped beating (its worker is most
    likely dead), else 0. A routine run, which does not wait for a live holder, waits that long
    rather than skip: the resource is picked up as soon as the lease runs out, not a beat later."""
    try:
        label = lock.holder()
        if not label or not label.isdigit():
            return 0.0
        beat_at = (
            SyncRun.objects.filter(pk=label, status=SyncRun.Status.RUNNING)
            .values_list("heartbeat_at", flat=True).first()
        )
        if beat_at is None or (timezone.now() - beat_at).total_seconds() < 2 * settings.SYNC_HEARTBEAT_INTERVAL:
            return 0.0
        left = lock.client.pttl(lock.key) / 1000
    except Exception as exc:  # a look, no more: Redis or the database not answering is not fatal here
        logger.debug("Could not tell whether the holder of %s is alive: %s", lock.key, exc)
        return 0.0
    return left + 1.0 if 0 < left <= settings.SYNC_LOCK_LEASE else 0.0


def wait_for_lock(lock: RedisLock, run: SyncRun | None, wait: float) -> bool:
    """Wait up to ``wait`` seconds for the lock; a given run beats meanwhile, so that a worker that
    dies while it waits is noticed (``reap.reap_dead_runs`` sends the run out again)."""
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        if run is not None and run.pk is not None and wait > 0:
            beat(run.pk)
        remaining = deadline - time.monotonic()
        if lock.acquire(wait=max(0.0, min(settings.SYNC_HEARTBEAT_INTERVAL, remaining))):
            return True
        if time.monotonic() >= deadline:
            return False
