"""Celery beat's schedule as beat itself keeps it, told to the web pages.

Beat decides when each routine run goes: it keeps each entry's last run in its schedule file and
sends the task when the entry's interval has passed since then (the first time, an interval
after beat started). The web server cannot read that file (it is beat's, open for writing, and
perhaps on another machine), so beat runs with this scheduler (``CELERY_BEAT_SCHEDULER``): when it
starts, when it sends a task, and otherwise after its ticks at most every ``PUBLISH_SECONDS`` (beat
wakes when the next task is due, at least every 5 minutes), it writes when each task last went and
when it goes next into the cache (Redis, which web and beat share). ``/sync/`` reads that
(``beat_state``), so "Next scheduled run" is beat's own plan, minutes after beat started as
much as after its hundredth run; and a beat that stopped reporting is said to be silent.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from celery.beat import PersistentScheduler

from inbox.platform import cache

BEAT_STATE_KEY = "sync:beat-state:v1"
PUBLISH_SECONDS = 15.0
#: Beat wakes at least every few minutes (its loop waits at most beat_max_loop_interval, 5 minutes,
#: and less while a routine run is due sooner); a report older than this means beat is not running.
SILENT_AFTER = dt.timedelta(minutes=6)
KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class BeatState:
    reported_at: dt.datetime  # when beat last wrote this
    next_runs: dict[str, dt.datetime]  # task name -> when beat sends it next
    last_runs: dict[str, dt.datetime]  # task name -> when beat last sent it (or started counting)

    def silent(self, now: dt.datetime) -> bool:
        return now - self.reported_at > SILENT_AFTER


def entries_state(entries, *, now: dt.datetime) -> dict:
    """What to publish for beat's ``entries`` (``ScheduleEntry`` objects) at ``now`` (aware)."""
    tasks: dict[str, dict[str, str]] = {}
    for entry in entries:
        if not getattr(entry, "task", None) or entry.schedule is None:
            continue
        last = entry.last_run_at
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=dt.timezone.utc)
        remaining = entry.schedule.remaining_estimate(last) if last is not None else dt.timedelta(0)
        due = _to_second(now + max(remaining, dt.timedelta(0)))  # a crontab's estimate ends in .999 s
        earlier = tasks.get(entry.task)
        if earlier and dt.datetime.fromisoformat(earlier["next"]) <= due:
            continue  # two entries of one task: the sooner counts
        tasks[entry.task] = {"next": due.isoformat(), "last": last.isoformat() if last else ""}
    return {"at": now.isoformat(), "tasks": tasks}


def _to_second(value: dt.datetime) -> dt.datetime:
    return (value + dt.timedelta(microseconds=500_000)).replace(microsecond=0)


def publish(entries, *, now: dt.datetime) -> None:
    cache.set(BEAT_STATE_KEY, entries_state(entries, now=now), KEEP_SECONDS)


def beat_state() -> BeatState | None:
    """Beat's last report, or None (beat never reported, or the cache is down)."""
    value = cache.get(BEAT_STATE_KEY)
    try:
        tasks = value["tasks"]
        return BeatState(
            reported_at=dt.datetime.fromisoformat(value["at"]),
            next_runs={task: dt.datetime.fromisoformat(t["next"]) for task, t in tasks.items()},
            last_runs={task: dt.datetime.fromisoformat(t["last"]) for task, t in tasks.items() if t.get("last")},
        )
    except (TypeError, KeyError, ValueError, AttributeError):
        return None


class Scheduler(PersistentScheduler):
    """Beat's own scheduler (its schedule file, its timing), reporting its plan after its ticks."""

    _published_at = 0.0

    def setup_schedule(self):
        super().setup_schedule()
        self._report(force=True)

    def tick(self, *args, **kwargs):
        delay = super().tick(*args, **kwargs)
        self._report(force=delay == 0)  # 0: a task was just sent; its entry moved on
        return delay

    def _report(self, *, force: bool) -> None:
        if not force and time.monotonic() - self._published_at < PUBLISH_SECONDS:
            return
        self._published_at = time.monotonic()
        publish(self.schedule.values(), now=dt.datetime.now(dt.timezone.utc))
