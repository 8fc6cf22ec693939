"""The accounts page's query, validated like every other query or post."""

from __future__ import annotations

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
