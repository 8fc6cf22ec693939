"""How many CSV exports may stream at once: a few per person and a few in all, counted in Redis.

An export holds a web server thread for as long as its reader takes. Without a bound, one person
opening many exports (or many readers that stop reading) would hold every thread and stall the
site for everyone. Each running export holds a *slot*: a member of two Redis sorted sets (the
person's and everyone's) scored by a lease time; the lease is renewed while the export streams, so
the slot of a process that died frees itself when its lease runs out.

Redis down: exports are let through (logged); the page would not be the first thing to break.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field

import redis
from django.conf import settings

from inbox.platform.redis import client as redis_client

logger = logging.getLogger(__name__)

KEY_PREFIX = "helpdesk:export-slots:"

# KEYS: everyone's set, the person's set. ARGV: token, lease seconds, per-person limit, total limit.
# Returns 0 (taken), 1 (the person's limit), 2 (the total limit). Redis's own clock, so every web
# process agrees.
_ACQUIRE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', t)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 2 end
local lease = t + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], lease, ARGV[1])
redis.call('ZADD', KEYS[2], lease, ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 60)
redis.call('EXPIRE', KEYS[2], math.ceil(tonumber(ARGV[2])) + 60)
return 0
"""

_RENEW = """
local now = redis.call('TIME')
local lease = tonumber(now[1]) + tonumber(now[2]) / 1e6 + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', lease, ARGV[1])
redis.call('ZADD', KEYS[2], 'XX', lease, ARGV[1])
return 0
"""


class ExportsBusy(Exception):
    """No slot: ``str()`` says whose limit was reached, in words."""


@dataclass
class ExportSlot:
    keys: tuple[str, str]
    token: str = field(default_factory=lambda: secrets.token_hex(12))
    renewed_at: float = 0.0
    released: bool = False

    def keep_alive(self) -> None:
        """Renew the lease, at most every few seconds (called for every chunk sent)."""
        now = time.monotonic()
        if self.released or now - self.renewed_at < settings.EXPORT_LEASE_SECONDS / 4:
            return
        self.renewed_at = now
        try:
            redis_client().eval(_RENEW, 2, *self.keys, self.token, settings.EXPORT_LEASE_SECONDS)
        except redis.RedisError:
            logger.warning("Could not renew an export's slot in Redis.", exc_info=True)

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        try:
            pipe = redis_client().pipeline()
            for key in self.keys:
                pipe.zrem(key, self.token)
            pipe.execute()
        except redis.RedisError:
            logger.warning("Could not free an export's slot in Redis; its lease frees it.", exc_info=True)


def export_slot_acquire(*, user_id: int) -> ExportSlot | None:
    """A slot for one export by ``user_id``; :class:`ExportsBusy` when none is free (None: Redis
    could not be asked, and the export goes ahead unbounded)."""
    slot = ExportSlot(keys=(f"{KEY_PREFIX}all", f"{KEY_PREFIX}user:{user_id}"))
    try:
        outcome = redis_client().eval(
            _ACQUIRE, 2, *slot.keys, slot.token, settings.EXPORT_LEASE_SECONDS,
            settings.EXPORT_MAX_PER_USER, settings.EXPORT_MAX_TOTAL,
        )
    except redis.RedisError:
        logger.warning("Could not count running exports in Redis; letting this one through.", exc_info=True)
        return None
    if int(outcome) == 1:
        raise ExportsBusy(
            f"You already have {settings.EXPORT_MAX_PER_USER} exports downloading. Wait until one "
            "finishes (or cancel it), then try again."
        )
    if int(outcome) == 2:
        raise ExportsBusy(
            f"{settings.EXPORT_MAX_TOTAL} exports are downloading just now, the most the server runs at "
            "once. Try again in a minute."
        )
    slot.renewed_at = time.monotonic()
    return slot
