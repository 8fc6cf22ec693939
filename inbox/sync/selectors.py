"""Reads for the sync page: each resource's latest, active and last good run, and what comes next.

The next scheduled run is beat's own plan when beat reports it (``inbox/sync/beat.py``: when each
task goes next, as beat's schedule file has it), else worked out from ``registry.beat_schedule()``
(the entries beat runs) and the last run beat started.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from celery.schedules import crontab
from celery.schedules import schedule as interval_schedule
from django.conf import settings

from inbox import timefmt
from inbox.accounts.rules import ago
from inbox.models import SyncRun

from . import registry
from .beat import BeatState, beat_state
from .runs.backoff import Backoff, backoff_for

ACTIVE = (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING)
HISTORY_SIZE = 25

# Words an admin can act on, by the sync's ``error_kind``.
ADVICE = {
    "credentials": (
        "Nexudus refused the credentials: check NEXUDUS_USERNAME / NEXUDUS_PASSWORD in the server's "
        "environment (and NEXUDUS_TOTP if that Nexudus user signs in with two-factor authentication), "
        "and that the user holds the CoworkerMessage-List/Read, EmailAccount-List/Read and "
        "Business-List roles; restart the workers, then press Sync now."
    ),
    "setup": (
        "The server is not set up completely (a missing package or a wrong setting, named below). "
        "Fix it, restart the web server and the workers, then press Sync now."
    ),
    "unavailable": (
        "The sync did not get through, even after retrying: Nexudus was down or slow, asked the "
        "help desk to wait, or Redis did not answer (the error below says which). The sync tries "
        "again by itself; if this repeats, check what the error names."
    ),
    "worker": (
        "The Celery worker stopped while this sync ran (it was killed or restarted, perhaps out of "
        "memory). Nothing is lost: the sync is started again by itself."
    ),
    "database": (
        "The database did not answer during this sync. The sync is tried again once it answers; if "
        "this repeats, check the database server and DATABASE_URL."
    ),
}


@dataclass(slots=True)
class ResourceState:
    resource: str
    label: str
    latest: SyncRun | None  # the newest run, whatever its state
    last_success: SyncRun | None
    next_run: datetime | None
    interval: timedelta | None
    next_full: datetime | None
    now: datetime
    backoff: Backoff | None = None  # Nexudus failing: beat's routine runs wait until backoff.next_try
    beat: BeatState | None = None  # beat's last report of its plan (None: it never reported)

    @property
    def beat_silent(self) -> bool:
        """Beat reported once, but not lately: it has stopped (or cannot reach Redis)."""
        return self.beat is not None and self.beat.silent(self.now)

    @property
    def backing_off(self) -> bool:
        return self.backoff is not None and self.backoff.waiting(self.now)

    @property
    def backoff_max_text(self) -> str:
        return ago(timedelta(seconds=settings.SYNC_BACKOFF_MAX))

    @property
    def active(self) -> bool:
        return self.latest is not None and self.latest.status in ACTIVE

    @property
    def last_success_ago(self) -> str:
        finished = self.last_success.finished_at if self.last_success else None
        return f"{ago(self.now - finished)} ago" if finished else ""

    @property
    def next_run_text(self) -> str:
        """When beat should start the next routine run, in words (and whether it seems late)."""
        if self.interval is None:
            return "not scheduled"
        if self.next_run is None:
            return "when the scheduler (Celery beat) first runs it: it has not reported yet, is it running?"
        late = self.now - self.next_run
        if late > self.interval:
            return f"overdue by {timefmt.wait_length(int(late.total_seconds()))}: is Celery beat running?"
        if self.backing_off:
            return timefmt.ahead((self.next_try_run - self.now).total_seconds()) + ", backing off while Nexudus fails"
        if late > -timedelta(seconds=1):  # not "in 0 seconds"
            return "due now"
        # Written as every time ahead is ("in 5 min", "in 16 h": inbox/timefmt.py).
        return timefmt.ahead(-late.total_seconds())

    @property
    def next_try_run(self) -> datetime | None:
        """While backing off, when beat's next run that is not skipped starts: the first of its
        runs at or after the backoff's next try (the backoff's own time, when beat's plan is not known)."""
        if self.backoff is None:
            return None
        if self.next_run is None or not self.interval:
            return self.backoff.next_try
        ticks = max(0, math.ceil((self.backoff.next_try - self.next_run) / self.interval))
        return self.next_run + ticks * self.interval

    @property
    def interval_text(self) -> str:
        return timefmt.every(int(self.interval.total_seconds())) if self.interval else ""

    @property
    def can_full(self) -> bool:
        """A Full resync is offered for a resource whose routine runs fetch only what changed."""
        return registry.get(self.resource).has_incremental


