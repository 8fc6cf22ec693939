"""The one fail-soft cache: the cache is an optimisation, so it never fails a page.

Every call goes through ``call``: a cache that raises (Redis down, hanging, or answering nonsense)
is left alone for ``RETRY_SECONDS`` and the caller computes the value instead. Leaving it alone
matters: each failing call costs up to the socket timeout, and some values (the nav badge, the
counts) are read on every page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache

logger = logging.getLogger(__name__)

RETRY_SECONDS = 30.0

T = TypeVar("T")

_down_until = 0.0


def call(operation: str, *args) -> Any:
    """``cache.<operation>(*args)``, or None when the cache fails (or failed in the last
    ``RETRY_SECONDS``)."""
    global _down_until
    if time.monotonic() < _down_until:
        return None
    try:
        return getattr(cache, operation)(*args)
    except Exception:  # the backend's errors are not one class (redis, socket, serializer, ...)
        _down_until = time.monotonic() + RETRY_SECONDS
        logger.warning("Cache %s failed; going without the cache for %ds", operation, RETRY_SECONDS, exc_info=True)
        return None


def get(key: str) -> Any:
    return call("get", key)


def set(key: str, value: Any, seconds: float) -> None:  # noqa: A001 (the cache's own word)
    call("set", key, value, seconds)


def delete(key: str) -> None:
    call("delete", key)


def cached(key: str, compute: Callable[[], T], seconds: float) -> T:
    """``compute()``, kept ``seconds`` in the cache under ``key`` (None is a value too)."""
    hit = call("get", key) if seconds > 0 else None
    if hit is not None:
        return hit[0]
    value = compute()
    if seconds > 0:
        call("set", key, (value,), seconds)
    return value


def is_down() -> bool:
    """Whether the cache failed in the last ``RETRY_SECONDS`` (and is being left alone)."""
    return time.monotonic() < _down_until


def reset() -> None:
    """Try the cache again at the next call (tests; after Redis is back)."""
    global _down_until
    _down_until = 0.0
