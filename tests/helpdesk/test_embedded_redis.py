"""The embedded Redis (the default when REDIS_URL is unset) is a real server that starts and stops,
and only this app's processes, holding the password kept owner-only in var/, can use it."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest
import redis

from helpdesk import embedded_redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_starts_once_serves_and_stops(tmp_path):
    port, directory = free_port(), tmp_path / "redis"
    assert not embedded_redis.is_running(port)
    embedded_redis.ensure(port, directory)
    try:
        client = redis.Redis.from_url(embedded_redis.url(port, directory))
        client.set("k", "v")
        assert client.get("k") == b"v"
        embedded_redis.ensure(port, directory)  # a second process finds it running: no new server
        assert client.get("k") == b"v"
    finally:
        embedded_redis.stop(port, directory)
    assert not embedded_redis.is_running(port)


def test_it_wants_the_password_kept_owner_only(tmp_path):
    port, directory = free_port(), tmp_path / "redis"
    embedded_redis.ensure(port, directory)
    try:
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port).set("k", "v")
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port, password="guess").ping()
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        for name in ("password", "redis.conf"):
            assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
        # Not on the command line, where every local user could read it.
        secret = (directory / "password").read_text()
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                assert secret.encode() not in cmdline.read_bytes()
            except OSError:
                continue
    finally:
        embedded_redis.stop(port, directory)


def test_a_foreign_redis_on_the_port_is_named_not_used(tmp_path):
    port = free_port()
    embedded_redis.ensure(port, tmp_path / "first")
    try:
        with pytest.raises(embedded_redis.ForeignRedis, match="EMBEDDED_REDIS_PORT"):
            embedded_redis.ensure(port, tmp_path / "second")
    finally:
        embedded_redis.stop(port, tmp_path / "first")