def resource_states(*, now: datetime) -> list[ResourceState]:
    beat = beat_state()
    return [resource_state(resource.name, now=now, beat=beat) for resource in registry.RESOURCES]


_ASK = object()


def resource_state(resource: str, *, now: datetime, beat: BeatState | None | object = _ASK) -> ResourceState:
    entry = registry.get(resource)
    runs = SyncRun.objects.filter(resource=resource)
    latest = runs.order_by("-created_at", "-id").first()
    last_success = SyncRun.objects.last_success(resource)
    # Beat's routine runs (the nightly reconcile is on its own schedule, and full: a resource that
    # runs incrementally tells them apart by the mode; for one that is always walked whole, they count).
    beat_runs = runs.filter(trigger="beat")
    if entry.has_incremental:
        beat_runs = beat_runs.exclude(mode=SyncRun.Mode.FULL)
    last_beat = beat_runs.order_by("-created_at", "-id").first()
    every = beat_interval(entry.task)
    if beat is _ASK:
        beat = beat_state()
    planned = beat.next_runs.get(entry.task) if beat is not None and not beat.silent(now) else None
    if every is None:
        next_run = None
    elif planned is not None:
        next_run = planned  # beat's own plan: right from the minute beat started
    else:
        next_run = _started(last_beat) + every if last_beat is not None else None
    backoff = backoff_for(resource)
    if every is not None and backoff is not None and backoff.waiting(now):
        # Beat's runs before it are skipped: the next one that goes is the first tick after it.
        next_run = backoff.next_try if next_run is None else max(next_run, backoff.next_try)
    full = beat_entry(registry.FULL_RECONCILE_TASK)
    next_full = _next_cron(full, now) if full is not None else None
    if planned is not None and beat is not None and registry.FULL_RECONCILE_TASK in beat.next_runs:
        next_full = beat.next_runs[registry.FULL_RECONCILE_TASK]
    return ResourceState(
        resource=resource,
        label=SyncRun.Resource(resource).label,
        latest=latest,
        last_success=last_success,
        next_run=next_run,
        interval=every,
        next_full=next_full,
        now=now,
        backoff=backoff,
        beat=beat,
    )


def recent_runs(*, limit: int = HISTORY_SIZE) -> list[SyncRun]:
    return list(SyncRun.objects.order_by("-created_at", "-id")[:limit])


def run_latest_for(resource: str) -> SyncRun | None:
    return SyncRun.objects.filter(resource=resource).order_by("-created_at", "-id").first()


def advice(run: SyncRun | None) -> str:
    if run is None or run.status != SyncRun.Status.FAILED:
        return ""
    return ADVICE.get(run.error_kind, "")


def progress_percent(run: SyncRun) -> int | None:
    """How far a run is, 0-100; 100 only once it has succeeded.

    After its last page a run still has work (a full walk looks for deletions and recomputes
    awaiting reply), so a running run stops at 99: a bar at 100 beside "Running" reads as stuck.
    """
    if run.status == SyncRun.Status.SUCCESS:
        return 100
    if not run.pages_total:
        return None
    return max(0, min(99, round(100 * run.pages_done / run.pages_total)))


