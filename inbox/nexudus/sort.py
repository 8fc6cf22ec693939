"""Which ``dir`` value asks a Nexudus server for ascending order, learnt once and shared.

Nexudus's documentation generations disagree: developers.nexudus.com lists ``dir=1`` as ascending
and ``-1`` as descending (https://developers.nexudus.com/rest-api/spaces/get-coworkermessages),
while learn.nexudus.com and the Nexudus CLI read ``0`` as ascending and ``1`` as descending
(https://learn.nexudus.com/rest-api/crm/get-emailaccounts). The client finds out from the answers
themselves (the echoed ``CurrentSortDirection`` and the records' own order) and keeps what it found
per API address in a :class:`SortMemory`, so every worker uses the answer without asking again.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import redis

logger = logging.getLogger(__name__)

#: The two conventions, by the ``dir`` value that sorts ascending.
CONVENTIONS = {
    1: "dir=1 ascending, -1 descending (developers.nexudus.com)",
    0: "dir=0 ascending, 1 descending (learn.nexudus.com and the Nexudus CLI)",
}
#: What the client sends before it knows (the convention of the REST reference pages).
FIRST_GUESS = 1


def other_ascending_dir(value: int) -> int:
    return 0 if value == 1 else 1


class SortMemory(Protocol):
    def get(self, base_url: str) -> int | None: ...

    def set(self, base_url: str, ascending_dir: int) -> int | None:
        """Stores the value; returns the one stored before (None: none)."""


class ProcessSortMemory:
    """Kept in this process only (a client made by hand, or while Redis is away)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, int] = {}

    def get(self, base_url: str) -> int | None:
        with self._lock:
            return self._values.get(base_url)

    def set(self, base_url: str, ascending_dir: int) -> int | None:
        with self._lock:
            before = self._values.get(base_url)
            self._values[base_url] = ascending_dir
            return before

    def forget(self, base_url: str) -> None:
        with self._lock:
            self._values.pop(base_url, None)


class RedisSortMemory:
    """Kept in Redis, so every worker shares what one of them found; falls back to this process's
    memory while Redis does not answer (finding out again costs one request, not a failed sync)."""

    def __init__(self, client: redis.Redis, *, prefix: str = "nexudus:ascending-dir:") -> None:
        self.client = client
        self.prefix = prefix
        self.local = ProcessSortMemory()

    def get(self, base_url: str) -> int | None:
        try:
            raw = self.client.get(self.prefix + base_url)
        except redis.RedisError:
            return self.local.get(base_url)
        value = _as_dir(raw)
        return value if value is not None else self.local.get(base_url)

    def set(self, base_url: str, ascending_dir: int) -> int | None:
        local_before = self.local.set(base_url, ascending_dir)
        try:
            raw = self.client.set(self.prefix + base_url, str(ascending_dir), get=True)
        except redis.RedisError:
            return local_before
        return _as_dir(raw)

    def forget(self, base_url: str) -> None:
        self.local.forget(base_url)
        try:
            self.client.delete(self.prefix + base_url)
        except redis.RedisError:
            pass


def _as_dir(raw: bytes | str | None) -> int | None:
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    return {"0": 0, "1": 1}.get(raw.strip()) if isinstance(raw, str) else None


def announce(base_url: str, ascending_dir: int, before: int | None, evidence: str) -> None:
    """Says in the log which convention a server follows: once, when it is first found or changes."""
    if before == ascending_dir:
        return
    if before is None:
        logger.info("Nexudus at %s sorts %s: %s.", base_url, CONVENTIONS[ascending_dir], evidence)
    else:
        logger.warning(
            "Nexudus at %s now sorts %s (it used to read dir the other way): %s.",
            base_url, CONVENTIONS[ascending_dir], evidence,
        )
