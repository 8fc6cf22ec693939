"""A real Celery worker for tests: the project's app, the real Redis broker, worker threads; or
a worker process of its own (``worker_process``) to kill as a whole.

    with celery_worker(concurrency=2):
        tasks.sync_messages.delay(...)
        wait_for(lambda: ...)

Use it inside a test marked ``@pytest.mark.worker`` and
``@pytest.mark.django_db(transaction=True, databases=[...])``: the worker's threads open their own
database connections, so they only see committed data, and the SQLite test databases are files
(``tests/settings.py``) that every thread shares. Point ``settings.NEXUDUS_API_URL`` at a live
server first (``tests.sync.fixtures.nexudus_sandbox``). The worker is stopped when the block ends,
before the test's database is flushed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from celery.contrib.testing.worker import start_worker

from helpdesk.celery import app

ROOT = Path(__file__).resolve().parent.parent


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


def worker_environment(**extra: str) -> dict:
    """The environment of a worker process of the tests: the test database, this run's Redis."""
    from django.db import connections

    db = connections["default"].settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        database_url = f"sqlite:///{db['NAME']}"
    else:
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        database_url = f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        name: value for name, value in os.environ.items()
        if name not in _CELERY_ENVIRON and name not in ("NEXUDUS_USERNAME", "NEXUDUS_PASSWORD")
    }
    env.update({
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url,  # the test database this test run uses
        "LOG_LEVEL": "WARNING",
    })
    env.update(extra)
    return env


@contextmanager
def worker_process(env: dict, *, concurrency: int = 2, log_path=None) -> Iterator[subprocess.Popen]:
    """``celery -A helpdesk worker`` (prefork) as a process group of its own, as in production.

    Its own session, so that ``kill_group`` can SIGKILL the worker and its pool processes together,
    as an OOM kill of the whole worker or a host crash does. Stopped (warm, then killed) on exit.
    """
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool", "prefork",
         "--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # warm shutdown: the running task finishes
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                kill_group(process)
        if log is not subprocess.DEVNULL:
            log.close()


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL a worker started by ``worker_process`` and all its children at once."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def forget_unacknowledged() -> None:
    """Drop the tasks a killed worker held (Redis would give them back after the visibility
    timeout, long after the test), and everything still queued."""
    app.control.purge()
    with app.connection_for_write() as connection:
        client = connection.default_channel.client
        client.delete("unacked", "unacked_index", "unacked_mutex")
