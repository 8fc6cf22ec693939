"""Backing off from a sick Nexudus: how long beat's routine runs of a resource wait after failures.

A run that fails because Nexudus is unavailable has already retried each request (the client's
attempts); beat starting the next one every minute only adds load on an API that is down. One
that fails because Nexudus refused the credentials will fail the same way until someone changes
them, and a password tried every minute is how an API user gets locked out or a tenant's security
alerts go off. So after ``failures`` such runs in a row (since the last success), the next routine run waits
``SYNC_BACKOFF_BASE`` seconds after the last one ended, doubling with each failure, up to
``SYNC_BACKOFF_MAX`` (exponential backoff, as https://aws.amazon.com/builders-library/timeouts-retries-and-backoff-with-jitter/
describes). It is worked out from the runs themselves, so every worker, /sync/ and /healthz agree;
one success ends it. Runs an admin starts (Sync now) are not held back, and count when they fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min
from django.utils import timezone

from inbox.models import SyncRun


#: The ``error_kind`` of the failed runs that make beat's routine runs wait.
BACKOFF_KINDS = ("unavailable", "credentials")


@dataclass(frozen=True, slots=True)
class Backoff:
    failures: int  # runs failed with Nexudus unavailable (or refusing the credentials) since the last success
    since: datetime  # when the first of them started
    last_failure: datetime  # when the last of them ended
    next_try: datetime  # beat's routine runs wait until then

    def waiting(self, now: datetime) -> bool:
        return now < self.next_try

    def as_json(self) -> dict:
        return {
            "failures": self.failures,
            "since": self.since.isoformat(),
            "next_try": self.next_try.isoformat(),
        }


def delay_after(failures: int) -> timedelta:
    """The wait after ``failures`` failed runs in a row: the base, doubled each time, capped."""
    if failures < 1:
        return timedelta(0)
    seconds = min(settings.SYNC_BACKOFF_MAX, settings.SYNC_BACKOFF_BASE * 2 ** min(failures - 1, 30))
    return timedelta(seconds=max(0, seconds))


def backoff_for(resource: str) -> Backoff | None:
    """The backoff in force for ``resource``, or None when its last run that reached Nexudus worked.

    Only runs that started and failed because Nexudus was unavailable or refused the credentials
    count: not a worker that died, the database, another error, or a run that never reached Nexudus
    (no worker, no Redis).
    """
    last_success = SyncRun.objects.successes(resource).values_list("finished_at", flat=True).first()
    failed = SyncRun.objects.filter(
        resource=resource, status=SyncRun.Status.FAILED, error_kind__in=BACKOFF_KINDS,
        started_at__isnull=False, finished_at__isnull=False,
    )
    if last_success is not None:
        failed = failed.filter(finished_at__gt=last_success)
    found = failed.aggregate(failures=Count("id"), since=Min("started_at"), last=Max("finished_at"))
    if not found["failures"]:
        return None
    return Backoff(
        failures=found["failures"],
        since=found["since"],
        last_failure=found["last"],
        next_try=found["last"] + delay_after(found["failures"]),
    )


def routine_run_waits(resource: str) -> Backoff | None:
    """The backoff if beat's routine run of ``resource`` must not call Nexudus now, else None."""
    backoff = backoff_for(resource)
    return backoff if backoff is not None and backoff.waiting(timezone.now()) else None
