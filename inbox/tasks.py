"""Celery tasks: thin wrappers that take plain values, call one sync service, and own retries.

- ``acks_late`` is safe because applying a page is idempotent (STYLE.md 4); time limits come from
  settings, and the sync lock outlives the hard one (STYLE.md 5).
- Beat's frequent runs (incremental messages, accounts) skip at once when the resource's lock is
  taken: the next beat comes soon, and waiting would only pile tasks up behind a long full sync.
  Explicitly started runs (the /sync/ page, the nightly reconcile, tests) wait for the running one
  (up to ``SYNC_LOCK_WAIT``), so two syncs started at once run one after the other.
- Retries: the services record failures on the run instead of raising, so a retry is decided from
  the run: only a transient failure (``error_kind == "unavailable"``: Nexudus or Redis not
  answering) of an explicitly started run is retried, at most ``SYNC_TASK_MAX_RETRIES`` times with
  a doubling delay, each retry as a new queued run so the /sync/ page shows it. Bad credentials or
  a bug are not retried. (Celery's ``autoretry_for`` would resend the same ``run_id``, whose run has
  already failed, hence the explicit ``self.retry`` with the new run.)
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from inbox.models import SyncRun
from inbox.services import sync

logger = logging.getLogger(__name__)

_OPTIONS = dict(
    bind=True,
    acks_late=True,
    ignore_result=True,
    soft_time_limit=settings.SYNC_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.SYNC_TASK_TIME_LIMIT,
    max_retries=settings.SYNC_TASK_MAX_RETRIES,
)


def _claim(run_id: int | None) -> tuple[SyncRun | None, bool]:
    """The queued run to carry out, and whether to go on at all."""
    if run_id is None:
        return None, True
    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None or run.status not in (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING):
        logger.info("Sync run #%s is %s; nothing to do.", run_id, run.status if run else "gone")
        return None, False
    return run, True


def _lock_wait(routine: bool) -> float:
    return 0 if routine else settings.SYNC_LOCK_WAIT


def _retry_if_transient(task, runs: list[SyncRun], *, routine: bool, resource: str | None, mode: str,
                        make_kwargs) -> None:
    if routine:
        return  # beat's own schedule is the retry
    if not any(r.status == SyncRun.Status.FAILED and r.error_kind == "unavailable" for r in runs):
        return
    if task.request.retries >= settings.SYNC_TASK_MAX_RETRIES:
        logger.warning("%s: giving up after %d retries.", task.name, task.request.retries)
        return
    countdown = settings.SYNC_RETRY_DELAY * 2 ** task.request.retries
    retry_run = None
    if resource is not None:
        retry_run = SyncRun.objects.create(
            resource=resource, mode=mode, status=SyncRun.Status.QUEUED, trigger="retry"
        )
    logger.info("%s: Nexudus did not answer; retrying in %d s.", task.name, countdown)
    try:
        raise task.retry(kwargs=make_kwargs(retry_run.pk if retry_run else None), countdown=countdown)
    except Exception as exc:
        from celery.exceptions import Retry

        if not isinstance(exc, Retry) and retry_run is not None:
            retry_run.status, retry_run.error_kind = SyncRun.Status.FAILED, "unavailable"
            retry_run.error = f"The retry could not be queued ({type(exc).__name__})."
            retry_run.save()
        raise


@shared_task(**_OPTIONS)
def sync_messages(self, mode: str = "incremental", run_id: int | None = None, trigger: str = "beat") -> None:
    run, go = _claim(run_id)
    if not go:
        return
    routine = trigger == "beat" and mode == SyncRun.Mode.INCREMENTAL
    try:
        run = sync.sync_messages(
            mode=mode, run=run, trigger=trigger, task_id=self.request.id or "", lock_wait=_lock_wait(routine)
        )
    except sync.SyncBusy as exc:
        logger.info("Messages sync skipped: %s", exc)
        return
    _retry_if_transient(
        self, [run], routine=routine, resource=SyncRun.Resource.MESSAGES, mode=mode,
        make_kwargs=lambda new_id: {"mode": mode, "run_id": new_id, "trigger": trigger},
    )


@shared_task(**_OPTIONS)
def sync_accounts(self, run_id: int | None = None, trigger: str = "beat") -> None:
    run, go = _claim(run_id)
    if not go:
        return
    routine = trigger == "beat"  # every 5 minutes: skip when one is going
    try:
        run = sync.sync_accounts(
            run=run, trigger=trigger, task_id=self.request.id or "", lock_wait=_lock_wait(routine)
        )
    except sync.SyncBusy as exc:
        logger.info("Accounts sync skipped: %s", exc)
        return
    _retry_if_transient(
        self, [run], routine=routine, resource=SyncRun.Resource.ACCOUNTS, mode=SyncRun.Mode.FULL,
        make_kwargs=lambda new_id: {"run_id": new_id, "trigger": trigger},
    )


@shared_task(**_OPTIONS)
def sync_full(self, trigger: str = "beat") -> None:
    """The reconcile: accounts, then every message (deletions included)."""
    runs = []
    for name, service, options in (
        ("accounts", sync.sync_accounts, {}),
        ("messages", sync.sync_messages, {"mode": SyncRun.Mode.FULL}),
    ):
        try:
            runs.append(service(trigger=trigger, task_id=self.request.id or "", lock_wait=settings.SYNC_LOCK_WAIT,
                                **options))
        except sync.SyncBusy as exc:
            logger.warning("Full %s sync did not run: %s", name, exc)
    _retry_if_transient(
        self, runs, routine=False, resource=None, mode=SyncRun.Mode.FULL,
        make_kwargs=lambda _new_id: {"trigger": trigger},
    )
