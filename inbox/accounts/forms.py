"""The accounts page's query, validated like every other query or post."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms


class AccountsFilterForm(forms.Form):
    """``/accounts/?attention=1`` shows only the accounts needing attention; ``removed=1`` also
    lists the accounts removed from Nexudus."""

    attention = forms.BooleanField(required=False)
    removed = forms.BooleanField(required=False)

    @property
    def attention_only(self) -> bool:
        return bool(self.is_valid() and self.cleaned_data["attention"])

    @property
    def show_removed(self) -> bool:
        return bool(self.is_valid() and self.cleaned_data["removed"])

    @property
    def querystring(self) -> str:
        """The view's query ("attention=1&removed=1", or ""): the export link carries it."""
        return urlencode({name: 1 for name, on in (("attention", self.attention_only), ("removed", self.show_removed)) if on})
