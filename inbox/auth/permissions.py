"""Who may see what: staff see the inbox; admins also see account health and the sync."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef

ADMIN_ANNOTATION = "helpdesk_admin"  # set by inbox.auth.backends.HelpdeskBackend on request.user


def admin_annotation() -> Exists:
    """Whether the user (the outer query's row) is in the help-desk admin group, as an annotation."""
    memberships = get_user_model().groups.through.objects.filter(
        user_id=OuterRef("pk"), group__name=settings.HELPDESK_ADMIN_GROUP
    )
    return Exists(memberships)


def is_helpdesk_admin(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    known = getattr(user, ADMIN_ANNOTATION, None)  # read with the user, this request
    if known is not None:
        return bool(known)  # SQLite's EXISTS is 0 or 1
    return user.groups.filter(name=settings.HELPDESK_ADMIN_GROUP).exists()


def admin_required(view):
    """Anonymous users are sent to sign in (by the middleware); other staff get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_helpdesk_admin(request.user):
            raise PermissionDenied("Only help-desk admins may open this page.")
        return view(request, *args, **kwargs)

    return wrapper
