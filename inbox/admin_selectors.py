"""Reads for the admin pages: the audit trail."""

from __future__ import annotations

from inbox.models import AdminAction

RECENT_ADMIN_ACTIONS = 20


def admin_action_list(*, limit: int = RECENT_ADMIN_ACTIONS) -> list[AdminAction]:
    """The newest admin actions first."""
    return list(AdminAction.objects.order_by("-created_at", "-id")[:limit])
