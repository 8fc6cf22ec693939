"""Small template helpers of the inbox list and the layout."""

from __future__ import annotations

from django import template
from django.conf import settings

from inbox.mailbox.selectors import DEFAULT_ACCOUNT_LABEL

register = template.Library()


@register.simple_tag
def helpdesk_time_zone() -> str:
    """The configured display time zone (HELPDESK_TIME_ZONE), or "" for the browser's own."""
    return settings.HELPDESK_TIME_ZONE or ""


@register.simple_tag
def live_poll_seconds() -> int:
    return max(1, settings.LIVE_POLL_SECONDS)


@register.filter
def account_label(message) -> str:
    """The mail account a message came through, as Nexudus names it."""
    if message.email_account_id is None:
        return DEFAULT_ACCOUNT_LABEL
    return (
        message.email_account_display_name
        or message.email_account_email_address
        or f"Account {message.email_account_id}"
    )
