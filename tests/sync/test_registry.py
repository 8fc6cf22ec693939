"""The registry of synced resources: the task names and beat's schedule stay as queued messages and
the beat schedule file know them, and every resource is a ``SyncRun`` choice."""

from __future__ import annotations

import pytest
from celery.schedules import crontab

from helpdesk.celery import app
from inbox.models import SyncRun
from inbox.sync import registry, tasks


def test_every_resource_is_a_syncrun_choice_and_every_mode_a_syncrun_mode():
    assert set(registry.NAMES) == set(SyncRun.Resource.values)
    assert set(registry.MODES) == set(SyncRun.Mode.values)


def test_the_task_names_are_kept():
    assert tasks.sync_messages.name == "inbox.tasks.sync_messages"
    assert tasks.sync_accounts.name == "inbox.tasks.sync_accounts"
    assert tasks.sync_full.name == "inbox.tasks.sync_full"
    for name in ("inbox.tasks.sync_messages", "inbox.tasks.sync_accounts", "inbox.tasks.sync_full"):
        task = app.tasks[name]
        assert task.acks_late and task.ignore_result


def test_the_beat_schedule_is_built_from_the_registry(settings):
    settings.NEXUDUS_FULL_SYNC_HOUR, settings.NEXUDUS_FULL_SYNC_MINUTE = 3, 17
    assert registry.beat_schedule() == {
        "sync-messages": {
            "task": "inbox.tasks.sync_messages",
            "schedule": settings.NEXUDUS_SYNC_INTERVAL,
            "options": {"expires": settings.NEXUDUS_SYNC_INTERVAL},
        },
        "sync-accounts": {
            "task": "inbox.tasks.sync_accounts",
            "schedule": settings.NEXUDUS_ACCOUNTS_SYNC_INTERVAL,
            "options": {"expires": settings.NEXUDUS_ACCOUNTS_SYNC_INTERVAL},
        },
        "full-reconcile": {"task": "inbox.tasks.sync_full", "schedule": crontab(hour=3, minute=17)},
    }


def test_the_celery_app_runs_that_schedule():
    assert app.conf.beat_schedule.keys() == registry.beat_schedule().keys()
    assert {key: entry["task"] for key, entry in app.conf.beat_schedule.items()} == {
        key: entry["task"] for key, entry in registry.beat_schedule().items()
    }


def test_task_arguments_keep_their_shape():
    assert registry.MESSAGES.task_kwargs(mode="full", run_id=4, trigger="admin") == {
        "mode": "full", "run_id": 4, "trigger": "admin",
    }
    assert registry.ACCOUNTS.task_kwargs(mode="full", run_id=4, trigger="admin") == {"run_id": 4, "trigger": "admin"}


def test_modes():
    assert registry.MESSAGES.mode_for(None) == "incremental" and registry.MESSAGES.mode_for("full") == "full"
    assert registry.ACCOUNTS.mode_for("incremental") == "full"  # always walked whole
    with pytest.raises(ValueError, match="'incremental' or 'full'"):
        registry.MESSAGES.mode_for("partial")
    with pytest.raises(ValueError, match="'messages' or 'accounts'"):
        registry.get("coworkers")
    assert [r.name for r in registry.reconcile_order()] == ["accounts", "messages"]
