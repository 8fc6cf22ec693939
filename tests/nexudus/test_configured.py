"""The client, rate limiter and sort memory built from Django settings."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from inbox.nexudus import configured
from inbox.nexudus.configured import nexudus_client
from inbox.nexudus.ratelimit import RedisRateLimiter

pytestmark = pytest.mark.timeout(30)


@override_settings(
    NEXUDUS_API_URL="https://example.nexudus.test/", NEXUDUS_USERNAME="u@example.com",
    NEXUDUS_PASSWORD="pw", NEXUDUS_PAGE_SIZE=321, NEXUDUS_CONNECT_TIMEOUT=2.5, NEXUDUS_READ_TIMEOUT=40.0,
    NEXUDUS_MAX_ATTEMPTS=3, NEXUDUS_MAX_RETRY_AFTER=7.0, NEXUDUS_RATE_PER_SECOND=4, NEXUDUS_RATE_PER_MINUTE=100,
    NEXUDUS_MAX_THROTTLE_WAIT=120.0, NEXUDUS_RATE_WINDOW_MARGIN=3.0,
)
def test_from_settings():
    client = nexudus_client()
    transport, retry = client.transport, client.transport.retry

    assert client.base_url == "https://example.nexudus.test"
    assert (client.username, client.page_size, transport.timeout) == ("u@example.com", 321, (2.5, 40.0))
    assert (retry.max_attempts, retry.max_retry_after, retry.max_throttle_wait) == (3, 7.0, 120.0)
    assert isinstance(transport.rate_limiter, RedisRateLimiter)
    assert (transport.rate_limiter.per_second, transport.rate_limiter.per_minute) == (4, 100)
    assert transport.rate_limiter.window_margin == 3.0
    assert transport.rate_limiter.key == "nexudus:ratelimit:nexudus"


@override_settings(NEXUDUS_SORT_ASCENDING_DIR=0)
def test_from_settings_reads_the_ascending_dir():
    assert nexudus_client(rate_limiter=None).dir_convention.override == 0


@override_settings(NEXUDUS_SORT_ASCENDING_DIR=None)
def test_from_settings_finds_the_dir_by_itself_and_shares_it_in_redis():
    from inbox.nexudus.sort import RedisSortMemory

    client = nexudus_client(rate_limiter=None)
    assert client.dir_convention.override is None
    assert isinstance(client.dir_convention.memory, RedisSortMemory)


@override_settings(NEXUDUS_RATE_PER_SECOND=7, NEXUDUS_RATE_PER_MINUTE=99)
def test_rate_limiter_from_settings(redis_client):
    limiter = configured.rate_limiter(key="from-settings-test")

    assert (limiter.per_second, limiter.per_minute) == (7, 99)
    assert limiter.window_margin == settings.NEXUDUS_RATE_WINDOW_MARGIN
    assert limiter.key == "nexudus:ratelimit:from-settings-test"
    kwargs = limiter.redis.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == settings.REDIS_SOCKET_TIMEOUT
    assert kwargs["socket_connect_timeout"] == settings.REDIS_SOCKET_CONNECT_TIMEOUT
    assert kwargs["retry"].get_retries() <= 1  # not redis-py's default retries with backoff
    assert limiter.try_acquire() == 0
    limiter.reset()
