"""``/lockouts/``: the sign-ins django-axes refuses now (``inbox.throttle``), each with Unlock."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from inbox import admin_selectors
from inbox.admin_forms import LockoutReleaseForm
from inbox.permissions import admin_required
from inbox.services.lockouts import lockout_release
from inbox.throttle import cool_off


@require_GET
@admin_required
def lockouts_index(request):
    context = {
        "lockouts": admin_selectors.lockout_list(now=timezone.now()),
        "account_limit": settings.AXES_FAILURE_LIMIT,
        "address_limit": settings.LOGIN_ADDRESS_FAILURE_LIMIT,
        "cool_off_minutes": round(cool_off().total_seconds() / 60),
    }
    return render(request, "auth/lockouts.html", context)


@require_POST
@admin_required
def lockouts_unlock(request):
    form = LockoutReleaseForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(" ".join(m for errors in form.errors.values() for m in errors))
    username, ip_address = form.cleaned_data["username"], form.cleaned_data["ip_address"]
    lockout_release(by=request.user, ip_address=ip_address, username=username)
    who = f"{username} from {ip_address}" if username else f"every username from {ip_address}"
    messages.success(request, f"Unlocked sign-ins of {who}: the next sign-in is let through.")
    return redirect("lockouts-index")


urlpatterns = [
    path("lockouts/", lockouts_index, name="lockouts-index"),
    path("lockouts/unlock/", lockouts_unlock, name="lockouts-unlock"),
]
