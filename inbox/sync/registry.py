"""The resources the sync mirrors: one entry each, read by everything that names a resource.

``request_sync`` and the tasks check a resource and its modes here, the tasks are made from these
entries (one Celery task each, under the name queued messages and beat entries already carry), the
beat schedule is built from them (``beat_schedule``), and /sync/ shows one card for each. A new
resource is one entry below, its ``SyncRun.Resource`` choice, and the work that walks and applies
it (``inbox/sync/messages.py`` and ``inbox/sync/accounts.py`` are the two there are).

Plain data: Celery reads the beat schedule before Django's apps are loaded, so this module
imports no model, and names each resource's work by its dotted path (imported when a run starts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

# ``SyncRun.Mode``'s values (the model is not imported here: see above).
INCREMENTAL = "incremental"
FULL = "full"
MODES = (INCREMENTAL, FULL)

#: The nightly reconcile: every resource walked whole, in ``reconcile_step`` order.
FULL_RECONCILE_TASK = "inbox.tasks.sync_full"
FULL_RECONCILE_BEAT_KEY = "full-reconcile"


@dataclass(frozen=True, slots=True)
class SyncResource:
    name: str  # ``SyncRun.resource``, the lock's name, the /sync/ card's id
    task: str  # the Celery task's name: kept as it is, queued messages and beat entries refer to it
    work: str  # dotted path of ``work(ctx: RunContext, mode: str) -> None``, what one run does
    interval_setting: str  # the setting holding the seconds between beat's routine runs
    modes: tuple[str, ...]  # the modes it runs in; beat's routine runs use the first
    reconcile_step: int  # the nightly reconcile syncs resources in ascending order of this

    @property
    def beat_mode(self) -> str:
        return self.modes[0]

    @property
    def has_incremental(self) -> bool:
        """Whether a run can fetch only what changed (then an admin may also ask for a Full resync)."""
        return INCREMENTAL in self.modes

    @property
    def beat_key(self) -> str:
        return f"sync-{self.name}"

    def mode_for(self, mode: str | None) -> str:
        """The mode a run asked in ``mode`` runs in: a resource with one mode runs in it whatever was asked."""
        if mode is None:
            return self.beat_mode
        if mode not in MODES:
            raise ValueError(f"Unknown sync mode {mode!r}: use {_either(MODES)}.")
        return mode if mode in self.modes else self.modes[0]

    def is_routine(self, *, mode: str, trigger: str) -> bool:
        """Beat's frequent run (not the nightly reconcile, not one an admin or a retry started)."""
        return trigger == "beat" and mode == self.beat_mode

    def interval(self) -> int:
        return getattr(settings, self.interval_setting)

    def work_function(self) -> Callable[[Any, str], None]:
        return import_string(self.work)

    def task_kwargs(self, *, mode: str, run_id: int | None, trigger: str) -> dict:
        """The task's keyword arguments (a resource with one mode takes no ``mode``, as before)."""
        kwargs: dict[str, Any] = {"run_id": run_id, "trigger": trigger}
        if len(self.modes) > 1:
            kwargs = {"mode": mode, **kwargs}
        return kwargs

    def signature(self, *, mode: str, run_id: int | None, trigger: str):
        """The task to send, by name: Celery finds the task object if this process has it, else
        sends by name alone, so nothing that queues a sync imports the tasks module."""
        from celery import current_app

        return current_app.signature(self.task, kwargs=self.task_kwargs(mode=mode, run_id=run_id, trigger=trigger))


MESSAGES = SyncResource(
    name="messages",
    task="inbox.tasks.sync_messages",
    work="inbox.sync.messages.messages_work",
    interval_setting="NEXUDUS_SYNC_INTERVAL",
    modes=(INCREMENTAL, FULL),
    reconcile_step=2,
)
ACCOUNTS = SyncResource(
    name="accounts",  # the locations (businesses) are synced with them, in the same run
    task="inbox.tasks.sync_accounts",
    work="inbox.sync.accounts.accounts_work",
    interval_setting="NEXUDUS_ACCOUNTS_SYNC_INTERVAL",
    modes=(FULL,),  # there are few: each run walks them all
    reconcile_step=1,  # before the messages, which name their mail account
)

#: In the order of the /sync/ page.
RESOURCES: tuple[SyncResource, ...] = (MESSAGES, ACCOUNTS)
NAMES = tuple(resource.name for resource in RESOURCES)
_BY_NAME = {resource.name: resource for resource in RESOURCES}


def get(name: str) -> SyncResource:
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown resource {name!r}: use {_either(NAMES)}.") from None


def reconcile_order() -> list[SyncResource]:
    return sorted(RESOURCES, key=lambda resource: resource.reconcile_step)


def beat_schedule() -> dict[str, dict]:
    """Celery beat's schedule: each resource every ``interval_setting`` seconds (a run not started
    within the interval expires, rather than pile up behind a long one), and the nightly reconcile
    at ``NEXUDUS_FULL_SYNC_HOUR``:``NEXUDUS_FULL_SYNC_MINUTE`` (UTC)."""
    from celery.schedules import crontab

    schedule: dict[str, dict] = {
        resource.beat_key: {
            "task": resource.task,
            "schedule": resource.interval(),
            "options": {"expires": resource.interval()},
        }
        for resource in RESOURCES
    }
    schedule[FULL_RECONCILE_BEAT_KEY] = {
        "task": FULL_RECONCILE_TASK,
        "schedule": crontab(hour=settings.NEXUDUS_FULL_SYNC_HOUR, minute=settings.NEXUDUS_FULL_SYNC_MINUTE),
    }
    return schedule


def _either(names: tuple[str, ...]) -> str:
    quoted = [f"'{name}'" for name in names]
    return " or ".join(quoted) if len(quoted) <= 2 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
