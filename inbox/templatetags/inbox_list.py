"""Small template helpers of the inbox list and the layout."""

from __future__ import annotations

from django import template
from django.conf import settings

from inbox.mailbox.labels import message_account_label
from inbox.mailbox.rows import rows_html, waiting
from inbox.mailbox.sidebar import account_facets_html, account_options_html

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


# --- The list's rows (drawn by Jinja2: inbox/mailbox/rows.py) ----------------------------------

register.simple_tag(waiting, name="waiting")  # {% waiting message as wait %}: the message page


@register.simple_tag(takes_context=True)
def message_rows(context, rows, oob: bool = False):
    """The rows of the list (:func:`inbox.mailbox.rows.rows_html`) for the page's ``filters`` and
    ``open_id``: ``{% message_rows page.rows %}``, ``{% message_rows rows oob=True %}``."""
    return rows_html(rows, filters=context["filters"], open_id=context.get("open_id"), oob=oob)


# --- The sidebar's lists of mail accounts (drawn by Jinja2: inbox/mailbox/sidebar.py) -----------

register.simple_tag(account_options_html, name="account_options")  # {% account_options accounts form.account.value %}
register.simple_tag(account_facets_html, name="account_facets")  # {% account_facets counts %}
