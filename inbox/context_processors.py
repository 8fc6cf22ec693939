"""Values every page's layout needs: who is an admin, and when the mirror was last refreshed."""

from __future__ import annotations

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
    return {"is_helpdesk_admin": is_helpdesk_admin(user), "last_synced_at": last}
