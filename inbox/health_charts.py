"""Small SVG charts for the accounts page, drawn on the server (no JavaScript, no CDN).

Each chart is an inline ``<svg role="img">`` with an ``aria-label`` summing it up and a
``<title>`` on every bar, so a pointer or a screen reader gets the numbers. Colours come from
``static/css/admin.css`` (classes ``chart-in``, ``chart-out``, ``chart-errors``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

BAR = 5  # px per day
VOLUME_HEIGHT = 40
ERROR_WIDTH, ERROR_HEIGHT = 150, 28


def volume_chart(daily: Sequence) -> SafeString:
    """Incoming bars above the axis, outgoing below, one pair per day (oldest on the left)."""
    width, mid = BAR * len(daily), VOLUME_HEIGHT / 2
    peak = max([max(d.received, d.sent) for d in daily] + [1])
    bars = []
    for i, d in enumerate(daily):
        x = i * BAR
        label = f"{d.day:%a} {d.day.day} {d.day:%b}: {d.received} received, {d.sent} sent"
        parts = [f"<title>{escape(label)}</title>", f'<rect class="chart-day" x="{x}" y="0" width="{BAR}" height="{VOLUME_HEIGHT}"/>']
        if d.received:
            h = max(mid * d.received / peak, 1)
            parts.append(f'<rect class="chart-in" x="{x}.5" y="{mid - h:.1f}" width="{BAR - 1}" height="{h:.1f}"/>')
        if d.sent:
            h = max(mid * d.sent / peak, 1)
            parts.append(f'<rect class="chart-out" x="{x}.5" y="{mid:.1f}" width="{BAR - 1}" height="{h:.1f}"/>')
        bars.append(f"<g>{''.join(parts)}</g>")
    received, sent = sum(d.received for d in daily), sum(d.sent for d in daily)
    summary = f"Messages per day over {len(daily)} days: {received} received (up), {sent} sent (down); busiest day {peak if received or sent else 0}"
    return format_html(
        '<svg class="chart chart-volume" role="img" aria-label="{}" width="{}" height="{}" viewBox="0 0 {} {}">'
        '<line class="chart-axis" x1="0" y1="{}" x2="{}" y2="{}"/>{}</svg>',
        summary, width, VOLUME_HEIGHT, width, VOLUME_HEIGHT, mid, width, mid, mark_safe("".join(bars)),
    )


def error_chart(history: Sequence[tuple[datetime, int]], *, now: datetime, days: int = 7) -> SafeString:
    """The error count as a step line over the last ``days`` days, from the accounts snapshots."""
    if not history:
        return mark_safe("")
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
    return format_html(
        '<svg class="chart chart-errors-over-time" role="img" aria-label="{}" width="{}" height="{}" viewBox="0 0 {} {}">'
        '<title>{}</title><polyline class="chart-errors" points="{}"/></svg>',
        summary, ERROR_WIDTH, ERROR_HEIGHT, ERROR_WIDTH, ERROR_HEIGHT, summary, " ".join(points),
    )
