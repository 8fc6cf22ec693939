"""The help desk's one time-zone rule.

Days (the date filters, the accounts page's daily volumes, the CSV's times) are days in
``HELPDESK_TIME_ZONE`` when it is set, else in ``TIME_ZONE`` (UTC). The browser shows times in
``HELPDESK_TIME_ZONE`` too, or in the reader's own zone when it is unset (``templatetags``).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def zone() -> ZoneInfo:
    """The help desk's time zone."""
    return _zone(settings.HELPDESK_TIME_ZONE or settings.TIME_ZONE)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(value: dt.datetime) -> dt.datetime:
    """``value`` as a wall-clock time in the help desk's zone."""
    return value.astimezone(zone())


def today(now: dt.datetime | None = None) -> dt.date:
    return local(now or timezone.now()).date()


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the help desk's zone (an aware datetime)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone())
