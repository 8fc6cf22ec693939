"""Unlocking a sign-in that django-axes locked out (see ``inbox.throttle``), with its audit entry."""

from __future__ import annotations

from axes.utils import reset
from django.db import transaction

from inbox.models import AdminAction
from inbox.services.admin_actions import admin_action_record


def lockout_release(*, by, ip_address: str, username: str | None = None) -> int:
    """Forget the failed sign-ins of ``username`` from ``ip_address`` (with no username: every
    username's from that address), so the next sign-in from there is let through at once; returns
    how many attempt records went. ``axes.utils.reset`` is axes' public reset, the one its
    ``axes_reset_ip_username`` command runs. https://django-axes.readthedocs.io/en/latest/3_usage.html
    """
    if not ip_address:
        raise ValueError("An address is needed: without one axes would reset every lock-out.")
    what = f"{username} from {ip_address}" if username else f"every username from {ip_address}"
    with transaction.atomic():
        removed = reset(ip=ip_address, username=username or None)
        admin_action_record(user=by, action=AdminAction.Action.UNLOCK, detail=f"Sign-ins of {what}")
    return removed
