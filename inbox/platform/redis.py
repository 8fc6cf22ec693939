"""The one Redis client factory: one client (one connection pool) per URL, timeouts and retries.

Every Redis the project talks to itself (locks, the Nexudus rate budget, the sort convention's
memory, export slots, ``/healthz``) comes from here, so all of them have socket timeouts: a hung
Redis must not hang a request or a sync for long. The cache and Celery's broker have their own
clients, configured in the settings.
"""

from __future__ import annotations

import threading

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

_clients: dict[tuple, redis.Redis] = {}
_clients_lock = threading.Lock()


def client(
    *,
    url: str | None = None,
    decode_responses: bool = True,
    connect_timeout: float | None = None,
    socket_timeout: float | None = None,
    retries: int = 1,
) -> redis.Redis:
    """A shared client for ``url`` (default ``settings.REDIS_URL``).

    ``retries``: immediate retries of a failed command (a pooled connection that went stale), with
    no backoff; redis-py's default (three, with backoff) would stall a caller for seconds when Redis
    is down, and every caller here has a better answer than waiting (a local fallback, a 503).
    """
    key = (
        url or settings.REDIS_URL,
        decode_responses,
        settings.REDIS_SOCKET_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout,
        settings.REDIS_SOCKET_TIMEOUT if socket_timeout is None else socket_timeout,
        retries,
    )
    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            found = _clients[key] = redis.Redis.from_url(
                key[0],
                decode_responses=decode_responses,
                socket_connect_timeout=key[2],
                socket_timeout=key[3],
                retry=Retry(NoBackoff(), retries),
            )
        return found


def forget_clients() -> None:
    """Close and forget every client (tests that point ``REDIS_URL`` elsewhere)."""
    with _clients_lock:
        for found in _clients.values():
            found.close()
        _clients.clear()
