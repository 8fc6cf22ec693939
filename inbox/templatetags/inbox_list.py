"""Small template helpers of the inbox list and the layout."""

from __future__ import annotations

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html

from inbox.mailbox.labels import message_account_label
from inbox.mailbox.rows import waiting
from inbox.mailbox.sidebar import account_facets_html
from inbox.templating import name_of_view, time_zone

register = template.Library()


register.simple_tag(time_zone, name="helpdesk_time_zone")
register.simple_tag(name_of_view, name="view_name")  # {% view_name filters %}: the counts' <title>


@register.filter
def account_label(message, form: str = "") -> str:
    """The mail account a message went through (:func:`inbox.mailbox.labels.account_label`);
    ``{{ m|account_label:"with address" }}`` adds its address."""
    return message_account_label(message, with_address=form == "with address")


register.simple_tag(waiting, name="waiting")  # {% waiting message as wait %}: the message page


@register.simple_tag
def facet_count(n: int, counts) -> str:
    """A facet's number in the counts: "1,204", "at least" as "1,204+" when the counting stopped at
    the cap (``counts.capped``); and there a 0 says it is not known ("–", read "not counted"):
    none among the first messages found is no bound at all, and "0+" read as "none"."""
    if not counts.capped:
        return intcomma(n)
    if n:
        return f"{intcomma(n)}+"
    return format_html(
        '<span title="Not counted: counting stopped at the first {} messages found">'
        '<span aria-hidden="true">–</span><span class="visually-hidden">not counted</span></span>',
        intcomma(counts.cap),
    )


# --- The counts' mail accounts (drawn by Jinja2: inbox/mailbox/sidebar.py) ---------------------

register.simple_tag(account_facets_html, name="account_facets")  # {% account_facets counts %}
