"""The one way the help desk writes a time, on every page.

* ``relative``: what a list or a card shows. Under a day away, relative ("just now", "4 min ago",
  "3 h ago"; ahead, to the nearest unit: "in 4 min", "in 3 h"); within a week, the weekday and the
  time ("Fri 14:05"); this year, the day ("26 Nov"); before, the day and year ("26 Nov 2025").
* ``exact``: the tooltip (and a message's header): "Fri 26 Nov 2026, 14:05:09 Europe/Paris".
* ``age``: how long ago, in words, however long: the relative text under a day, then "5 days ago",
  "3 weeks ago", "10 months ago", "1 year ago" (beside an exact time, where a date would repeat it).
* ``point``: a moment something began ("failing since ..."): today, the time ("14:05"); before,
  the dated forms of ``relative`` ("Fri 14:05", "26 Nov", "26 Nov 2025").
* ``time_of_day``: "14:05". A 24-hour clock, the hour without a leading zero ("9:05").

Times are wall-clock times in the zone of :mod:`inbox.clock` (``HELPDESK_TIME_ZONE``, else
``TIME_ZONE``). Month and day names are English whatever the locale: the text must not depend on
the browser. ``static/js/timefmt.js`` is a port of these rules (it refreshes the relative text as
time passes, without a request); ``tests/timefmt_cases.json`` is the table of cases both are
tested against.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from zoneinfo import ZoneInfo

from django.utils import timezone

from inbox import clock

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

JUST_NOW_PAST = 45  # seconds: "just now" until then, then "1 min ago"
JUST_NOW_AHEAD = 60
MINUTE, HOUR, DAY = 60, 3600, 86400
WEEKDAY_DAYS = 7  # fewer calendar days away than this: "Fri 14:05"


def _local(value: dt.datetime, zone: ZoneInfo | None) -> dt.datetime:
    return value.astimezone(zone or clock.zone())


def time_of_day(value: dt.datetime, zone: ZoneInfo | None = None) -> str:
    local = _local(value, zone)
    return f"{local.hour}:{local.minute:02d}"


def relative(value: dt.datetime, now: dt.datetime, zone: ZoneInfo | None = None) -> str:
    """``value`` as seen at ``now`` (both aware)."""
    return _relative(value, now, zone, None)


def _relative(value: dt.datetime, now: dt.datetime, zone: ZoneInfo | None, local: dt.datetime | None) -> str:
    """:func:`relative`, given ``value``'s wall-clock time when the caller has it (``local``)."""
    seconds = (now - value).total_seconds()
    if -JUST_NOW_AHEAD < seconds < JUST_NOW_PAST:
        return "just now"
    if JUST_NOW_PAST <= seconds < HOUR:
        return f"{max(1, int(seconds // MINUTE))} min ago"
    if HOUR <= seconds < DAY:
        return f"{int(seconds // HOUR)} h ago"
    if -DAY < seconds <= -JUST_NOW_AHEAD:
        return _ahead(-seconds)
    return _dated(local or _local(value, zone), _local(now, zone))


def _ahead(seconds: float) -> str:
    """A wait under a day, to the nearest minute or hour: a 15-minute lock-out just begun says "in
    15 min" (not the 14 whole minutes left), 10 h 59 min "in 11 h"; up to the next whole hour, the
    minutes ("in 59 min", then "in 1 h"). Past times keep whole units ("14 min ago")."""
    minutes = int(seconds / MINUTE + 0.5)
    if minutes < 60:
        return f"in {minutes} min"
    return f"in {int(seconds / HOUR + 0.5)} h"


def ahead(seconds: float) -> str:
    """How soon something is due, by the rule of :func:`relative` for times ahead ("in 5 min",
    "in 11 h"), and "in under 1 min" where that rule rounds to no minute at all."""
    return "in under 1 min" if seconds < MINUTE / 2 else _ahead(seconds)


def every(seconds: int) -> str:
    """How often something runs, in the units the times use: "every minute", "every 5 min",
    "every 2 h", "every day"."""
    for size, one, unit in ((DAY, "day", "d"), (HOUR, "hour", "h"), (MINUTE, "minute", "min")):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"every {one}" if n == 1 else f"every {n} {unit}"
    return f"every {seconds} s"


