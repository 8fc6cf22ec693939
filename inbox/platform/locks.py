"""A Redis lock that only its owner can release or extend: one sync at a time per resource.

``SET key token NX PX ttl`` takes it; a Lua compare-and-delete releases it only if the value is
still our token, so a run whose lock expired (and was taken by another) never frees the other's
(https://redis.io/docs/latest/develop/use/patterns/distributed-locks/, single-instance form).
The expiry is a short lease (``settings.SYNC_LOCK_LEASE``) that the running sync renews as it
goes (``inbox.sync.runs.lease``), so a worker killed mid-run frees the resource within a lease
rather than after the task's hard time limit.

The token starts with a label (the sync run's id), so others can tell *who* holds the lock.
"""

from __future__ import annotations

import logging
import secrets
import time

import redis
from django.conf import settings

from inbox.platform.redis import client as shared_client

logger = logging.getLogger(__name__)

KEY_PREFIX = "helpdesk:lock:"

# Delete / extend only while the value is still ours (atomic in Redis).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_RELABEL = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('set', KEYS[1], ARGV[2], 'KEEPTTL') else return false end"
)
_TAKE_OVER = (
    "local value = redis.call('get', KEYS[1]) "
    "if value and string.sub(value, 1, string.len(ARGV[1])) == ARGV[1] then "
    "return redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) else return false end"
)
_EXTEND = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)


class LockError(Exception):
    """Redis could not be asked about the lock (it is down or hanging)."""


def redis_client() -> redis.Redis:
    """The Redis the locks live in (``settings.REDIS_URL``), with the project's socket timeouts."""
    return shared_client()


class RedisLock:
    """``with RedisLock("sync:messages", wait=30) as lock:`` (raises ``TimeoutError`` if not got)."""

    def __init__(
        self,
        name: str,
        *,
        timeout: float | None = None,
        label: str = "",
        client: redis.Redis | None = None,
    ):
        self.key = KEY_PREFIX + name
        self.timeout_ms = int((timeout if timeout is not None else settings.SYNC_LOCK_LEASE) * 1000)
        self.token = f"{label}:{secrets.token_hex(16)}"
        self.client = client or redis_client()
        self.owned = False

    def acquire(self, *, wait: float = 0.0, poll: float = 0.2) -> bool:
        """Take the lock, waiting up to ``wait`` seconds for its holder to let go."""
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            try:
                if self.client.set(self.key, self.token, nx=True, px=self.timeout_ms):
                    self.owned = True
                    return True
            except redis.RedisError as exc:
                raise LockError(f"Redis did not answer while taking the lock {self.key}: {exc}") from exc
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(poll, remaining))

    def take_over(self, label: str) -> bool:
        """Take the lock if (and only if) it is held under ``label``: a dead holder we can name.

        For a task redelivered after its worker died mid-run: the lock still carries that run's
        id, and nothing else can be holding it under that name.
        """
        try:
            taken = self.client.eval(_TAKE_OVER, 1, self.key, f"{label}:", self.token, self.timeout_ms)
        except redis.RedisError as exc:
            raise LockError(f"Redis did not answer while taking over the lock {self.key}: {exc}") from exc
        self.owned = bool(taken)
        return self.owned

    def extend(self) -> bool:
        """Push the expiry back to the full timeout (the lease); False if the lock is no longer ours.

        A Redis that does not answer is not a lost lock: it is tried again at the next renewal.
        """
        try:
            still_ours = bool(self.client.eval(_EXTEND, 1, self.key, self.token, self.timeout_ms))
        except redis.RedisError as exc:
            logger.warning("Could not extend the lock %s: %s", self.key, exc)
            return self.owned
        if not still_ours:
            self.owned = False
        return still_ours

    def relabel(self, label: str) -> bool:
        """Say who holds it (e.g. once the run it guards has an id); False if no longer ours."""
        new_token = f"{label}:{secrets.token_hex(16)}"
        try:
            changed = self.client.eval(_RELABEL, 1, self.key, self.token, new_token)
        except redis.RedisError as exc:
            raise LockError(f"Redis did not answer while relabelling the lock {self.key}: {exc}") from exc
        if changed:
            self.token = new_token
            return True
        self.owned = False
        return False

    def release(self) -> bool:
        """Let go, only if it is still ours; True if it was."""
        if not self.owned:
            return False
        self.owned = False
        try:
            return bool(self.client.eval(_RELEASE, 1, self.key, self.token))
        except redis.RedisError as exc:
            # It will expire by itself; the next run waits for that at worst.
            logger.warning("Could not release the lock %s (it will expire): %s", self.key, exc)
            return False

    def holder(self) -> str | None:
        """The label of whoever holds the lock now (None if free)."""
        return holder_label(self.key[len(KEY_PREFIX):], client=self.client)

    def __enter__(self) -> RedisLock:
        if not self.acquire():
            raise TimeoutError(f"The lock {self.key} is held by someone else.")
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()


def holder_label(name: str, *, client: redis.Redis | None = None) -> str | None:
    """The label part of the token holding ``name``, or None if nobody holds it."""
    value = (client or redis_client()).get(KEY_PREFIX + name)
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode()
    return value.rpartition(":")[0]
