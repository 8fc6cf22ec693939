"""The accounts page's query, validated like every other query or post."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms

from inbox.mailbox.filters import FALSE_VALUES, TRUE_VALUES


class SwitchField(forms.Field):
    """A yes/no parameter, read as the inbox reads ``unread=1``: 1 or 0 (or their spellings). Anything else is
    refused in words (and the switch left off), not read as "on" as Django's BooleanField would."""

    def __init__(self, *, label: str):
        super().__init__(required=False, label=label)

    def to_python(self, value) -> bool:
        value = (value or "").strip().lower()
        if value in TRUE_VALUES:
            return True
        if value in FALSE_VALUES:
            return False
        raise forms.ValidationError(f"“{self.label}” takes 1 (on) or 0 (off) — ignored.", code="invalid")


class AccountsFilterForm(forms.Form):
    """``/accounts/?attention=1`` shows only the accounts needing attention; ``removed=1`` also
    lists the accounts removed from Nexudus. A refused value leaves only its own switch off."""

    attention = SwitchField(label="Needing attention")
    removed = SwitchField(label="Removed from Nexudus")

    def _on(self, name: str) -> bool:
        self.is_valid()
        return bool(self.cleaned_data.get(name, False))

    @property
    def attention_only(self) -> bool:
        return self._on("attention")

    @property
    def show_removed(self) -> bool:
        return self._on("removed")

    @property
    def querystring(self) -> str:
        """The view's query ("attention=1&removed=1", or ""): the export link carries it."""
        return urlencode({name: 1 for name, on in (("attention", self.attention_only), ("removed", self.show_removed)) if on})
