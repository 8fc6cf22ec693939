"""Sign in and out, with Django's own views; the page a locked-out sign-in gets (django-axes);
``/lockouts/``, the sign-ins refused now, each with Unlock (admins)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from inbox.auth.lockouts import LockoutReleaseForm, lockout_list, lockout_release
from inbox.auth.permissions import admin_required
from inbox.auth.throttle import cool_off, lockout_message


def locked_out(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: the sign-in page the person used (this app's or Django admin's),
    status 429, saying why and for how long, with the username still filled in.
    https://django-axes.readthedocs.io/en/latest/5_customization.html#customizing-lockout-responses
    """
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    context = {"form": form, "lockout_message": lockout_message(), "next": request.POST.get(REDIRECT_FIELD_NAME, "")}
    match = request.resolver_match
    if match is not None and match.namespace == admin.site.name:
        context |= admin.site.each_context(request)
        context |= {"title": "Log in", "app_path": request.get_full_path(), "username": request.user.get_username()}
        return render(request, "admin/locked_out.html", context, status=429)
    return render(request, "registration/login.html", context, status=429)


@require_GET
@admin_required
def lockouts_index(request):
    context = {
        "lockouts": lockout_list(now=timezone.now()),
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
    path(
        "login/",
        login_not_required(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("lockouts/", lockouts_index, name="lockouts-index"),
    path("lockouts/unlock/", lockouts_unlock, name="lockouts-unlock"),
]
