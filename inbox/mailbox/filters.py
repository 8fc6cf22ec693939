"""The inbox's filters: the value object, the table of filters it is made of, and the form.

Every filter is one field of :class:`InboxFilters` declared with :func:`filter_field`: how its
query parameter is read (and why a bad one is ignored), written back, and applied to a queryset.
Everything that shows "the messages of this view" reads this one table: the list, the counts (a
filter that is not a facet narrows the counted view), the live banner, the marks, the reader's
newer / older and the CSV export; the URL round trip is :meth:`InboxFilters.querystring` and
:class:`InboxFilterForm`. The filter's control is a branch of the macro ``control(name)`` of
``templates/jinja2/inbox/parts.html``. So a new filter is a field here and a control there (a new
facet, counted per value beside the list like direction or account, also needs its count in
``counts.py``).

A value that does not parse is reported beside its filter ("... — ignored") and the view is
computed without that filter: never a 500, never a silently wrong result.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal
from urllib.parse import urlencode

from django import forms
from django.db.models import QuerySet, Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.utils.text import slugify

from inbox import clock
from inbox.mailbox.cursor import Cursor
from inbox.mailbox.search import MAX_TERMS, apply_search, has_single_letters, has_too_many_terms, search_terms
from inbox.mailbox.unread import unread_condition

Direction = Literal["incoming", "outgoing"]
Order = Literal["newest", "oldest"]
ORDERS = ("newest", "oldest")
NO_ACCOUNT = "none"  # account=none: "default location settings" (no account)
MAX_ID = 2**63 - 1  # ids are 64-bit: a larger number would overflow the database parameter
MAX_QUERY_LENGTH = 200
MAX_NAME_LENGTH = 255  # the mirror's name columns
TRUE_VALUES = {"1", "true", "on", "yes"}
FALSE_VALUES = {"", "0", "false", "off", "no"}
DATE_FORMAT = "%Y-%m-%d"

# The days a date filter may name. A day's bounds are midnights in the help desk's zone, turned
# into UTC for the database: near the ends of Python's dates (years 1 to 9999) that UTC moment may
# not exist (0001-01-01 00:00 in Berlin is in year 0 in UTC: OverflowError). Inside this range it
# exists in every zone, west or east of UTC, and both databases store it
# (https://docs.python.org/3/library/datetime.html#datetime.MINYEAR).
FILTER_DATE_MIN = dt.date(1900, 1, 1)
FILTER_DATE_MAX = dt.date(9999, 12, 30)


@dataclass(frozen=True)
class Filter:
    """One filter: its query parameter ``name`` (the field's name) and what it does.

    ``parse``: the parameter's text (stripped, never empty) to a value, or a ValidationError that
    says why it is ignored. ``narrow``: ``(queryset, value, user) -> queryset``, applied only when
    the value is not the default. ``param``: the value as the parameter's text. ``facet``: counted
    per value beside the list (each count leaves its own facet out). ``control``: it has a control
    in the filter form (the partial ``filter-<name>``). ``slug``: its part of the CSV's file name.
    ``sorts``: it orders the view instead of narrowing it (``order``): the counts leave it out.
    """

    name: str
    default: Any
    parse: Callable[[str], Any]
    narrow: Callable[[QuerySet, Any, Any], QuerySet]
    param: Callable[[Any], str] = str
    facet: bool = False
    control: bool = True
    slug: Callable[[Any], str] | None = None
    sorts: bool = False


def filter_field(default, **spec) -> Any:
    """A field of :class:`InboxFilters` that is a filter (``spec``: :class:`Filter`'s arguments)."""
    return dataclasses.field(default=default, metadata={"filter": spec})


# --- Reading parameters -------------------------------------------------------------------------


def id_or_error(value: str, what: str) -> int:
    value = value.strip()
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise forms.ValidationError(f"“{value[:40]}” is not {what} — ignored.", code="invalid")
    return int(value)


def _switch_parser(label: str) -> Callable[[str], bool]:
    """A yes/no filter's parameter (``unread=1``, ``awaiting=1``): 1 (or true, on, yes) or 0 (or nothing, false, off, no)."""

    def parse(value: str) -> bool:
        value = value.lower()
        if value in TRUE_VALUES:
            return True
        if value in FALSE_VALUES:
            return False
        raise forms.ValidationError(f"“{label}” takes 1 (on) or 0 (off) — ignored.", code="invalid")

    return parse


def _parse_direction(value: str) -> str | None:
    value = value.lower()
    if value in {"all", "both"}:
        return None
    if value in {"incoming", "outgoing"}:
        return value
    raise forms.ValidationError(
        f"“{value[:40]}” is not a direction (received = incoming, sent = outgoing) — ignored.", code="invalid"
    )


def _parse_order(value: str) -> str:
    value = value.lower()
    if value in ORDERS:
        return value
    raise forms.ValidationError(
        f"“{value[:40]}” is not an order (newest or oldest first) — showing the newest first.", code="invalid"
    )


def _parse_account(value: str) -> int | str:
    return NO_ACCOUNT if value.lower() == NO_ACCOUNT else id_or_error(value, "a mail account")


def _parse_customer(value: str) -> int:
    return id_or_error(value, "a customer number")


def _parse_search(value: str) -> str:
    if not search_terms(value):
        raise forms.ValidationError("Search needs a word (letters or digits) — ignored.", code="no_terms")
    return value


def _date_parser(label: str) -> Callable[[str], dt.date]:
    def parse(value: str) -> dt.date:
        try:
            day = dt.datetime.strptime(value, DATE_FORMAT).date()
        except ValueError:
            raise forms.ValidationError(
                f"“{value[:40]}” is not a date like 2025-01-31 — “{label}” ignored.", code="invalid"
            ) from None
        if not FILTER_DATE_MIN <= day <= FILTER_DATE_MAX:
            raise forms.ValidationError(
                f"“{value}” is outside the dates the inbox can filter on "
                f"({FILTER_DATE_MIN:%Y-%m-%d} to {FILTER_DATE_MAX:%Y-%m-%d}) — “{label}” ignored.",
                code="out_of_range",
            )
        return day

    return parse


# --- Applying them ------------------------------------------------------------------------------


def _narrow_account(qs: QuerySet, account, user) -> QuerySet:
    if account == NO_ACCOUNT:
        return qs.filter(email_account_id__isnull=True)
    return qs.filter(email_account_id=account)


def _narrow_until(qs: QuerySet, until: dt.date, user) -> QuerySet:
    if until >= dt.date.max:
        return qs
    return qs.filter(created_on__lt=clock.day_start(until + dt.timedelta(days=1)))


def _search_slug(q: str) -> str:
    words = slugify(q)[:40].strip("-")
    return f"search-{words}" if words else "search"


def _parse_company(value: str) -> str:
    if len(value) > MAX_NAME_LENGTH:
        raise forms.ValidationError(
            f"“{value[:40]}…” is not a company name (longer than {MAX_NAME_LENGTH} characters) — ignored.",
            code="too_long",
        )
    return value


def _narrow_company(qs: QuerySet, name: str, user) -> QuerySet:
    """The customer's company as Nexudus spells it (CoworkerCompanyName), whole, in any letter case
    (the database's LOWER on both sides: PostgreSQL folds every script, SQLite ASCII letters)."""
    return qs.filter(Exact(Lower("coworker_company_name"), Lower(Value(name))))


def _company_slug(name: str) -> str:
    words = slugify(name)[:40].strip("-")
    return f"company-{words}" if words else "company"


# --- The value object ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxFilters:
    """The filters of one inbox view; every field optional. ``account``: an Id, "none" or None.

    The fields' order is the query string's order."""

    unread: bool = filter_field(
        False, parse=_switch_parser("Unread"), narrow=lambda qs, on, user: qs.filter(unread_condition(user)),
        param=lambda on: "1", facet=True, slug=lambda on: "unread",
    )
    awaiting: bool = filter_field(
        False, parse=_switch_parser("Awaiting reply"), narrow=lambda qs, on, user: qs.filter(awaiting_reply=True),
        param=lambda on: "1", facet=True, slug=lambda on: "awaiting-reply",
    )
    direction: Direction | None = filter_field(
        None, parse=_parse_direction, narrow=lambda qs, d, user: qs.filter(incoming=d == "incoming"),
        facet=True, slug=str,
    )
    account: int | Literal["none"] | None = filter_field(
        None, parse=_parse_account, narrow=_narrow_account, facet=True, slug=lambda a: f"account-{a}",
    )
    customer: int | None = filter_field(
        None, parse=_parse_customer, narrow=lambda qs, c, user: qs.filter(coworker_id=c),
        slug=lambda c: f"customer-{c}",
    )
    company: str = filter_field("", parse=_parse_company, narrow=_narrow_company, slug=_company_slug)
    q: str = filter_field(
        "", parse=_parse_search, narrow=lambda qs, q, user: apply_search(qs, q), control=False, slug=_search_slug,
    )
    since: dt.date | None = filter_field(
        None, parse=_date_parser("from"), param=dt.date.isoformat,
        narrow=lambda qs, day, user: qs.filter(created_on__gte=clock.day_start(day)),
        slug=lambda day: f"since-{day:%Y-%m-%d}",
    )
    until: dt.date | None = filter_field(
        None, parse=_date_parser("to"), param=dt.date.isoformat, narrow=_narrow_until, control=False,
        slug=lambda day: f"until-{day:%Y-%m-%d}",
    )
    order: Order = filter_field(
        "newest", parse=_parse_order, narrow=lambda qs, order, user: qs, sorts=True, slug=lambda o: f"{o}-first",
    )

    def without(self, *names: str) -> InboxFilters:
        return dataclasses.replace(self, **{n: FILTERS_BY_NAME[n].default for n in names})

    @property
    def is_empty(self) -> bool:
        return self == InboxFilters()

    def _set(self):
        """(filter, value) of the filters that are set, in the table's order."""
        for spec in FILTERS:
            value = getattr(self, spec.name)
            if value != spec.default:
                yield spec, value

    def to_params(self) -> dict[str, str]:
        """The query parameters of this view (only the filters that are set)."""
        return {spec.name: spec.param(value) for spec, value in self._set()}

    def querystring(self, **extra: str) -> str:
        return urlencode({**self.to_params(), **extra})

    def querystrings_with(self, name: str, values) -> dict:
        """``{value: the querystring of this view with filter name set to value}`` for each of
        ``values`` (set values: none is the default), as ``dataclasses.replace(self, name=value)
        .querystring()`` would write each, with one ``to_params`` for them all (the counts link
        each of dozens of mail accounts)."""
        values = list(values)
        if not values:
            return {}
        params = dataclasses.replace(self, **{name: values[0]}).to_params()  # the parameters' order
        param = FILTERS_BY_NAME[name].param
        result = {}
        for value in values:
            params[name] = param(value)
            result[value] = urlencode(params)
        return result

    def apply(self, qs: QuerySet, *, user) -> QuerySet:
        """``qs`` narrowed by every filter that is set (no ordering, no annotation)."""
        for spec, value in self._set():
            qs = spec.narrow(qs, value, user)
        return qs

    @property
    def base(self) -> InboxFilters:
        """The view without its facets and its order: what the counts count (each facet is
        counted per value)."""
        return self.without(*FACETS, *SORTS)

    @property
    def unordered(self) -> InboxFilters:
        """The view in the default order (``order`` changes no message of the view)."""
        return self.without(*SORTS)

    @property
    def oldest_first(self) -> bool:
        return self.order == "oldest"

    def filename_parts(self) -> list[str]:
        """What the view holds, in words for a file name: ``["unread", "incoming"]``."""
        return [spec.slug(value) for spec, value in self._set() if spec.slug is not None]


FILTERS: tuple[Filter, ...] = tuple(
    Filter(name=f.name, default=f.default, **f.metadata["filter"]) for f in dataclasses.fields(InboxFilters)
)
FILTERS_BY_NAME = {spec.name: spec for spec in FILTERS}
FACETS = tuple(spec.name for spec in FILTERS if spec.facet)
SORTS = tuple(spec.name for spec in FILTERS if spec.sorts)
#: The filter form's controls, in order (``control(name)`` in templates/jinja2/inbox/parts.html).
CONTROLS = tuple(spec.name for spec in FILTERS if spec.control)


# --- The form -----------------------------------------------------------------------------------


class FilterField(forms.CharField):
    """A filter's query parameter: stripped text, parsed by its :class:`Filter` ("" = not set)."""

    def __init__(self, spec: Filter):
        super().__init__(required=False, strip=True)
        self.spec = spec

    def clean(self, value):
        text = super().clean(value)
        return self.spec.default if text == "" else self.spec.parse(text)


class InboxFilterForm(forms.Form):
    """Bind to ``request.GET``. ``.filters``: the valid filters; ``.errors``: which were ignored."""

    after = forms.CharField(required=False)
    open = forms.CharField(required=False)  # the message open in the reader pane (not a filter)

    NOT_FILTERS = ("after", "open")  # parameters that say where the person is, not what they see

    def __init__(self, data=None, *args, **kwargs):
        # Search text past MAX_QUERY_LENGTH is cut (and said: search_note), so the box shows
        # exactly what was searched.
        self.q_was_cut = False
        if data is not None and len(data.get("q") or "") > MAX_QUERY_LENGTH:
            data = data.copy()
            data["q"] = data["q"][:MAX_QUERY_LENGTH]
            self.q_was_cut = True
        super().__init__(data, *args, **kwargs)
        self.fields = {**{spec.name: FilterField(spec) for spec in FILTERS}, **self.fields}

    def clean_after(self) -> Cursor | None:
        value = self.cleaned_data["after"].strip()
        if value == "":
            return None
        try:
            return Cursor.decode(value)
        except ValueError:
            raise forms.ValidationError(
                "That “older messages” link is not valid — showing the newest messages.", code="invalid"
            ) from None

    def clean_open(self) -> int | None:
        value = self.cleaned_data["open"].strip()
        if value == "":
            return None
        try:
            return id_or_error(value, "a message")
        except forms.ValidationError:
            raise forms.ValidationError(
                f"“{value[:40]}” is not a message number — no message opened.", code="invalid"
            ) from None

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            for name in ("since", "until"):
                data.pop(name, None)
            self.range_rejected = (since, until)  # still shown in the boxes, beside the error
            self.add_error("until", "“To” is before “from” — the date range is ignored.")
        return data

    range_rejected: tuple[dt.date, dt.date] | None = None

    @property
    def typed_since(self) -> str:
        """What the "From" box shows: the date in force, or the one typed when the range was refused."""
        return self._typed(0, "since")

    @property
    def typed_until(self) -> str:
        return self._typed(1, "until")

    def _typed(self, index: int, name: str) -> str:
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        day = self.cleaned_data.get(name) or (self.range_rejected[index] if self.range_rejected else None)
        return day.isoformat() if day else ""

    # --- What the view uses ---------------------------------------------------------------

    @cached_property
    def filters(self) -> InboxFilters:
        """The filters that parsed; the others are left out (their errors say so). Read several
        times a request (the list, the form, the links), made once: a bound form does not change."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        data = self.cleaned_data
        return InboxFilters(**{spec.name: data.get(spec.name, spec.default) for spec in FILTERS})

    @property
    def cursor(self) -> Cursor | None:
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get("after")

    @property
    def open_id(self) -> int | None:
        """The message to show in the reader pane (``open=<Id>``), if any."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get("open")

    @property
    def controls(self) -> tuple[str, ...]:
        """The filter controls the form draws, in order (their filters' names)."""
        return CONTROLS

    @property
    def controls_in_use(self) -> int:
        """How many of the controls are set (the dates count once, as one control): the folded
        filters' summary on a phone says so ("Filters · 2 in use"). The search box is outside."""
        filters = self.filters
        return sum(
            bool(filters.since or filters.until) if name == "since" else getattr(filters, name) != FILTERS_BY_NAME[name].default
            for name in CONTROLS
        )

    @property
    def filter_fields(self):
        """The bound fields that are filters (their errors are shown beside the filter form)."""
        return [field for field in self if field.name not in self.NOT_FILTERS]

    @property
    def search_note(self) -> str:
        """Said when a search was cut (too long, too many words) or has one-letter words."""
        q = self.cleaned_data.get("q", "") if hasattr(self, "cleaned_data") else ""
        if not q:
            return ""
        notes = []
        if self.q_was_cut:
            notes.append(f"Only the first {MAX_QUERY_LENGTH} characters are searched.")
        if has_too_many_terms(q):
            notes.append(f"Only the first {MAX_TERMS} words are searched.")
        if has_single_letters(q):
            notes.append("A single letter or digit is found only as a whole word.")
        return " ".join(notes)
