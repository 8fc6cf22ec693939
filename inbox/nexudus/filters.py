"""Query parameters of the list endpoints' filters, written the way Nexudus reads them.

Equality filters are ``Entity_Field=value`` (``true``/``false`` for booleans); range filters are
``from_Entity_Field`` / ``to_Entity_Field`` with minute precision
(https://developers.nexudus.com/rest-api/spaces/get-coworkermessages).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any


def format_filter_datetime(value: datetime | date, *, round_up: bool = False) -> str:
    """``YYYY-MM-DDTHH:mm`` in UTC, the range filters' minute precision.

    ``from_`` bounds round down and ``to_`` bounds round up, so nothing at the edge is skipped.
    A naive datetime is read as UTC; a date means its midnight (``to_``: the next midnight).
    """
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(timezone.utc)
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
        if round_up:
            moment += timedelta(days=1)
    else:
        raise TypeError(f"A date filter needs a datetime or a date, not {type(value).__name__}.")
    floored = moment.replace(second=0, microsecond=0)
    if round_up and floored != moment:
        floored += timedelta(minutes=1)
    return floored.strftime("%Y-%m-%dT%H:%M")


def put_filter(params: dict[str, str], name: str, value: Any, kind: str) -> None:
    """Adds filter ``name`` to ``params`` unless ``value`` is None; ``kind``: bool, int, from or to.

    A value of the wrong type raises ``TypeError`` before any request is sent.
    """
    if value is None:
        return
    if kind == "bool":
        params[name] = "true" if value else "false"
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"The filter {name} needs a whole number, not {value!r}.")
        params[name] = str(value)
    elif kind == "from":
        params[name] = format_filter_datetime(value)
    elif kind == "to":
        params[name] = format_filter_datetime(value, round_up=True)
    else:  # pragma: no cover - programming error
        raise ValueError(kind)
