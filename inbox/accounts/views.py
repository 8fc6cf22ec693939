"""``/accounts/``: every mail account's health, worst first, for admins."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from inbox.accounts.forms import AccountsFilterForm
from inbox.accounts.overview import accounts_overview
from inbox.auth.permissions import admin_required
from inbox.fragments import is_fragment


@require_GET
@admin_required
def accounts_index(request):
    form = AccountsFilterForm(request.GET)
    overview = accounts_overview(
        now=timezone.now(), attention_only=form.attention_only, show_removed=form.show_removed, cached=True
    )
    template = "accounts/_list.html" if is_fragment(request) else "accounts/index.html"
    return render(request, template, {"overview": overview, "form": form})


urlpatterns = [
    path("accounts/", accounts_index, name="accounts-index"),
]
