"""``{% chart "accounts/volume_chart.html" row.volume_chart %}``: a chart template, drawn once per numbers.

The accounts page draws 30 bars for each account, and the template engine's cost per printed value
makes that most of the page's time. A chart's markup depends on nothing but its numbers (the chart
templates turn localisation off and read no other context), and the numbers change slowly (the
daily volumes are cached for a minute, the day labels change at midnight), so the markup of the
charts drawn lately is kept in this process's memory, keyed by the numbers themselves: the same
numbers give the same markup, and no entry can be stale. Memory, not the cache (Redis): fetching a
chart would cost about what drawing it does, and a chart is never worth failing a page for.
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.template import Context
from django.template.loader import get_template
from django.utils.safestring import SafeString

register = template.Library()

# Enough for every chart of a page of ~1,000 accounts (a volume chart is ~3.5 KB of markup).
DRAWN_CHARTS = 2048


@register.simple_tag
def chart(template_name: str, data) -> str:
    """``template_name`` rendered with ``{"chart": data}``; ``data`` must be hashable (a named
    tuple from ``inbox.accounts.charts``). Nothing when there is no chart."""
    if data is None:
        return ""
    # The engine's template object, not the backend's wrapper (a new one per call), so a template
    # edited in development (the cached loader then reloads it) is drawn afresh.
    return _drawn(get_template(template_name).template, data)


@lru_cache(maxsize=DRAWN_CHARTS)
def _drawn(compiled, data) -> SafeString:
    return compiled.render(Context({"chart": data}))
