"""The Redis lock: one holder, only the owner releases or extends, a short lease, waiting.

Real Redis.
"""

from __future__ import annotations

import threading
import time

from inbox.platform.locks import RedisLock, holder_label


class TestLock:
    def test_only_one_holder(self, redis_client):
        first = RedisLock("test:one", timeout=10, label="a")
        second = RedisLock("test:one", timeout=10, label="b")
        try:
            assert first.acquire()
            assert not second.acquire()
            assert holder_label("test:one") == "a"
            assert first.relabel("42") and holder_label("test:one") == "42"
        finally:
            first.release()
        assert second.acquire()
        second.release()
        assert holder_label("test:one") is None

    def test_only_the_owner_releases_or_extends(self, redis_client):
        lock = RedisLock("test:owner", timeout=0.2, label="a")
        assert lock.acquire()
        time.sleep(0.3)  # expired: someone else takes it
        other = RedisLock("test:owner", timeout=10, label="b")
        assert other.acquire()
        assert lock.extend() is False
        assert lock.release() is False
        assert holder_label("test:owner") == "b"  # the other's lock is intact
        other.release()

    def test_extend_pushes_the_expiry_back(self, redis_client):
        lock = RedisLock("test:extend", timeout=0.5, label="a")
        assert lock.acquire()
        try:
            time.sleep(0.3)
            assert lock.extend()
            time.sleep(0.3)
            assert holder_label("test:extend") == "a"
        finally:
            lock.release()

    def test_the_default_expiry_is_the_short_lease(self, settings):
        assert 30 <= settings.SYNC_LOCK_LEASE <= 120
        assert RedisLock("test:default").timeout_ms == settings.SYNC_LOCK_LEASE * 1000
        assert settings.SYNC_HEARTBEAT_INTERVAL * 3 <= settings.SYNC_LOCK_LEASE  # three beats may fail

    def test_waiting_for_the_holder(self, redis_client):
        holder = RedisLock("test:wait", timeout=10, label="a")
        assert holder.acquire()
        threading.Timer(0.3, holder.release).start()
        waiter = RedisLock("test:wait", timeout=10, label="b")
        started = time.monotonic()
        assert waiter.acquire(wait=5)
        assert 0.2 < time.monotonic() - started < 3
        waiter.release()
