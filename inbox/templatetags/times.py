"""``{% when value %}``: a time written the one way (:mod:`inbox.timefmt`), as a ``<time>`` element.

``{% when m.created_on %}`` gives ``<time datetime="2026-11-26T18:35:00Z" title="Thu 26 Nov 2026,
18:35:00 UTC">2 min ago</time>``: the final text, rendered by the server, so an htmx fragment
(a page of rows loaded by scrolling, a sync card's poll) reads like the page around it with no
script. ``static/js/timefmt.js`` only refreshes the relative text as time passes, by the same rules.

A second argument picks what the text shows: ``"exact"`` (a message's header), ``"time"`` (the
time of day: "14:05"), ``"day"`` ("26 Nov 2026"), ``"age"`` ("3 weeks ago": beside an exact time), ``"point"`` (when something began: "14:05" today, else
"Fri 14:05", "26 Nov"); the tooltip is always the exact time.
``{% when value now=now %}`` measures from a given instant (a page that computed one).
"""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe

from inbox import clock, timefmt

register = template.Library()

FORMATS = timefmt.FORMS


@register.simple_tag
def when(value, form: str = "relative", now=None):
    return mark_safe(timefmt.element(value, form, now)) if value else ""


@register.filter
def when_text(value, now=None) -> str:
    """The relative text alone (an attribute, a sentence that is not a ``<time>``)."""
    if not value:
        return ""
    return timefmt.relative(value, now or timezone.now())


@register.filter
def exact(value) -> str:
    """The exact time as plain text (a tooltip on something that is not a ``<time>``)."""
    return timefmt.exact(value) if value else ""


@register.filter
def age(value, now=None) -> str:
    """How long ago, as plain text ("1 year ago"): beside an exact time, in parentheses."""
    if not value:
        return ""
    return timefmt.age(value, now or timezone.now())


@register.filter
def local(value):
    """``value``'s wall-clock time in the help desk's zone, for Django's own ``date`` filter (a day
    heading). Naive on purpose: ``date`` would convert an aware value to ``TIME_ZONE`` again."""
    return clock.local(value).replace(tzinfo=None) if value else value


@register.filter
def took(value) -> str:
    """How long a run took (a timedelta): "4.2 s", "2 min 5 s"; "under 0.1 s" rather than "0.0 s",
    which read as no time at all."""
    if value is None:
        return ""
    seconds = value.total_seconds()
    if seconds < 0.1:
        return "under 0.1 s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"
