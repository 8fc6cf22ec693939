"""The Jinja2 side of the templates: its environment, and the page's chrome both engines draw.

The inbox's own responses (the page, each of its fragments, the rows, the sidebar's accounts) are
Jinja2 templates under ``templates/jinja2/``; the other pages stay in Django's template language
(``templates/``). Jinja2 compiles a template to Python: the list's rows draw five times faster
than in Django's template language, the page around them in half the time (``docs/rendering.md``
has the measurements). The two engines meet in two places, both here:

* the **environment** gives the Jinja2 templates the same helpers the Django templates use, under
  the same names (``url``, ``static``, ``when``, ``intcomma``, ``pluralize``, ...);
* the **chrome** around every page (the ``<head>``'s assets, the top bar, the messages) is one set
  of Jinja2 macros (``templates/jinja2/chrome.html``), called from the Jinja2 layout
  (``layout.html``) and, through ``{% load layout %}`` tags, from Django's ``base.html``, so the
  two layouts cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.middleware.csrf import get_token
from django.template import engines
from django.template.defaultfilters import pluralize
from django.core.files.storage import storages
from django.templatetags.static import static as _django_static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django_htmx.jinja import htmx_script
from jinja2 import Environment, StrictUndefined, pass_context
from markupsafe import Markup

from inbox.mailbox.customers import customer_name as _customer_name
from inbox.mailbox.filters import NO_ACCOUNT
from inbox.mailbox.labels import DEFAULT_ACCOUNT_LABEL, account_label, message_account_label
from inbox.mailbox.rows import rows_html, waiting
from inbox.mailbox.sidebar import account_options_html
from inbox.models import Customer, EmailAccount
from inbox import timefmt
from inbox.templatetags.times import when  # Django's SafeString is safe to Jinja2 too (__html__)

CHROME = "chrome.html"


def environment(**options) -> Environment:
    """The Jinja2 environment of ``settings.TEMPLATES`` (Django's Jinja2 backend). A name a
    template does not have is an error, not an empty string (``StrictUndefined``): a misspelt
    variable fails the tests instead of drawing nothing."""
    options["undefined"] = StrictUndefined
    env = Environment(**options)
    env.filters.update(account_label=message_account_label, intcomma=intcomma, pluralize=pluralize)
    env.globals.update(
        url=url, static=static, when=when, waiting=waiting, htmx_script=htmx_script,
        customer_name=customer_name, view_name=view_name, empty_hint=empty_hint, live_poll_seconds=live_poll_seconds,
        head_assets=head_assets, topbar=topbar, flash=flash, time_zone=time_zone,
        message_rows=rows_html, account_options=account_options_html, csrf_field=csrf_field,
        csrf_value=csrf_value,
    )
    return env


def url(name: str, *args) -> str:
    """``{% url name arg %}``. Remembered per name, arguments, script prefix and URLconf: a page
    reverses twenty names (the navigation, the forms' actions, the htmx endpoints), each ~25 µs
    of Django's resolver for a string that does not change while the process runs."""
    return _reversed(name, args, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@lru_cache(maxsize=256)
def _reversed(name: str, args: tuple, script_prefix: str, urlconf) -> str:
    return reverse(name, args=args or None, urlconf=urlconf)


def static(path: str) -> str:
    """``{% static path %}``. Remembered per path, storage and script prefix: every page names the
    same six assets, and the manifest's storage finds each one's hashed name (~25 µs) for a
    string that does not change while the storage lives (a new one, after a change of
    ``STORAGES``, is asked again)."""
    return _static(path, storages["staticfiles"], get_script_prefix())


@lru_cache(maxsize=64)
def _static(path: str, storage, script_prefix: str) -> str:
    return _django_static(path)


def live_poll_seconds() -> int:
    return max(1, settings.LIVE_POLL_SECONDS)


def time_zone() -> str:
    """The configured display time zone (HELPDESK_TIME_ZONE), or "" for the browser's own."""
    return settings.HELPDESK_TIME_ZONE or ""


# --- Names of a view --------------------------------------------------------------------------


@pass_context
def customer_name(context, coworker_id) -> str:
    return request_customer_name(context.get("request"), coworker_id)


def request_customer_name(request, coworker_id) -> str:
    """The customer's name (else e-mail, else "Customer <number>"); "" for no customer.

    A page names its customer up to three times (the title, the heading, the customer field):
    the name is read once a request."""
    return _once_a_request(request, "customer", coworker_id, _customer_name)


def _once_a_request(request, kind: str, key, read: Callable[[object], str]) -> str:
    """``read(key)``, kept on the request: a page names its view in the heading and the title."""
    if request is None:
        return read(key)
    known = request.__dict__.setdefault("_helpdesk_names", {})
    if (kind, key) not in known:
        known[kind, key] = read(key)
    return known[kind, key]


@pass_context
def view_name(context, filters) -> str:
    return name_of_view(filters, context.get("request"))


QUOTED_WORDS = 40  # characters of a search quoted in the view's name


def name_of_view(filters, request=None) -> str:
    """What the view is called: the list's heading and the document title ("Unread", "Awaiting
    reply", a customer's name...). Every filter in use is named, always in the same order: who
    the view is about (a customer or a company, then one mail account), the words searched, the
    days, the state, the order ("Front desk · search “invoice” · since 1 Mar 2026 · unread
    received · oldest first"): two views in the history (and two tabs) are told apart, and the
    heading says what a phone's folded filters do not."""
    if filters.unordered.is_empty:
        return "Inbox · oldest first" if filters.oldest_first else "Inbox"
    parts = []
    if filters.customer:
        parts.append(request_customer_name(request, filters.customer))
    elif filters.company:  # a customer's company, as the link to it spells it
        parts.append(filters.company.translate(_BIDI_CONTROLS))
    if filters.account is not None:
        parts.append(request_account_name(request, filters.account))
    named = len(parts)  # names keep their case; the words that follow are lower case after them
    if filters.q:
        parts.append(f"search {_quoted(filters.q)}")
    if filters.since or filters.until:
        days = timefmt.day_range(filters.since, filters.until)
        parts.append(days[0].lower() + days[1:] if days.startswith(("Since", "Until")) else days)
    state = _state_of_view(filters)
    if state:
        parts.append(state)
    if filters.oldest_first:
        parts.append("oldest first")
    if not named:
        parts[0] = parts[0][0].upper() + parts[0][1:]
    return " · ".join(parts)


# Bidirectional formatting characters (embeddings, overrides, isolates, marks): typed into a search
# or a company, an override turned the rest of the tab's title around ("ksed pleH · ...").
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def _quoted(q: str) -> str:
    words = " ".join(q.translate(_BIDI_CONTROLS).split())
    return f"“{words if len(words) <= QUOTED_WORDS else words[: QUOTED_WORDS - 1].rstrip() + '…'}”"


def _state_of_view(filters) -> str:
    """The messages' state a view keeps: "awaiting reply", "unread received", "sent" ... or ""."""
    if filters.awaiting:  # received messages only: the direction says nothing more
        return "unread awaiting reply" if filters.unread else "awaiting reply"
    direction = {"incoming": "received", "outgoing": "sent"}.get(filters.direction or "", "")
    if filters.unread:
        return f"unread {direction}".strip()
    return direction


def empty_hint(filters) -> str:
    """What to loosen when a view has no messages, naming only the filters it has."""
    if filters.awaiting and filters.direction == "outgoing":
        return "Awaiting reply lists received messages only: choose All or Received."
    if filters.customer and not Customer.objects.filter(pk=filters.customer).exists():
        # A number typed or pasted that no message of the mirror names: not "another customer".
        return (f"No message of the mirror is to or from customer number {filters.customer}: "
                "check the number, or type the customer’s name in the Customer field.")
    ways = [
        text for on, text in (
            # Words as typed: an e-mail address is one ("fewer words" for it would puzzle).
            (filters.q, "fewer words" if len(filters.q.split()) > 1 else "another word or the start of one"),
            (filters.customer, "another customer"),
            (filters.company, "the company's whole name"),
            (filters.account is not None, "another account"),
            (filters.since or filters.until, "a wider date range"),
            (filters.unread, "read messages too"),
            (filters.awaiting, "answered messages too"),
            (filters.direction, "both directions"),
        ) if on
    ]
    if not ways:
        return ""
    return "Try " + (ways[0] if len(ways) == 1 else ", ".join(ways[:-1]) + " or " + ways[-1]) + "."


def request_account_name(request, account) -> str:
    """The name of the mail account a view filters on (read once a request, like a customer's)."""
    if account == NO_ACCOUNT:
        return DEFAULT_ACCOUNT_LABEL
    return _once_a_request(request, "account", account, _account_name)


def _account_name(account: int) -> str:
    row = EmailAccount.objects.filter(pk=account).values_list("display_name", "email_address").first()
    return account_label(account, *(row or (None, None)))


# --- The chrome around every page ---------------------------------------------------------------


def _chrome():
    return engines["jinja2"].env.get_template(CHROME).module  # its macros


def head_assets() -> Markup:
    """The ``<head>``'s shared part: the character set, the viewport, the icon, the stylesheet,
    htmx's configuration and the scripts."""
    return _chrome().head_assets()


@pass_context
def topbar(context) -> Markup:
    return topbar_html(context)


def topbar_html(context: Mapping) -> Markup:
    """The live region and the top bar (brand, navigation, "Synced 3 min ago", who, sign out) for
    the page being drawn: ``context`` is the template's (the request, the user, and the values of
    ``inbox.context_processors.helpdesk``, which are computed only when called)."""
    request = context.get("request")
    user = context.get("user") or getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    admin = signed_in and _value(context.get("is_helpdesk_admin"))
    match = getattr(request, "resolver_match", None)
    return _chrome().topbar(
        signed_in=signed_in,
        username=user.get_username() if signed_in else "",
        admin=admin,
        attention=(_value(context.get("accounts_attention_count")) or 0) if admin else 0,
        current=match.url_name if match else "",
        last_synced=last_synced_html(_value(context.get("sync_status")), admin=admin) if signed_in else "",
        csrf_input=csrf_input(context.get("request")),
    )


def last_synced_html(status, *, admin: bool = False) -> Markup:
    """The top bar's "Synced 3 min ago", or "Sync failing · last synced 20 min ago" (asked again
    every 30 s: ``inbox-last-synced``); ``status`` is ``inbox.context_processors.SyncStatus``."""
    stale_after = timezone.now() - timedelta(seconds=settings.HEALTHZ_MAX_SYNC_AGE)
    return _chrome().last_synced(status, admin=admin, stale_after=stale_after)


@pass_context
def flash(context) -> Markup:
    return flash_html(context.get("messages"))


def flash_html(messages) -> Markup:
    """The messages of ``django.contrib.messages`` (reading them marks them shown)."""
    return _chrome().flash(list(messages) if messages else [])


def _value(value):
    """A context processor's value: ``inbox.context_processors`` hands out callables."""
    return value() if isinstance(value, Callable) else value


@pass_context
def csrf_field(context) -> Markup:
    return csrf_input(context.get("request"))


@pass_context
def csrf_value(context) -> str:
    request = context.get("request")
    return csrf_token(request) if request is not None else ""


def csrf_token(request) -> str:
    """The request's CSRF token, masked once a response, as Django's template language does
    (``get_token`` masks it anew at each call, from 32 random characters of the system)."""
    token = request.__dict__.get("_helpdesk_csrf_token")
    if token is None:
        token = request.__dict__["_helpdesk_csrf_token"] = get_token(request)
    return token


def csrf_input(request) -> Markup:
    """The hidden CSRF field of a form (Django's ``{% csrf_token %}``)."""
    if request is None:
        return Markup()
    return Markup('<input type="hidden" name="csrfmiddlewaretoken" value="{}">').format(csrf_token(request))
