"""Which ``dir`` value asks a Nexudus server for ascending order, learnt once and shared.

The client always sends ``orderBy`` and ``dir`` and checks that the server sorted the way it was
asked (:func:`page_order`): a walk by Id that came back in descending order would skip and repeat
records.

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
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import redis

from inbox.nexudus.errors import NexudusError

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


# --- Checking a page's order ------------------------------------------------------------------

_SORTED_FIELDS = {  # fields whose order on a page the client can check itself
    "id": lambda record: record.id,
    "createdon": lambda record: getattr(record, "created_on", None),
    "updatedon": lambda record: getattr(record, "updated_on", None),
}


def page_order(
    path: str, envelope: Mapping[str, Any], records: Sequence[Any], order_by: str
) -> tuple[str | None, str]:
    """The order a page came in: ``"ascending"``, ``"descending"`` or None (cannot tell), with the
    evidence in words. Raises when the server says it sorted by another field."""
    echoed_field = envelope.get("CurrentOrderField")
    if isinstance(echoed_field, str) and echoed_field.strip():
        if echoed_field.strip().casefold() != order_by.casefold():
            raise NexudusError(
                f"Nexudus sorted {path} by {echoed_field!r} although orderBy={order_by!r} was sent; "
                "the client cannot page reliably like that.",
                path=path,
            )
    # The records' own order, when the field is one the client parses, is the surest sign.
    key = _SORTED_FIELDS.get(order_by.casefold())
    if key is not None:
        values = [v for v in (key(record) for record in records) if v is not None]
        pairs = list(zip(values, values[1:]))
        if any(b < a for a, b in pairs) and all(b <= a for a, b in pairs):
            return "descending", f"its records came newest/highest {order_by} first"
        if any(b > a for a, b in pairs) and all(b >= a for a, b in pairs):
            return "ascending", f"its records came in ascending {order_by} order"
    # Then the echo: a word or a negative number says it; 0 and 1 mean either, by generation.
    echoed_dir = envelope.get("CurrentSortDirection")
    if _is_descending(echoed_dir):
        return "descending", f"it echoed CurrentSortDirection={echoed_dir!r}"
    if _is_ascending_word(echoed_dir):
        return "ascending", f"it echoed CurrentSortDirection={echoed_dir!r}"
    return None, ""


def _is_descending(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value < 0
    if isinstance(value, str):
        return value.strip().casefold() in {"desc", "descending", "-1"}
    return False


def _is_ascending_word(value: Any) -> bool:
    return isinstance(value, str) and value.strip().casefold() in {"asc", "ascending"}


# --- The convention of one server ------------------------------------------------------------


class DirConvention:
    """The ``dir`` value one server reads as ascending: ``override`` if set, else what ``memory``
    holds for the address, else :data:`FIRST_GUESS`, corrected by the answers."""

    def __init__(self, base_url: str, *, override: int | None = None, memory: SortMemory | None = None):
        if override not in (None, 0, 1):
            raise ValueError("ascending_dir must be 1, 0 or None (find out from the answers).")
        self.base_url = base_url
        self.override = override
        self.memory: SortMemory = memory or ProcessSortMemory()
        self._remembered: int | None = None

    def ascending_dir(self) -> int:
        """The value to send now (read from the memory each time: another worker may have learnt it)."""
        if self.override is not None:
            return self.override
        self._remembered = self.memory.get(self.base_url)
        return FIRST_GUESS if self._remembered is None else self._remembered

    def answered_ascending(self, value: int, evidence: str) -> None:
        """A page sent with ``dir=value`` came back ascending: remember it (said once in the log)."""
        if self.override is not None or self._remembered == value:  # read for this very request
            return
        before = self.memory.set(self.base_url, value)
        announce(self.base_url, value, before, evidence)

    def answered_descending(
        self, path: str, direction: int, evidence: str, asked_dirs: list[int], *, first_page: bool
    ) -> None:
        """A page came back in descending order: switch to the other value (raising when that
        cannot help). Called before the page is yielded, so nothing is lost or applied twice."""
        if self.override is not None:
            raise NexudusError(
                f"Nexudus sorted {path} in descending order although dir={direction} was sent to ask "
                f"for ascending ({evidence}). NEXUDUS_SORT_ASCENDING_DIR={direction} is set and this "
                "server reads dir the other way: unset it (the client then finds the right value itself).",
                path=path,
            )
        other = other_ascending_dir(direction)
        if other in asked_dirs:
            raise NexudusError(
                f"Nexudus sorted {path} in descending order for both dir=1 and dir=0 ({evidence}); "
                "the client cannot page reliably like that.",
                path=path,
            )
        if not first_page:
            # The server changed its reading of dir in the middle of a walk: the pages before were
            # ascending, so this walk cannot be trusted. Forget the convention; the next run finds it.
            if hasattr(self.memory, "forget"):
                self.memory.forget(self.base_url)
            raise NexudusError(
                f"Nexudus started sorting {path} in descending order in the middle of a walk "
                f"(dir={direction}, {evidence}); the client will find out the convention again on the "
                "next run.",
                path=path,
            )
        before = self.memory.set(self.base_url, other)
        announce(self.base_url, other, before, f"a page sorted descending with dir={direction} ({evidence})")
