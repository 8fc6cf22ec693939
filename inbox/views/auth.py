"""Sign in and out, with Django's own views; the page a locked-out sign-in gets (django-axes)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.urls import path

from inbox.throttle import lockout_message


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


urlpatterns = [
    path(
        "login/",
        login_not_required(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