def finishing(run: SyncRun) -> bool:
    """Every page is read but the run has not ended: deletions, awaiting reply, customers."""
    return run.status == SyncRun.Status.RUNNING and bool(run.pages_total) and run.pages_done >= run.pages_total


def beat_entry(task: str):
    for entry in registry.beat_schedule().values():
        if entry.get("task") == task:
            return entry["schedule"]
    return None


def beat_interval(task: str) -> timedelta | None:
    value = beat_entry(task)
    if isinstance(value, (int, float)):
        return timedelta(seconds=value)
    if isinstance(value, timedelta):
        return value
    if isinstance(value, interval_schedule) and not isinstance(value, crontab):
        return value.run_every
    return None


def _next_cron(value, now: datetime) -> datetime | None:
    if isinstance(value, crontab):
        return now + value.remaining_estimate(now)
    every = value if isinstance(value, timedelta) else None
    return now + every if every else None


def _started(run: SyncRun) -> datetime:
    return run.started_at or run.created_at


QUEUED_TOO_LONG = timedelta(seconds=30)


@dataclass  # not slots: waits_for is a cached_property
class SyncCard:
    """What one resource's component shows: its state and one run (the newest, or the one an
    admin just asked for)."""

    state: ResourceState
    run: SyncRun | None
    now: datetime
    note: str = ""

    @property
    def active(self) -> bool:
        return self.run is not None and self.run.status in ACTIVE

    @property
    def percent(self) -> int | None:
        return progress_percent(self.run) if self.run else None

    @property
    def finishing(self) -> bool:
        return finishing(self.run) if self.run else False

    @property
    def advice(self) -> str:
        return advice(self.run)

    @property
    def struggling(self) -> bool:
        """Running, and its requests outrun its pages (one page each, and a sign-in or two): Nexudus
        is asking it to wait, or failing requests that are tried again."""
        run = self.run
        return bool(run and run.status == SyncRun.Status.RUNNING and run.requests_made > run.pages_done + 3)

    @property
    def is_retry(self) -> bool:
        """A run queued by a failed one to try again after a pause (inbox/sync/tasks.py)."""
        return bool(self.run and self.run.status == SyncRun.Status.QUEUED and self.run.trigger == "retry")

    @property
    def retry_pause_max(self) -> timedelta:
        """The longest pause before a retry: SYNC_RETRY_DELAY, doubled at each retry."""
        return timedelta(seconds=settings.SYNC_RETRY_DELAY * 2 ** max(0, settings.SYNC_TASK_MAX_RETRIES - 1))

    @property
    def retry_pause_text(self) -> str:
        return timefmt.wait_length(int(self.retry_pause_max.total_seconds()))

    @cached_property
    def waits_for(self) -> SyncRun | None:
        """The run of the same resource still running ahead of this queued one (it takes the lock
        when that one ends), or None."""
        if not self.run or self.run.status != SyncRun.Status.QUEUED:
            return None
        return (
            SyncRun.objects.filter(resource=self.run.resource, status=SyncRun.Status.RUNNING)
            .exclude(pk=self.run.pk).order_by("-started_at", "-id").first()
        )

    @property
    def waiting_long(self) -> bool:
        """Queued for longer than a worker takes to pick it up: say that a worker may be missing.
        Not for a run waiting for another to end, nor for a retry within its pause."""
        if not self.run or self.run.status != SyncRun.Status.QUEUED or self.waits_for is not None:
            return False
        patience = QUEUED_TOO_LONG + (self.retry_pause_max if self.is_retry else timedelta(0))
        return self.now - self.run.created_at > patience


def sync_cards(*, now: datetime) -> list[SyncCard]:
    return [SyncCard(state=s, run=s.latest, now=now) for s in resource_states(now=now)]
