"""Small template helpers of the inbox list and the layout."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django import template
from django.urls import get_script_prefix, reverse
from django.conf import settings
from django.utils import timezone

from inbox.mailbox.labels import message_account_label

register = template.Library()


@register.simple_tag
def helpdesk_time_zone() -> str:
    """The configured display time zone (HELPDESK_TIME_ZONE), or "" for the browser's own."""
    return settings.HELPDESK_TIME_ZONE or ""


@register.simple_tag
def live_poll_seconds() -> int:
    return max(1, settings.LIVE_POLL_SECONDS)


@register.filter
def account_label(message, form: str = "") -> str:
    """The mail account a message went through (:func:`inbox.mailbox.labels.account_label`);
    ``{{ m|account_label:"with address" }}`` adds its address."""
    return message_account_label(message, with_address=form == "with address")


@register.simple_tag
def waiting(message, now: dt.datetime | None = None) -> dict:
    """How long the customer of an awaiting message has waited: ``{"text": "waiting 3 h",
    "late": bool, "hours": int, "target": int}`` (``late``: past ``HELPDESK_REPLY_TARGET_HOURS``)."""
    now = now or timezone.now()
    seconds = max(0, int((now - message.created_on).total_seconds()))
    return {
        "text": f"waiting {wait_length(seconds)}",
        "late": seconds >= max(0, settings.HELPDESK_REPLY_TARGET_HOURS) * 3600,
        "hours": seconds // 3600,
        "target": settings.HELPDESK_REPLY_TARGET_HOURS,
    }


def wait_length(seconds: int) -> str:
    """A wait in the largest whole unit: "5 min", "3 h", "2 d" (under a minute: "1 min")."""
    if seconds < 3600:
        return f"{max(1, seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


# --- The list's rows: what fifty rows a page would otherwise compute fifty times -----------------


@lru_cache(maxsize=64)
def _around_id(name: str, script_prefix: str) -> tuple[str, str]:
    """The URL of ``name`` for an id, as the text before and after the id (one ``reverse``)."""
    url = reverse(name, args=[7])
    at = url.rindex("7")
    return url[:at], url[at + 1:]


@register.filter
def url_for_id(pk, name: str) -> str:
    """``reverse(name, args=[pk])`` for the list's per-row links: ``{{ m.pk|url_for_id:"message-detail" }}``.
    A row has three such links; reversing each costs more than the rest of the row's text."""
    before, after = _around_id(name, get_script_prefix())
    return f"{before}{int(pk)}{after}"


@register.filter
def view_query(filters) -> str:
    """The view's query string with its "?" ("" for the plain inbox), computed once for all rows."""
    query = filters.querystring()
    return f"?{query}" if query else ""


@register.filter
def open_url(filters) -> str:
    """The inbox URL that opens a message beside this view, up to the id: ``/?unread=1&open=``."""
    query = filters.querystring()
    return f"{reverse('inbox-index')}?{query}&open=" if query else f"{reverse('inbox-index')}?open="
