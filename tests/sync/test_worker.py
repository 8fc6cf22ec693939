"""The Celery tasks with a real worker (threads) on the real Redis broker, syncing from the sandbox."""

from __future__ import annotations

import threading
import time

import pytest
from celery.signals import task_prerun

from inbox.models import CoworkerMessage, SyncRun
from inbox.sync import tasks
from inbox.sync.services import request_sync
from sandbox import services as sandbox
from tests.sync.fixtures import (  # noqa: F401 (fixtures)
    BOTH_DBS,
    assert_mirror_equals_source,
    nexudus_sandbox,
    seeded,
    server_errors,
)
from tests.workers import celery_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH_DBS)

FINISHED = (SyncRun.Status.SUCCESS, SyncRun.Status.FAILED)


def finished(*, count: int):
    runs = list(SyncRun.objects.filter(status__in=FINISHED).order_by("started_at", "id"))
    return runs if len(runs) >= count else None


@pytest.mark.worker
def test_the_nightly_full_sync_through_a_worker_equals_the_source(seeded):
    with celery_worker():
        tasks.sync_full.delay(trigger="test")
        runs = wait_for(lambda: finished(count=2), what="the accounts and messages runs")
    assert [(r.resource, r.mode, r.status) for r in runs] == [
        ("accounts", "full", "success"), ("messages", "full", "success"),
    ]
    assert all(r.task_id for r in runs)
    assert_mirror_equals_source()


@pytest.mark.worker
def test_two_syncs_started_at_once_run_one_after_the_other(seeded):
    """Two tasks reach a worker with two threads together; the lock makes the second wait."""
    sandbox.set_faults(latency_ms=120)  # each run takes over a second: overlap would show
    runs = [
        SyncRun.objects.create(resource="messages", mode="full", status="queued", trigger="test")
        for _ in range(2)
    ]
    began: dict[str, float] = {}
    guard = threading.Lock()

    def record(task_id=None, task=None, **kwargs):
        with guard:
            began[task_id] = time.time()

    task_prerun.connect(record, weak=False)
    try:
        with celery_worker(concurrency=2):
            for run in runs:
                tasks.sync_messages.delay(mode="full", run_id=run.pk, trigger="test")
            done = wait_for(lambda: finished(count=2), what="both runs")
    finally:
        task_prerun.disconnect(record)
        sandbox.set_faults()
    first, second = done
    assert first.status == second.status == "success", (first.error, second.error)
    assert first.finished_at <= second.started_at  # one after the other, not together
    assert (first.finished_at - first.started_at).total_seconds() > 1
    # ... although both tasks were running at once (the second waited for the lock).
    assert len(began) == 2 and max(began.values()) < first.finished_at.timestamp()
    assert (second.records_created, second.records_updated) == (0, 0)
    assert_mirror_equals_source(accounts=False)


@pytest.mark.worker
def test_request_sync_queues_once_and_a_worker_runs_it(seeded):
    sandbox.set_faults(latency_ms=100)
    try:
        with celery_worker():
            run, created = request_sync(resource="messages", mode="full", trigger="admin")
            again, created_again = request_sync(resource="messages", mode="full", trigger="admin")
            assert created and not created_again and again.pk == run.pk
            wait_for(lambda: SyncRun.objects.get(pk=run.pk).status in FINISHED, what="the requested run")
            run.refresh_from_db()
            assert run.status == "success" and run.trigger == "admin" and run.task_id
            assert SyncRun.objects.filter(resource="messages").count() == 1
            # Once it has finished, a new request queues a new run.
            accounts, created = request_sync(resource="accounts", mode="full", trigger="admin")
            next_run, created_next = request_sync(resource="messages", mode="incremental", trigger="admin")
            assert created and created_next and next_run.pk != run.pk
            wait_for(lambda: finished(count=3), what="the later runs")
    finally:
        sandbox.set_faults()
    assert set(SyncRun.objects.values_list("status", flat=True)) == {"success"}
    assert_mirror_equals_source()


@pytest.mark.worker
def test_random_failures_through_the_worker_end_equal_to_the_source(seeded, settings):
    settings.NEXUDUS_PAGE_SIZE = 20  # ~40 requests: some are sure to fail
    sandbox.set_faults(failure_rate=0.2)
    try:
        # After the worker starts: its start-up re-applies the logging configuration.
        with celery_worker(), server_errors() as errors:
            request_sync(resource="accounts", mode="full", trigger="test")
            request_sync(resource="messages", mode="full", trigger="test")
            runs = wait_for(lambda: finished(count=2), what="both runs")
            assert all(r.status == "success" for r in runs), [r.error for r in runs]
            ids = list(CoworkerMessage.objects.order_by("pk").values_list("pk", flat=True))
            sandbox.add_messages(15)
            sandbox.set_read(ids[::5], True)
            request_sync(resource="messages", mode="incremental", trigger="test")
            runs = wait_for(lambda: finished(count=3), what="the incremental run")
    finally:
        sandbox.set_faults()
    assert runs[-1].status == "success" and runs[-1].mode == "incremental"
    assert errors, "no fault was injected: the test proved nothing"
    assert_mirror_equals_source()
    assert CoworkerMessage.objects.count() == 435
