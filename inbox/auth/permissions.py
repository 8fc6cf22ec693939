"""Who may see what: staff see the inbox; admins also see account health and the sync."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied


def is_helpdesk_admin(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name=settings.HELPDESK_ADMIN_GROUP).exists()


def admin_required(view):
    """Anonymous users are sent to sign in (by the middleware); other staff get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_helpdesk_admin(request.user):
            raise PermissionDenied("Only help-desk admins may open this page.")
        return view(request, *args, **kwargs)

    return wrapper
