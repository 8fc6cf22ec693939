"""The inbox list's rows, drawn by Jinja2 (``templates/jinja2/inbox/rows.html``).

Every inbox response but the counts draws fifty rows. Django's template language spent about
150 µs on one (each variable resolves through a stack of contexts, each value is localized and
escaped node by node): 7 ms a page, a third of the request. Compiled to Python by Jinja2, the
same row takes about 40 µs. The inbox's page and fragments (``templates/jinja2/inbox/``) call
:func:`rows_html` as ``message_rows`` (``inbox/templating.py``).
``docs/rendering.md`` has the measurements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings
from django.template import engines
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from markupsafe import Markup, escape

from inbox import timefmt
from inbox.mailbox.filters import InboxFilters

TEMPLATE = "inbox/rows.html"
ROW_URLS = {"detail": "message-detail", "read": "message-mark-read", "unread": "message-mark-unread"}


def rows_html(
    rows: Iterable, *, filters: InboxFilters, open_id: int | None = None, oob: bool = False,
    now: dt.datetime | None = None,
) -> Markup:
    """The ``<li>`` of each message in ``rows`` (``selectors.for_rows``' named tuples), linking into
    ``filters``' view, ``open_id``'s row marked open; ``oob``: each row replaces its old self out
    of band (after a mark). Times are measured from ``now``, one instant for the whole page."""
    query = filters.querystring()
    inbox = reverse("inbox-index")
    prefix = get_script_prefix()
    context = {
        "rows": rows,
        **_row_urls(prefix),
        # Escaped here, once: the template prints the links' parts as they are (rows.html says why).
        "view_q": escape(f"?{query}" if query else ""),  # the reader's newer / older follow this view
        "open_q": escape(f"{inbox}?{query}&open=" if query else f"{inbox}?open="),  # up to the id
        "open_id": open_id,
        "oob": oob,
        "now": now or timezone.now(),
    }
    return Markup(engines["jinja2"].get_template(TEMPLATE).render(context))


@lru_cache(maxsize=8)
def _row_urls(script_prefix: str) -> dict[str, Markup]:
    """Each row link's text before and after the id, as ``<key>_a`` and ``<key>_b`` (safe: they
    are Django's own URLs, escaped once here rather than at every row)."""
    urls = {}
    for key, name in ROW_URLS.items():
        before, after = _around_id(name, script_prefix)
        urls[f"{key}_a"], urls[f"{key}_b"] = escape(before), escape(after)
    return urls


@lru_cache(maxsize=64)
def _around_id(name: str, script_prefix: str) -> tuple[str, str]:
    """The URL of ``name`` for an id, as the text before and after the id: one ``reverse`` for the
    three links of every row (reversing each costs more than the rest of the row's text)."""
    url = reverse(name, args=[7])
    at = url.rindex("7")
    return url[:at], url[at + 1:]


class Wait(NamedTuple):
    text: str  # "waiting 3 h"
    late: bool  # past HELPDESK_REPLY_TARGET_HOURS
    hours: int
    target: int  # HELPDESK_REPLY_TARGET_HOURS
    since: str  # when the wait began (the message's creation), ISO 8601: the page refreshes the text from it


def waiting(message, now: dt.datetime | None = None) -> Wait:
    """How long the customer of an awaiting message has waited. Attributes, not a dict: a
    template reads a dict's keys only after an attribute lookup has failed (an exception each)."""
    now = now or timezone.now()
    seconds = max(0, int((now - message.created_on).total_seconds()))
    target = settings.HELPDESK_REPLY_TARGET_HOURS
    return Wait(
        text=f"waiting {timefmt.wait_length(seconds)}", late=seconds >= max(0, target) * 3600,
        hours=seconds // 3600, target=target, since=timefmt.iso(message.created_on),
    )