def _dated(local: dt.datetime, today: dt.datetime) -> str:
    if abs((today.date() - local.date()).days) < WEEKDAY_DAYS:
        return f"{WEEKDAYS[local.weekday()]} {local.hour}:{local.minute:02d}"
    if local.year == today.year:
        return f"{local.day} {MONTHS[local.month - 1]}"
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}"


def point(value: dt.datetime, now: dt.datetime, zone: ZoneInfo | None = None) -> str:
    local, today = _local(value, zone), _local(now, zone)
    if local.date() == today.date():
        return f"{local.hour}:{local.minute:02d}"
    return _dated(local, today)


def age(value: dt.datetime, now: dt.datetime) -> str:
    seconds = (now - value).total_seconds()
    if seconds < DAY:
        return relative(value, now)  # under a day (or ahead): no date is involved, so no zone
    days = int(seconds // DAY)
    for size, unit in ((365, "year"), (30, "month"), (7, "week"), (1, "day")):
        if days >= size * (1 if size in (365, 1) else 2):
            n = days // size
            return f"{n} {unit}{'' if n == 1 else 's'} ago"
    return f"{days} days ago"  # not reached: days >= 1


def exact(value: dt.datetime, zone: ZoneInfo | None = None) -> str:
    zone = zone or clock.zone()
    return _exact(_local(value, zone), zone)


def _exact(local: dt.datetime, zone: ZoneInfo) -> str:
    return (
        f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local.year}, "
        f"{local.hour}:{local.minute:02d}:{local.second:02d} {zone.key}"
    )


def day(value: dt.datetime, zone: ZoneInfo | None = None) -> str:
    """The day alone: "26 Nov 2026" (a first contact, a date range)."""
    return _calendar_day(_local(value, zone))


def _calendar_day(value: dt.date, *, year: bool = True) -> str:
    return f"{value.day} {MONTHS[value.month - 1]}" + (f" {value.year}" if year else "")


def day_range(since: dt.date | None, until: dt.date | None) -> str:
    """Calendar days a filter keeps (the inbox's from / to): "Since 1 Mar 2026", "Until 20 Mar
    2026", "1 Mar – 20 Mar 2026", "20 Dec 2025 – 5 Jan 2026", "1 Mar 2026" (one day)."""
    if since and until:
        if since == until:
            return _calendar_day(since)
        return f"{_calendar_day(since, year=since.year != until.year)} – {_calendar_day(until)}"
    return f"Since {_calendar_day(since)}" if since else f"Until {_calendar_day(until)}"


def iso(value: dt.datetime) -> str:
    """The ``datetime`` attribute: the instant in UTC, ISO 8601."""
    if value.tzinfo is not dt.timezone.utc:  # what the database gives is UTC already
        value = value.astimezone(dt.timezone.utc)
    return value.isoformat()


def wait_length(seconds: int) -> str:
    """How long someone has waited, in the largest whole unit: "5 min", "3 h", "2 d" (while the
    message's time says "just now": "under 1 min", then "1 min" as it says "1 min ago"; under two
    days in hours, as a reply target is)."""
    if seconds < JUST_NOW_PAST:
        return "under 1 min"
    if seconds < 3600:
        return f"{max(1, seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


FORMS = ("relative", "point", "age", "exact", "time", "day")


def element(value: dt.datetime, form: str = "relative", now: dt.datetime | None = None) -> str:
    """``value`` as a ``<time>`` element (HTML): the text of ``form``, the exact time in its
    tooltip, the instant in ``datetime``; ``data-time-format`` names any form but ``relative`` (the
    one ``static/js/timefmt.js`` refreshes as time passes). ``now``: measure from this instant."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    zone = clock.zone()  # once: a page writes fifty times and more
    local = value.astimezone(zone)  # once, for the tooltip and the text
    exact_text = _exact(local, zone)
    if form == "exact":
        text = exact_text
    elif form == "time":
        text = time_of_day(value, zone)
    elif form == "day":
        text = day(value, zone)
    elif form == "point":
        text = point(value, now or _now(), zone)
    elif form == "age":
        text = age(value, now or _now())
    else:
        form, text = "relative", _relative(value, now or _now(), zone, local)
    kind = "" if form == "relative" else f' data-time-format="{form}"'
    return f'<time datetime="{iso(value)}" title="{escape(exact_text)}"{kind}>{escape(text)}</time>'


def _now() -> dt.datetime:
    return timezone.now()
