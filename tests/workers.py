"""A real Celery worker for tests: the project's app, the real Redis broker, worker threads.

    with celery_worker(concurrency=2):
        tasks.sync_messages.delay(...)
        wait_for(lambda: ...)

Use it inside a test marked ``@pytest.mark.worker`` and
``@pytest.mark.django_db(transaction=True, databases=[...])``: the worker's threads open their own
database connections, so they only see committed data, and the SQLite test databases are files
(``tests/settings.py``) that every thread shares. Point ``settings.NEXUDUS_API_URL`` at a live
server first (``tests.sync_fixtures.nexudus_sandbox``). The worker is stopped when the block ends,
before the test's database is flushed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from celery.contrib.testing.worker import start_worker

from helpdesk.celery import app


# Celery's logging set-up writes these into os.environ (CELERY_LOG_LEVEL as a number, "30"); left
# there, a later subprocess of the tests (a manage.py command, a worker) reads CELERY_LOG_LEVEL="30"
# in the settings and fails to configure its logging.
_CELERY_ENVIRON = ("CELERY_LOG_LEVEL", "CELERY_LOG_FILE", "CELERY_LOG_REDIRECT", "CELERY_LOG_REDIRECT_LEVEL",
                   "_MP_FORK_LOGLEVEL_", "_MP_FORK_LOGFILE_", "_MP_FORK_LOGFORMAT_")


@contextmanager
def celery_worker(*, concurrency: int = 2, pool: str = "threads", shutdown_timeout: float = 60) -> Iterator:
    """Run a real worker in this process for the duration of the block."""
    app.control.purge()  # tasks left in the queue by an earlier, interrupted run
    # Leave the test run's logging (pytest's capture, caplog) alone.
    hijack = app.conf.worker_hijack_root_logger
    app.conf.worker_hijack_root_logger = False
    environ = {name: os.environ.get(name) for name in _CELERY_ENVIRON}
    try:
        with start_worker(
            app,
            pool=pool,
            concurrency=concurrency,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=shutdown_timeout,
        ) as worker:
            yield worker
    finally:
        app.conf.worker_hijack_root_logger = hijack
        for name, value in environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def wait_for(condition: Callable[[], object], *, timeout: float = 90, interval: float = 0.1, what: str = "") -> object:
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what or condition}")
        time.sleep(interval)
