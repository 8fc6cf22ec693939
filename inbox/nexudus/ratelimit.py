"""A request budget shared by every process that talks to Nexudus, kept in Redis.

Nexudus limits a client as a whole (1 request per 100 ms and 120 a minute,
https://developers.nexudus.com/reference/api-limitations), however many Celery workers run.
:class:`RedisRateLimiter` keeps a sliding-window log of the requests granted in the last minute in
one sorted set (``nexudus:ratelimit:{key}``) and decides atomically in a Lua script, on Redis's own
clock (so the machines' clocks need not agree), whether one more request fits both windows: at most
``per_second`` in any second and ``per_minute`` in any minute. If not, the script says how long to
wait and :meth:`RedisRateLimiter.acquire` sleeps that long and asks again.

A request reaches the server some time after it is granted (up to a connect timeout), and not
always the same time: two grants 60.00 s apart can arrive 59.99 s apart. So the minute is counted
``window_margin`` seconds longer than a minute: then the server never sees more than
``per_minute`` in any minute of its own, as long as no request takes longer than the margin to
reach it (``NEXUDUS_RATE_WINDOW_MARGIN``, by default the connect timeout).

When Nexudus throttles one worker anyway (HTTP 409/429 with ``Retry-After``), the client calls
:meth:`RedisRateLimiter.cool_down`: a "cool down until" kept beside the grants, which every
worker's next request waits for, so that the others do not run into the same wall.

A Redis that is briefly unreachable must not fail a sync: the limiter then logs a warning and falls
back to an in-process limiter with the same budget (per process, so several workers may then exceed
the shared budget together; Nexudus's 409 + ``Retry-After``, which the client honours, is the
backstop), and tries Redis again a few seconds later.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable

import redis

logger = logging.getLogger(__name__)

# KEYS[1]: the sorted set of grants (score = grant time in microseconds); KEYS[2]: "cool down
# until" (microseconds), set by cool_down().
# ARGV: now_us ("" = use Redis TIME), per_second, per_minute, member, margin_us (added to the minute).
# Returns 0 when granted (and records the grant), else the microseconds to wait.
_SCRIPT = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
-- Lua prints numbers with 14 significant digits; microsecond timestamps have 16.
local function num(x) return string.format('%.0f', x) end
local per_second = tonumber(ARGV[2])
local per_minute = tonumber(ARGV[3])
local key = KEYS[1]
local SECOND, MINUTE = 1000000, 60000000 + (tonumber(ARGV[5]) or 0)
local cool_until = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if cool_until > now then
  return math.ceil(cool_until - now)
end
redis.call('ZREMRANGEBYSCORE', key, '-inf', num(now - MINUTE))
local wait = 0
local function must_wait(window, limit)
  local since = '(' .. num(now - window)
  local count = redis.call('ZCOUNT', key, since, '+inf')
  if count < limit then return 0 end
  -- The grant that must leave the window before one more fits.
  local oldest = redis.call('ZRANGEBYSCORE', key, since, '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
  return tonumber(oldest[2]) + window - now
end
if per_minute > 0 then wait = math.max(wait, must_wait(MINUTE, per_minute)) end
if per_second > 0 then wait = math.max(wait, must_wait(SECOND, per_second)) end
if wait > 0 then
  return math.ceil(wait)
end
redis.call('ZADD', key, num(now), ARGV[4])
redis.call('PEXPIRE', key, math.ceil(MINUTE / 1000) + 1000)
return 0
"""

# KEYS[1]: "cool down until". ARGV: now_us ("" = Redis TIME), seconds_us. Moves it later, never
# earlier; returns it.
_COOL_DOWN = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function num(x) return string.format('%.0f', x) end
local wanted = now + tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if wanted > current then
  redis.call('SET', KEYS[1], num(wanted), 'PX', math.ceil((wanted - now) / 1000) + 1000)
  return num(wanted)
