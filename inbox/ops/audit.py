"""The audit trail of the admin pages: who pressed Sync now / Full resync, who unlocked a sign-in.

``admin_action_record`` writes an entry (the service), ``admin_action_list`` reads the latest (the
selector): the sync page lists them, Django admin shows them read-only (``inbox/admin.py``).
"""

from __future__ import annotations

import logging

from inbox.models import AdminAction

log = logging.getLogger(__name__)

RECENT_ADMIN_ACTIONS = 20


def admin_action_record(*, user, action: str, detail: str = "") -> AdminAction:
    """Record that ``user`` did ``action`` now (``AdminAction.Action``); ``detail`` says to what."""
    entry = AdminAction.objects.create(
        user=user if user.is_authenticated else None,
        username=user.get_username(),
        action=AdminAction.Action(action),
        detail=detail[: AdminAction._meta.get_field("detail").max_length],
    )
    log.info("Admin action: %s by %s: %s", entry.get_action_display(), entry.username, detail)
    return entry


def admin_action_list(*, limit: int = RECENT_ADMIN_ACTIONS) -> list[AdminAction]:
    """The newest admin actions first."""
    return list(AdminAction.objects.order_by("-created_at", "-id")[:limit])
