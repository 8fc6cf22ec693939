"""Lenient reading of the values Nexudus sends: a wrong type is "unknown", never a failed sync.

Numbers and booleans may arrive as strings, text as numbers, and a date that cannot be read becomes
``None`` (logged once per field). Datetimes become aware UTC datetimes: the API does not document
the time zone of ``CreatedOn`` / ``UpdatedOn``, and its examples end in ``Z``, so a value without
an offset is read as UTC too.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Any

logger = logging.getLogger(__name__)

_TRUE = frozenset({"true", "1", "yes", "y", "on", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "off", "f", ""})
_MS_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")  # the old .NET JSON date form
_warned_fields: set[str] = set()


def _warn_once(field_name: str, message: str, *args: Any) -> None:
    # Once per field and process: a source full of bad dates must not flood the log.
    if field_name in _warned_fields:
        return
    _warned_fields.add(field_name)
    logger.warning(message, *args)


def parse_bool(value: Any) -> bool | None:
    """``True``/``False`` from a bool, 1/0, or "true"/"false" (any case); ``None`` if unknown."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        folded = value.strip().casefold()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    return None


def parse_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return None
            return int(number) if number.is_integer() else None
    return None


def parse_str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None  # objects and arrays are not text


def parse_datetime(value: Any, *, field_name: str = "datetime") -> datetime | None:
    """An aware UTC datetime from ISO 8601 (``Z``, ``+00:00``, no offset = UTC, 7-digit fractions).

    ``None`` for null, empty or unreadable values; an unreadable one is logged once per field.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        parsed = _parse_datetime_text(text)
        if parsed is None:
            _warn_once(
                field_name,
                "Nexudus sent %s=%r, which is not a date and time; it is kept as empty. "
                "(Logged once per field.)",
                field_name,
                text[:64],
            )
            return None
    else:
        _warn_once(field_name, "Nexudus sent a %s that is not text; it is kept as empty.", field_name)
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _parse_datetime_text(text: str) -> datetime | None:
    try:
        # Python 3.11 reads "Z", offsets and fractions of any length (it keeps microseconds).
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _MS_DATE.match(text)
    if match:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(match[1]))
    return None