end
return num(current)
"""

_SECOND = 1.0
_MINUTE = 60.0


class LocalRateLimiter:
    """The same two windows, in this process only (thread-safe): the fallback when Redis is away."""

    def __init__(
        self,
        *,
        per_second: int = 10,
        per_minute: int = 120,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window_margin: float = 0.0,
    ):
        self.per_second = per_second
        self.per_minute = per_minute
        self.clock = clock
        self.sleep = sleep
        self.minute = _MINUTE + max(0.0, window_margin)
        self._grants: deque[float] = deque()
        self._cool_until = 0.0
        self._lock = threading.Lock()

    def cool_down(self, seconds: float) -> None:
        """No request before ``seconds`` from now (Nexudus asked this process to slow down)."""
        with self._lock:
            self._cool_until = max(self._cool_until, self.clock() + max(0.0, seconds))

    def try_acquire(self) -> float:
        """0.0 if a request may go now (and counts it), else the seconds to wait before asking again."""
        with self._lock:
            now = self.clock()
            if self._cool_until > now:
                return self._cool_until - now
            grants = self._grants
            minute = self.minute
            while grants and grants[0] <= now - minute:
                grants.popleft()
            wait = 0.0
            if self.per_minute > 0 and len(grants) >= self.per_minute:
                wait = max(wait, grants[len(grants) - self.per_minute] + minute - now)
            if self.per_second > 0:
                in_second = [t for t in grants if t > now - _SECOND] if grants else []
                if len(in_second) >= self.per_second:
                    wait = max(wait, in_second[len(in_second) - self.per_second] + _SECOND - now)
            if wait > 0:
                return wait
            grants.append(now)
            return 0.0

    def acquire(self) -> float:
        """Block until a request may go; returns the seconds waited."""
        waited = 0.0
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return waited
            self.sleep(wait)
            waited += wait


# One fallback per (key, budget) and process, shared by every limiter instance and thread here.
_local_fallbacks: dict[tuple[str, int, int, float], LocalRateLimiter] = {}
_local_fallbacks_lock = threading.Lock()


def _local_fallback(key: str, per_second: int, per_minute: int, window_margin: float = 0.0) -> LocalRateLimiter:
    with _local_fallbacks_lock:
        limiter = _local_fallbacks.get((key, per_second, per_minute, window_margin))
        if limiter is None:
            limiter = LocalRateLimiter(per_second=per_second, per_minute=per_minute, window_margin=window_margin)
            _local_fallbacks[(key, per_second, per_minute, window_margin)] = limiter
        return limiter


class RedisRateLimiter:
    """At most ``per_second`` requests in any second and ``per_minute`` in any minute, for every
    process that uses the same Redis and ``key`` together. ``0`` disables a window."""

    def __init__(
        self,
        redis_client: redis.Redis,
        *,
        key: str = "nexudus",
        per_second: int = 10,
        per_minute: int = 120,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        retry_redis_after: float = 5.0,
        fallback: LocalRateLimiter | None = None,
        window_margin: float = 0.0,
    ):
        if per_second < 0 or per_minute < 0:
            raise ValueError("Rate limits cannot be negative.")
        if window_margin < 0:
            raise ValueError("The window margin cannot be negative.")
        self.redis = redis_client
        self.key = f"nexudus:ratelimit:{key}"
        self.cool_down_key = f"{self.key}:cooldown"
        self.per_second = per_second
        self.per_minute = per_minute
        self.window_margin = window_margin
        # None: Redis's clock (the same for every process). A function: seconds, for tests.
        self.clock = clock
        self.sleep = sleep
        self.retry_redis_after = retry_redis_after
        self.fallback = fallback or _local_fallback(self.key, per_second, per_minute, window_margin)
        self._script = redis_client.register_script(_SCRIPT)
        self._cool_down_script = redis_client.register_script(_COOL_DOWN)
        self._redis_down_until = 0.0
        self.using_fallback = False

    def _now_arg(self) -> str:
        return "" if self.clock is None else str(int(self.clock() * 1_000_000))

    def try_acquire(self) -> float:
        """0.0 if a request may go now (and counts it), else the seconds to wait before asking again."""
        if self.per_second == 0 and self.per_minute == 0:
            return 0.0
        if time.monotonic() < self._redis_down_until:
            return self.fallback.try_acquire()
        try:
            wait_us = self._script(
                keys=[self.key, self.cool_down_key],
                args=[self._now_arg(), self.per_second, self.per_minute, uuid.uuid4().hex,
                      int(self.window_margin * 1_000_000)],
            )
        except redis.RedisError as exc:
            self._redis_down_until = time.monotonic() + self.retry_redis_after
            if not self.using_fallback:
                logger.warning(
                    "The Nexudus rate limiter cannot reach Redis (%s); limiting this process on its "
                    "own until Redis answers again.",
                    type(exc).__name__,
                )
            self.using_fallback = True
            return self.fallback.try_acquire()
        if self.using_fallback:
            logger.warning("The Nexudus rate limiter reaches Redis again; the budget is shared again.")
            self.using_fallback = False
        return int(wait_us) / 1_000_000

    def acquire(self) -> float:
        """Block until a request may go; returns the seconds waited."""
        waited = 0.0
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return waited
            if wait >= 1.0:
                logger.info("The Nexudus request budget is spent (or Nexudus asked us to slow down); "
                            "waiting %.1f s.", wait)
            self.sleep(wait)
            waited += wait

    def cool_down(self, seconds: float) -> None:
        """No worker sends a request before ``seconds`` from now: Nexudus throttled one of them.

        Never fails the caller: with Redis away, this process alone cools down.
        """
        self.fallback.cool_down(seconds)
        if time.monotonic() < self._redis_down_until:
            return
        try:
            self._cool_down_script(keys=[self.cool_down_key], args=[self._now_arg(), int(seconds * 1_000_000)])
        except redis.RedisError as exc:
            logger.warning("Could not share Nexudus's request to slow down through Redis (%s).", type(exc).__name__)

    def reset(self) -> None:
        """Forget every grant and cool-down (tests, or after changing the budget)."""
        self.redis.delete(self.key, self.cool_down_key)
