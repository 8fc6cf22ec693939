"""Values every page's layout needs: who is an admin, when the mirror was last refreshed, and
(for admins) how many mail accounts need attention, for the badge in the navigation."""

from __future__ import annotations

from functools import cache

from inbox.models import SyncRun
from inbox.permissions import is_helpdesk_admin


def helpdesk(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    last = (
        SyncRun.objects.filter(resource=SyncRun.Resource.MESSAGES, status=SyncRun.Status.SUCCESS)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    admin = is_helpdesk_admin(user)
    context = {"is_helpdesk_admin": admin, "last_synced_at": last}
    if admin:
        # A callable: the template calls it only where the badge is drawn (not for fragments),
        # and the count itself is cached for a minute (inbox.health_selectors).
        context["accounts_attention_count"] = cache(_attention_count)
    return context


def _attention_count() -> int:
    from inbox.health_selectors import cached_attention_count

    return cached_attention_count()
