"""The sidebar's lists of mail accounts, drawn by Jinja2 like the rows (``inbox/mailbox/rows.py``):
the filter's choices and the counts' facets (``templates/jinja2/inbox/accounts.html``).

A tenant has dozens of mail accounts, and each is an entry of both lists. In Django's template
language the counts' fifty facets cost 3.9 ms, more than the rest of that response's work; as a
Jinja2 macro, 0.7 ms. ``docs/rendering.md`` has the measurements.
"""

from __future__ import annotations

from django.template import engines
from django.urls import reverse
from markupsafe import Markup

TEMPLATE = "inbox/accounts.html"


def _macros():
    return engines["jinja2"].env.get_template(TEMPLATE).module  # its macros


def account_options_html(accounts: list[tuple[str, str]], chosen) -> Markup:
    """The ``<option>`` of each mail account (``selectors.account_choices``); ``chosen``: the
    account filter the list applies (an Id, "none" or None), selected. An Id that is no current
    mail account (a link to one since removed from Nexudus, a typo) gets an option of its own, so
    the form says the view the list shows, and changing another filter keeps it. A value that is
    no Id at all (``account=abc``) is ignored by the list, so the form says "All accounts" too:
    it used to keep "abc" chosen, and every later change of a filter sent it, and its error, again."""
    chosen = str(chosen or "").lower()
    if chosen and all(value != chosen for value, _ in accounts):
        accounts = [*accounts, (chosen, f"Account {chosen} (not a current account)")]
    return _macros().options(accounts, chosen)


def account_facets_html(counts) -> Markup:
    """The ``<li>`` of each mail account of ``counts`` (``counts.MessageCounts``): its name, a link
    to the view with it chosen, and its count."""
    return _macros().facets(counts.accounts, reverse("inbox-index"))
