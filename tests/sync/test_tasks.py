"""The Celery tasks run in this process (``.apply``): skipping, retries, finished runs, their names.

Real database, real Redis, the sandbox over real HTTP; the same tasks through a real worker are in
``test_worker``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import CoworkerMessage, SyncRun
from inbox.platform.locks import RedisLock
from inbox.sync import tasks
from sandbox import services as sandbox
from tests.sync.fixtures import (  # noqa: F401 (fixtures)
    BOTH_DBS,
    nexudus_sandbox,
    seeded,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH_DBS)


def test_beat_skips_a_routine_sync_while_one_is_running(seeded, caplog):
    lock = RedisLock("sync:messages", timeout=30, label="77")
    assert lock.acquire()
    try:
        with caplog.at_level(logging.INFO, logger="inbox.sync.tasks"):
            tasks.sync_messages.apply(kwargs={"trigger": "beat"})
            tasks.sync_accounts.apply(kwargs={"trigger": "beat"})
    finally:
        lock.release()
    assert not SyncRun.objects.filter(resource="messages").exists()  # skipped, no run recorded
    assert "Messages sync skipped" in caplog.text and "run #77" in caplog.text
    assert SyncRun.objects.get(resource="accounts").status == "success"  # its own lock was free


def test_a_transient_failure_of_a_requested_sync_is_retried_boundedly(seeded, settings):
    settings.SYNC_TASK_MAX_RETRIES = 2
    settings.SYNC_RETRY_DELAY = 0
    sandbox.set_faults(failure_rate=1.0)
    try:
        run = SyncRun.objects.create(resource="messages", mode="full", status="queued", trigger="admin")
        tasks.sync_messages.apply(kwargs={"mode": "full", "run_id": run.pk, "trigger": "admin"})
    finally:
        sandbox.set_faults()
    runs = list(SyncRun.objects.order_by("id").values_list("trigger", "status", "error_kind"))
    assert runs == [("admin", "failed", "unavailable")] + [("retry", "failed", "unavailable")] * 2


def test_bad_credentials_are_not_retried_and_beat_runs_are_not_retried(seeded, settings):
    settings.SYNC_RETRY_DELAY = 0
    settings.NEXUDUS_PASSWORD = "wrong-password"
    run = SyncRun.objects.create(resource="messages", mode="full", status="queued", trigger="admin")
    tasks.sync_messages.apply(kwargs={"mode": "full", "run_id": run.pk, "trigger": "admin"})
    settings.NEXUDUS_PASSWORD = settings.SANDBOX_PASSWORD
    # Refused credentials back off beat's runs too (test_backoff.py): this one comes after that wait.
    SyncRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - timedelta(hours=1))
    sandbox.set_faults(failure_rate=1.0)
    try:
        tasks.sync_messages.apply(kwargs={"trigger": "beat"})
    finally:
        sandbox.set_faults()
    runs = list(SyncRun.objects.order_by("id").values_list("trigger", "error_kind"))
    assert runs == [("admin", "credentials"), ("beat", "unavailable")]


def test_a_finished_run_is_not_run_again(seeded):
    run = SyncRun.objects.create(resource="messages", mode="full", status="success", trigger="admin")
    tasks.sync_messages.apply(kwargs={"mode": "full", "run_id": run.pk, "trigger": "admin"})
    assert SyncRun.objects.count() == 1 and CoworkerMessage.objects.count() == 0
