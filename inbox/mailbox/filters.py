"""The inbox's query parameters (the public contract, DESIGN.md), parsed from allow-lists.

A value that does not parse is reported beside its filter ("... — ignored") and the view is
computed without that filter: never a 500, never a silently wrong result.
"""

from __future__ import annotations

import datetime as dt

from django import forms

from inbox.mailbox.search import MAX_TERMS, has_too_many_terms, is_prefix, search_terms
from inbox.mailbox.selectors import FILTER_DATE_MAX, FILTER_DATE_MIN, NO_ACCOUNT, Cursor, InboxFilters

MAX_ID = 2**63 - 1  # ids are 64-bit: a larger number would overflow the database parameter
MAX_QUERY_LENGTH = 200
TRUE_VALUES = {"1", "true", "on", "yes"}
FALSE_VALUES = {"", "0", "false", "off", "no"}
DATE_FORMAT = "%Y-%m-%d"


def _id_or_error(value: str, what: str) -> int:
    value = value.strip()
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise forms.ValidationError(f"“{value[:40]}” is not {what} — ignored.", code="invalid")
    return int(value)


class InboxFilterForm(forms.Form):
    """Bind to ``request.GET``. ``.filters``: the valid filters; ``.errors``: which were ignored."""

    unread = forms.CharField(required=False)
    direction = forms.CharField(required=False)
    account = forms.CharField(required=False)
    customer = forms.CharField(required=False)
    q = forms.CharField(required=False, strip=True)
    since = forms.CharField(required=False)
    until = forms.CharField(required=False)
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

    def clean_unread(self) -> bool:
        value = self.cleaned_data["unread"].strip().lower()
        if value in TRUE_VALUES:
            return True
        if value in FALSE_VALUES:
            return False
        raise forms.ValidationError("“Unread” takes 1 or nothing — ignored.", code="invalid")

    def clean_direction(self) -> str | None:
        value = self.cleaned_data["direction"].strip().lower()
        if value in {"", "all", "both"}:
            return None
        if value in {"incoming", "outgoing"}:
            return value
        raise forms.ValidationError(
            f"“{value[:40]}” is not a direction (received = incoming, sent = outgoing) — ignored.",
            code="invalid",
        )

    def clean_account(self) -> int | str | None:
        value = self.cleaned_data["account"].strip()
        if value == "":
            return None
        if value.lower() == NO_ACCOUNT:
            return NO_ACCOUNT
        return _id_or_error(value, "a mail account")

    def clean_customer(self) -> int | None:
        value = self.cleaned_data["customer"].strip()
        return None if value == "" else _id_or_error(value, "a customer number")

    def clean_q(self) -> str:
        value = self.cleaned_data["q"]
        if not value:
            return ""
        if not search_terms(value):
            raise forms.ValidationError("Search needs a word (letters or digits) — ignored.", code="no_terms")
        return value

    def _clean_date(self, name: str, label: str) -> dt.date | None:
        value = self.cleaned_data[name].strip()
        if value == "":
            return None
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

    def clean_since(self) -> dt.date | None:
        return self._clean_date("since", "from")

    def clean_until(self) -> dt.date | None:
        return self._clean_date("until", "to")

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
            return _id_or_error(value, "a message")
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
            self.add_error(
                "until", "“To” is before “from” — the date range is ignored."
            )
        return data

    # --- What the view uses ---------------------------------------------------------------

    @property
    def filters(self) -> InboxFilters:
        """The filters that parsed; the others are left out (their errors say so)."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        data = self.cleaned_data
        return InboxFilters(
            unread=data.get("unread") or False,
            direction=data.get("direction"),
            account=data.get("account"),
            customer=data.get("customer"),
            q=data.get("q") or "",
            since=data.get("since"),
            until=data.get("until"),
        )

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
        if any(not is_prefix(term) for term in search_terms(q)):
            notes.append("Single letters are found only as whole words.")
        return " ".join(notes)


MAX_SELECTED = 1000


class MarkForm(forms.Form):
    """A bulk mark: ``action`` read/unread, the selected ``ids`` (for "mark selected"), and the
    view's own filters (hidden fields) so "all matching" marks exactly the view and the person
    goes back to it afterwards."""

    action = forms.ChoiceField(choices=[("read", "read"), ("unread", "unread")])
    ids = forms.CharField(required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.view_form = InboxFilterForm(data)

    def clean_ids(self) -> list[int]:
        values = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        if len(values) > MAX_SELECTED:
            raise forms.ValidationError(f"Select at most {MAX_SELECTED} messages at a time.")
        return sorted({_id_or_error(str(v), "a message") for v in values})

    @property
    def is_read(self) -> bool:
        return self.cleaned_data["action"] == "read"

    @property
    def view_filters(self) -> InboxFilters:
        return self.view_form.filters

    @property
    def view_querystring(self) -> str:
        return self.view_filters.querystring()

    @property
    def error_text(self) -> str:
        errors = [e for field_errors in self.errors.values() for e in field_errors]
        return "Nothing was marked: " + " ".join(errors) if errors else ""

    def done_text(self, count: int) -> str:
        state = "read" if self.is_read else "unread"
        return f"Marked {count:,} message{'' if count == 1 else 's'} {state}."
