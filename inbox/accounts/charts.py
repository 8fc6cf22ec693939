"""The numbers of the accounts page's small SVG charts; the SVG itself is drawn by templates.

``templates/accounts/volume_chart.html`` and ``templates/accounts/error_chart.html`` draw an inline
``<svg role="img">`` with an ``aria-label`` summing it up and a ``<title>`` on every bar, so a
pointer or a screen reader gets the numbers (no JavaScript, no CDN). Here: the geometry only, with
coordinates already written to a tenth of a pixel. Colours come from ``static/css/admin.css``
(classes ``chart-in``, ``chart-out``, ``chart-errors``).

Speed: 50 accounts are 1,500 bars, and the template engine pays a few microseconds for every
variable it prints, so the volume chart hands the template one flat tuple per day (unpacked by the
``{% for %}``, no attribute lookups) with every value already text: the template does no
arithmetic, calls no filter and includes nothing per bar. The charts are immutable and hashable
(named tuples), so the page draws each through ``{% chart %}`` (``inbox.templatetags.account_charts``),
which keeps the markup of charts it has drawn: the same numbers are drawn once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

# The template writes these as literals in every bar (width="5" height="40", the inner bars'
# width="4"): a variable per bar would cost more than the bar. Change both together.
BAR = 5  # px per day
VOLUME_HEIGHT = 40
ERROR_WIDTH, ERROR_HEIGHT = 150, 28


class VolumeDay(NamedTuple):
    """One day's column; a bar's ``y`` and ``height`` are empty when it has no mail that way."""

    label: str  # for the day's <title>
    x: int
    in_y: str  # received: above the axis
    in_height: str
    out_y: str  # sent: below it
    out_height: str


class VolumeChart(NamedTuple):
    summary: str
    width: int
    height: int
    mid: float
    days: tuple[VolumeDay, ...]


class ErrorChart(NamedTuple):
    summary: str
    points: str
    width: int
    height: int


@lru_cache(maxsize=128)
def _day_name(day: date) -> str:
    """``Sun 1 Nov``: every account's chart shows the same 30 days, so each is written once."""
    return f"{day:%a} {day.day} {day:%b}"


def volume_chart(daily: Sequence) -> VolumeChart:
    """Incoming bars above the axis, outgoing below, one pair per day (oldest on the left)."""
    width, mid = BAR * len(daily), VOLUME_HEIGHT / 2
    peak = max([max(d.received, d.sent) for d in daily] + [1])
    axis = f"{mid:.1f}"
    days = []
    for i, d in enumerate(daily):
        received, sent = d.received, d.sent
        in_y = in_height = out_y = out_height = ""
        if received:
            h = max(mid * received / peak, 1)
            in_y, in_height = f"{mid - h:.1f}", f"{h:.1f}"
        if sent:
            out_y, out_height = axis, f"{max(mid * sent / peak, 1):.1f}"
        label = f"{_day_name(d.day)}: {received} received, {sent} sent"
        days.append(VolumeDay(label, i * BAR, in_y, in_height, out_y, out_height))
    received, sent = sum(d.received for d in daily), sum(d.sent for d in daily)
    summary = f"Messages per day over {len(daily)} days: {received} received (up), {sent} sent (down); busiest day {peak if received or sent else 0}"
    return VolumeChart(summary=summary, width=width, height=VOLUME_HEIGHT, mid=mid, days=tuple(days))


def error_chart(history: Sequence[tuple[datetime, int]], *, now: datetime, days: int = 7) -> ErrorChart | None:
    """The error count as a step line over the last ``days`` days, from the accounts snapshots;
    ``None`` without history (nothing is drawn)."""
    if not history:
        return None
    start = now - timedelta(days=days)
    span = (now - start).total_seconds()
    peak = max([count for _, count in history] + [1])

    def xy(at: datetime, count: int) -> str:
        x = ERROR_WIDTH * max((at - start).total_seconds(), 0) / span
        y = ERROR_HEIGHT - 2 - (ERROR_HEIGHT - 4) * count / peak
        return f"{x:.1f},{y:.1f}"

    points, previous = [], None
    for at, count in history:
        if previous is not None:
            points.append(xy(at, previous))  # hold the last value until this snapshot: a step
        points.append(xy(at, count))
        previous = count
    points.append(xy(now, previous))
    latest = history[-1][1]
    summary = f"Error count over {days} days: now {latest}, at most {max(c for _, c in history)}"
    return ErrorChart(summary=summary, points=" ".join(points), width=ERROR_WIDTH, height=ERROR_HEIGHT)
