"""Beat tells /sync/ its own plan (inbox/sync/beat.py): "Next scheduled run" is right from the
minute beat started, follows the runs beat sends, and a beat that went silent is said to be."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from helpdesk.celery import app
from inbox.platform import cache
from inbox.sync import beat, registry
from inbox.sync.selectors import resource_state
from tests.factories import make_success

MESSAGES_TASK = registry.MESSAGES.task


@pytest.fixture
def scheduler(tmp_path, monkeypatch, settings):
    cache.delete(beat.BEAT_STATE_KEY)
    sent = []
    monkeypatch.setattr(beat.Scheduler, "apply_entry", lambda self, entry, producer=None: sent.append(entry.task))
    made = beat.Scheduler(app=app, schedule_filename=str(tmp_path / "beat-schedule"), lazy=False)
    made.sent = sent
    yield made
    made.close()
    cache.delete(beat.BEAT_STATE_KEY)


def test_it_is_beats_scheduler(settings):
    assert settings.CELERY_BEAT_SCHEDULER == "inbox.sync.beat:Scheduler"
    assert app.conf.beat_scheduler == "inbox.sync.beat:Scheduler"


def test_beat_reports_its_plan_as_soon_as_it_starts(scheduler, settings):
    before = timezone.now()
    state = beat.beat_state()
    assert state is not None and not state.silent(timezone.now())
    interval = dt.timedelta(seconds=settings.NEXUDUS_SYNC_INTERVAL)
    # The first routine run goes an interval after beat started (nothing has run yet).
    planned = state.next_runs[MESSAGES_TASK]
    assert before + interval - dt.timedelta(seconds=2) <= planned <= timezone.now() + interval + dt.timedelta(seconds=1)
    assert registry.FULL_RECONCILE_TASK in state.next_runs
    assert scheduler.sent == []


def test_the_page_shows_beats_plan_before_beat_ran_anything(scheduler, db, settings):
    now = timezone.now()
    state = resource_state("messages", now=now)
    assert state.next_run == beat.beat_state().next_runs[MESSAGES_TASK]
    assert state.next_run_text.startswith("in ")  # not "when the scheduler first runs it"
    assert not state.beat_silent


def test_a_run_sent_moves_the_plan_on(scheduler, settings):
    interval = dt.timedelta(seconds=settings.NEXUDUS_SYNC_INTERVAL)
    entry = next(e for e in scheduler.schedule.values() if e.task == MESSAGES_TASK)
    entry.last_run_at = timezone.now() - 2 * interval  # overdue: the next tick sends it
    scheduler._heap = None
    for _ in range(5):
        if scheduler.sent:
            break
        scheduler.tick()
    assert scheduler.sent == [MESSAGES_TASK]
    state = beat.beat_state()
    assert timezone.now() - state.last_runs[MESSAGES_TASK] < dt.timedelta(seconds=5)
    assert abs(state.next_runs[MESSAGES_TASK] - (state.last_runs[MESSAGES_TASK] + interval)) < dt.timedelta(seconds=2)


def test_the_reported_plan_wins_over_the_guess_from_the_last_beat_run(db, settings):
    now = timezone.now()
    make_success("messages", now - dt.timedelta(minutes=30), trigger="beat")  # the guess: overdue
    planned = now + dt.timedelta(seconds=40)
    cache.set(beat.BEAT_STATE_KEY, {"at": now.isoformat(), "tasks": {
        MESSAGES_TASK: {"next": planned.isoformat(), "last": (now - dt.timedelta(seconds=20)).isoformat()}}}, 60)  # fmt: skip
    try:
        state = resource_state("messages", now=now)
        assert state.next_run == planned and state.next_run_text == "in 1 min"  # the rule of every time ahead (was "in 40 seconds")
    finally:
        cache.delete(beat.BEAT_STATE_KEY)


def test_a_silent_beat_is_said_to_be_and_its_old_plan_is_not_used(admin_client_, settings):
    now = timezone.now()
    reported = now - beat.SILENT_AFTER - dt.timedelta(minutes=1)
    cache.set(beat.BEAT_STATE_KEY, {"at": reported.isoformat(), "tasks": {
        MESSAGES_TASK: {"next": (reported + dt.timedelta(seconds=60)).isoformat(), "last": ""}}}, 600)  # fmt: skip
    try:
        state = resource_state("messages", now=now)
        assert state.beat_silent and state.next_run is None
        html = admin_client_.get("/sync/").content.decode()
        card = html.split('id="sync-card-messages"')[1].split("</section>")[0]
        assert "Celery beat last reported <time" in card and ">7 min ago</time>: is it running?" in card
    finally:
        cache.delete(beat.BEAT_STATE_KEY)


def test_nonsense_in_the_cache_is_no_report():
    cache.set(beat.BEAT_STATE_KEY, {"at": "yesterday", "tasks": []}, 60)
    try:
        assert beat.beat_state() is None
    finally:
        cache.delete(beat.BEAT_STATE_KEY)


def test_a_crontab_estimate_is_rounded_to_the_second():
    from celery.beat import ScheduleEntry
    from celery.schedules import crontab

    now = dt.datetime.now(dt.timezone.utc)  # beat's estimate counts from the real now
    entry = ScheduleEntry(name="full", task="t", schedule=crontab(hour=3, minute=17), last_run_at=now, app=app)
    state = beat.entries_state([entry], now=now)
    assert state["tasks"]["t"]["next"].endswith("T03:17:00+00:00"), state
