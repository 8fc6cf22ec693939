"""Input of the sync page, validated like every other query or post."""

from __future__ import annotations

from django import forms

from inbox.models import SyncRun


class SyncStartForm(forms.Form):
    """What the Sync now / Full resync buttons post (the accounts are always synced whole)."""

    resource = forms.ChoiceField(choices=SyncRun.Resource.choices)
    mode = forms.ChoiceField(choices=SyncRun.Mode.choices, required=False)

    def clean(self):
        data = super().clean()
        data["mode"] = data.get("mode") or SyncRun.Mode.INCREMENTAL
        return data

