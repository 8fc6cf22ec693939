"""The Celery app: Redis broker, configuration from Django settings (``CELERY_*``), the sync's tasks
and beat schedule from its registry (``inbox/sync/registry.py``)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_init, beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()  # each Django app's tasks.py
# The sync's tasks are in inbox/sync/tasks.py, a package of the inbox app that the line above
# (which looks for <app>.tasks) does not search.
app.autodiscover_tasks(["inbox.sync"])


@app.on_after_configure.connect
def _beat_schedule(sender: Celery, source, **kwargs) -> None:
    """Beat's schedule, built from the sync's resources when the configuration is first read."""
    from inbox.sync.registry import beat_schedule

    source.beat_schedule = beat_schedule()


@worker_init.connect
@beat_init.connect
def _start_embedded_redis(**kwargs) -> None:
    from helpdesk.embedded_redis import ensure_from_settings

    ensure_from_settings()
