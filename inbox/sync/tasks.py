"""Celery tasks: thin wrappers that take plain values, call one sync service, and own retries.

One task per resource of the registry (``registry.RESOURCES``), under the name the resource gives
(``inbox.tasks.sync_messages``...: the module they were first defined in; queued messages and beat's
schedule refer to them by it), and the nightly reconcile (``sync_full``).

- ``acks_late`` is safe because applying a page is idempotent (the same page applied twice changes
  nothing); time limits come from settings. The sync lock is a short lease the run renews, so a run
  whose worker died is reaped (and started again) within about a minute (``runs.reap``).
- Beat's frequent runs (incremental messages, accounts) skip at once when the resource's lock is
  taken: the next beat comes soon, and waiting would only pile tasks up behind a long full sync.
  They also skip, without calling Nexudus, while the resource backs off after Nexudus failed
  (``runs.backoff``). Explicitly started runs (the /sync/ page, the nightly reconcile, tests) wait
  for the running one (up to ``SYNC_LOCK_WAIT``), so two syncs started at once run one after the
  other, and never back off.
- A task delivered again after its worker died (``task_reject_on_worker_lost``, or Redis's
  visibility timeout) carries on with its run: beat's runs find theirs by the task id; a run that
  was reaped meanwhile is started again unless a later run replaced it.
- Retries: the services record failures on the run instead of raising, so a retry is decided from
  the run: only a transient failure (``error_kind`` "unavailable": Nexudus or Redis not answering;
  "database": the database not answering) of an explicitly started run is retried, at most
  ``SYNC_TASK_MAX_RETRIES`` times with a doubling delay, each retry as a new queued run so the
  /sync/ page shows it. Bad credentials or a bug are not retried. (Celery's ``autoretry_for``
  would resend the same ``run_id``, whose run has already failed, hence the explicit
  ``self.retry`` with the new run.)
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from inbox.models import SyncRun

from . import registry
from .registry import SyncResource
from .runs.backoff import routine_run_waits
from .runs.end import DATABASE, DATABASE_ERRORS, WORKER_LOST, close_run, noted_outcome
from .runs.lock import SyncBusy
from .runs.reap import restart, superseded_by
from .services import sync_resource

logger = logging.getLogger(__name__)

_OPTIONS = dict(
    bind=True,
    acks_late=True,
    ignore_result=True,
    soft_time_limit=settings.SYNC_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.SYNC_TASK_TIME_LIMIT,
    max_retries=settings.SYNC_TASK_MAX_RETRIES,
)

TRANSIENT = ("unavailable", DATABASE)
Status = SyncRun.Status


def _claim(task, run_id: int | None, resource: str) -> tuple[SyncRun | None, bool]:
    """The run to carry out, and whether to go on at all."""
    if run_id is None:
        # Beat's runs carry no run id: one delivered again after its worker died finds its run
        # by the task id (the same on every delivery), and takes its own lock back.
        task_id = task.request.id
        run = (SyncRun.objects.filter(resource=resource, status=Status.RUNNING, task_id=task_id).first()
               if task_id else None)
        return run, True
    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None:
        logger.info("Sync run #%s is gone; nothing to do.", run_id)
        return None, False
    if run.status == Status.RUNNING and (noted := noted_outcome(run)):
        # Its task failed on the database and is retried: the outcome is recorded now that the
        # database answers, and the sync runs again as a new run.
        close_run(run, Status.FAILED, *noted)
        return SyncRun.objects.create(resource=resource, mode=run.mode, status=Status.QUEUED, trigger="retry"), True
    if run.status in (Status.QUEUED, Status.RUNNING):
        return run, True
    if run.status == Status.FAILED and run.error_kind == WORKER_LOST:
        again = restart(run, enqueue=False)
        if again is not None:
            logger.warning("Sync run #%s stopped with its worker; running it again as #%s.", run.pk, again.pk)
            return again, True
        later = superseded_by(run)
        logger.info("Sync run #%s stopped with its worker and %s; nothing to do.", run.pk,
                    f"run #{later.pk} replaced it" if later else "was started again already")
        return None, False
    logger.info("Sync run #%s is %s; nothing to do.", run_id, run.status)
    return None, False


def _lock_wait(routine: bool) -> float:
    return 0 if routine else settings.SYNC_LOCK_WAIT


def _countdown(task) -> int:
    return settings.SYNC_RETRY_DELAY * 2 ** task.request.retries


def _retry_if_transient(task, runs: list[SyncRun], *, routine: bool, resource: str | None, mode: str,
                        make_kwargs) -> None:
    if routine:
        return  # beat's own schedule is the retry
    failed = [r for r in runs if r.status == Status.FAILED and r.error_kind in TRANSIENT]
    if not failed:
        return
    if task.request.retries >= settings.SYNC_TASK_MAX_RETRIES:
        logger.warning("%s: giving up after %d retries.", task.name, task.request.retries)
        return
    countdown = _countdown(task)
    retry_run = None
    if resource is not None:
        retry_run = SyncRun.objects.create(
            resource=resource, mode=mode, status=Status.QUEUED, trigger="retry"
        )
    what = "the database" if failed[0].error_kind == DATABASE else "Nexudus"
    logger.info("%s: %s did not answer; retrying in %d s.", task.name, what, countdown)
    try:
        raise task.retry(kwargs=make_kwargs(retry_run.pk if retry_run else None), countdown=countdown)
    except Exception as exc:
        from celery.exceptions import Retry

        if not isinstance(exc, Retry) and retry_run is not None:
            retry_run.status, retry_run.error_kind = Status.FAILED, "unavailable"
            retry_run.error = f"The retry could not be queued ({type(exc).__name__})."
            retry_run.save()
        raise


def _retry_after_database(task, exc: BaseException, *, routine: bool, kwargs: dict) -> None:
    """The database did not answer even to record the run: try the task again later, same arguments."""
    if routine:
        logger.warning("%s: the database did not answer (%s); the next scheduled run tries again.", task.name, exc)
        return
    if task.request.retries >= settings.SYNC_TASK_MAX_RETRIES:
        logger.error("%s: the database did not answer (%s); giving up after %d retries.",
                     task.name, exc, task.request.retries)
        return
    countdown = _countdown(task)
    logger.warning("%s: the database did not answer (%s); retrying in %d s.", task.name, exc, countdown)
    raise task.retry(kwargs=kwargs, countdown=countdown)


def _sync_one(task, *, resource: SyncResource, mode: str, run_id: int | None, trigger: str) -> None:
    name = SyncRun.Resource(resource.name).name.capitalize()
    routine = resource.is_routine(mode=mode, trigger=trigger)

    def make_kwargs(new_id: int | None) -> dict:
        return resource.task_kwargs(mode=mode, run_id=new_id, trigger=trigger)

    try:
        run, go = _claim(task, run_id, resource.name)
        if not go:
            return
        if routine and run is None and (backoff := routine_run_waits(resource.name)):
            logger.info(
                "%s sync skipped: Nexudus has failed %d time%s since %s; the next try is at %s.",
                name, backoff.failures, "s" if backoff.failures != 1 else "",
                timezone.localtime(backoff.since).strftime("%H:%M:%S"),
                timezone.localtime(backoff.next_try).strftime("%H:%M:%S %Z"),
            )
            return
        run = sync_resource(resource=resource.name, mode=mode, run=run, trigger=trigger,
                            task_id=task.request.id or "", lock_wait=_lock_wait(routine))
    except SyncBusy as exc:
        logger.info("%s sync skipped: %s", name, exc)
        return
    except DATABASE_ERRORS as exc:
        _retry_after_database(task, exc, routine=routine, kwargs=make_kwargs(run_id))
        return
    _retry_if_transient(task, [run], routine=routine, resource=resource.name, mode=mode, make_kwargs=make_kwargs)


def _resource_task(resource: SyncResource):
    """The task that syncs ``resource``: ``mode`` (if it has more than one), ``run_id`` (a run queued
    by ``request_sync``; none for beat's runs), ``trigger``."""

    def sync(self, mode: str | None = None, run_id: int | None = None, trigger: str = "beat") -> None:
        """Sync one resource of the registry: beat's routine run, or the run ``run_id``."""
        _sync_one(self, resource=resource, mode=resource.mode_for(mode), run_id=run_id, trigger=trigger)

    sync.__name__ = sync.__qualname__ = f"sync_{resource.name}"
    return shared_task(name=resource.task, **_OPTIONS)(sync)


#: Each resource's task, by resource name.
TASKS = {resource.name: _resource_task(resource) for resource in registry.RESOURCES}
sync_messages = TASKS[registry.MESSAGES.name]
sync_accounts = TASKS[registry.ACCOUNTS.name]


@shared_task(name=registry.FULL_RECONCILE_TASK, **_OPTIONS)
def sync_full(self, trigger: str = "beat") -> None:
    """The reconcile: every resource walked whole, in the registry's reconcile order (accounts, then
    every message, deletions included)."""
    runs = []
    try:
        for resource in registry.reconcile_order():
            try:
                runs.append(sync_resource(resource=resource.name, mode=registry.FULL, trigger=trigger,
                                          task_id=self.request.id or "", lock_wait=settings.SYNC_LOCK_WAIT))
            except SyncBusy as exc:
                logger.warning("Full %s sync did not run: %s", resource.name, exc)
    except DATABASE_ERRORS as exc:
        _retry_after_database(self, exc, routine=False, kwargs={"trigger": trigger})
        return
    _retry_if_transient(
        self, runs, routine=False, resource=None, mode=SyncRun.Mode.FULL,
        make_kwargs=lambda _new_id: {"trigger": trigger},
    )
