"""The bulk mark's form: what to mark, and the view it was pressed in."""

from __future__ import annotations

from django import forms

from inbox.mailbox.filters import InboxFilterForm, InboxFilters, id_or_error

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
        return sorted({id_or_error(str(v), "a message") for v in values})

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
