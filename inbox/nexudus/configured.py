"""The Nexudus client as this project configures it: Django settings in, a ready client out.

The one module of :mod:`inbox.nexudus` that knows Django: every other one takes its configuration
as arguments, so the client can be used, and tested, without a Django project. Clients made here
share a Redis rate budget and the learnt ``dir`` convention with every worker, and their tokens
with every client of this process.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from inbox.nexudus.client import NexudusClient
from inbox.nexudus.ratelimit import RedisRateLimiter
from inbox.nexudus.sort import RedisSortMemory
from inbox.platform.redis import client as redis_client


def nexudus_client(*, client_class: type[NexudusClient] = NexudusClient, **overrides: Any) -> NexudusClient:
    """A client configured from ``settings.NEXUDUS_*``; ``overrides`` replace any of its arguments."""
    options: dict[str, Any] = dict(
        base_url=settings.NEXUDUS_API_URL,
        username=settings.NEXUDUS_USERNAME,
        password=settings.NEXUDUS_PASSWORD,
        totp=getattr(settings, "NEXUDUS_TOTP", None),
        page_size=settings.NEXUDUS_PAGE_SIZE,
        connect_timeout=settings.NEXUDUS_CONNECT_TIMEOUT,
        read_timeout=settings.NEXUDUS_READ_TIMEOUT,
        max_attempts=settings.NEXUDUS_MAX_ATTEMPTS,
        backoff_base=settings.NEXUDUS_BACKOFF_BASE,
        backoff_max=settings.NEXUDUS_BACKOFF_MAX,
        max_retry_after=settings.NEXUDUS_MAX_RETRY_AFTER,
        max_throttle_wait=settings.NEXUDUS_MAX_THROTTLE_WAIT,
        ascending_dir=settings.NEXUDUS_SORT_ASCENDING_DIR,
        share_tokens=True,
    )
    options.update(overrides)
    if "rate_limiter" not in options:
        options["rate_limiter"] = rate_limiter()
    if "sort_memory" not in options:
        options["sort_memory"] = sort_memory()
    return client_class(**options)


def rate_limiter(*, key: str = "nexudus") -> RedisRateLimiter:
    """The request budget every process shares (``NEXUDUS_RATE_*``)."""
    return RedisRateLimiter(
        redis_client(decode_responses=False),
        key=key,
        per_second=settings.NEXUDUS_RATE_PER_SECOND,
        per_minute=settings.NEXUDUS_RATE_PER_MINUTE,
        window_margin=settings.NEXUDUS_RATE_WINDOW_MARGIN,
    )


def sort_memory() -> RedisSortMemory:
    """The ``dir`` convention learnt per API address, shared by every worker through Redis."""
    return RedisSortMemory(redis_client())
