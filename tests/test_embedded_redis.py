"""The embedded Redis (the default when REDIS_URL is unset) is a real server that starts and stops."""

from __future__ import annotations

import socket

import redis

from helpdesk import embedded_redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_starts_once_serves_and_stops(tmp_path):
    port = free_port()
    assert not embedded_redis.is_running(port)
    embedded_redis.ensure(port, tmp_path)
    try:
        client = redis.Redis(port=port)
        client.set("k", "v")
        assert client.get("k") == b"v"
        embedded_redis.ensure(port, tmp_path)  # a second process finds it running: no new server
        assert client.get("k") == b"v"
    finally:
        embedded_redis.stop(port)
    assert not embedded_redis.is_running(port)
