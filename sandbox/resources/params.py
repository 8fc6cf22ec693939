"""Query values as the sandbox reads them: a bad one is a 400 naming the parameter, never a 500.

A number must be plain ASCII digits and fit the column it is compared with, a date must stay a date
once turned into UTC, a text may not hold a NUL character (PostgreSQL cannot compare one). The same
value is refused on SQLite and on PostgreSQL, although SQLite alone would cope with some of them.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sandbox.models import Config


class BadRequest(Exception):
    """A query parameter the sandbox cannot honour; answered 400 with this text."""


INT32 = (-(2**31), 2**31 - 1)  # page, size, dir, and IntegerField columns (PostgreSQL "integer")
INT64 = (-(2**63), 2**63 - 1)  # Ids and the other BigIntegerField columns
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_SHOWN = 40  # characters of a refused value echoed in the message


def shown(value: str) -> str:
    """The value as a 400's message quotes it: repr, cut to a readable length."""
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "…")


def parse_int(name: str, value: str, bounds: tuple[int, int] = INT32) -> int:
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        raise BadRequest(f"{name} must be a whole number, not {shown(value)}.")
    low, high = bounds
    # No int() of thousands of digits (slow, and refused past 4,300): over 20 digits is out of range.
    number = int(text) if len(text.lstrip("+-").lstrip("0")) <= 20 else None
    if number is None or not low <= number <= high:
        raise BadRequest(f"{name} is out of range: {shown(value)} is not between {low} and {high}.")
    return number


def parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0"}:
        return False
    raise BadRequest(f"{name} must be true or false, not {shown(value)}.")


def parse_text(name: str, value: str) -> str:
    if "\x00" in value:
        raise BadRequest(f"{name} cannot contain a NUL character.")
    return value


def parse_minute(name: str, value: str) -> datetime:
    """``YYYY-MM-DDTHH:mm`` (documented; seconds and a date alone are tolerated), read as UTC.

    An offset (``+05:00``) is honoured; a moment that falls outside years 1 to 9999 once in UTC
    (``0001-01-01T00:00+05:00``) cannot be represented and is refused.
    """
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "T"))
    except ValueError:
        raise BadRequest(f"{name} must be a date and time as YYYY-MM-DDTHH:mm, not {shown(value)}.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        moment = parsed.astimezone(timezone.utc)
    except OverflowError:
        raise BadRequest(f"{name} is out of range: {shown(value)} is before year 1 or after 9999 in UTC.") from None
    return moment.replace(second=0, microsecond=0)


def parse_dir(value: str, convention: str) -> tuple[int, bool]:
    """``dir`` as the integer to echo and whether it asks for descending order.

    No ``dir`` sorts ascending in both conventions and echoes the convention's ascending integer.
    """
    if convention == Config.DIR_LEARN:
        direction = parse_int("dir", value or "0")
        if direction not in (0, 1):
            raise BadRequest("dir must be 0 (ascending) or 1 (descending).")
        return direction, direction == 1
    direction = parse_int("dir", value or "1")
    if direction not in (-1, 0, 1):
        raise BadRequest("dir must be 1 or 0 (ascending) or -1 (descending).")
    return direction, direction == -1


def parse_batch_ids(value: str) -> list[int]:
    """``[1,2,3]`` (the documented form; the brackets are optional here)."""
    inner = value.strip().removeprefix("[").removesuffix("]")
    ids = []
    for part in inner.split(","):
        if part.strip():
            ids.append(parse_int("id", part.strip(), INT64))
    return ids
