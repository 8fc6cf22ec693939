"""Reads for the admin pages: the audit trail, and the sign-ins locked out now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from axes.models import AccessAttempt
from django.db.models import Max, Sum

from inbox.models import AdminAction
from inbox.throttle import cool_off, limit_for

RECENT_ADMIN_ACTIONS = 20


def admin_action_list(*, limit: int = RECENT_ADMIN_ACTIONS) -> list[AdminAction]:
    """The newest admin actions first."""
    return list(AdminAction.objects.order_by("-created_at", "-id")[:limit])


@dataclass(frozen=True)
class Lockout:
    """One lock-out: a username from an address, or (``username`` None) a whole address."""

    ip_address: str | None
    username: str | None
    failures: int
    last_failure: datetime
    until: datetime


def lockout_list(*, now: datetime) -> list[Lockout]:
    """Every lock-out in force at ``now``, the most recent first.

    Counts the failures axes would count (those within the cool-off, ``TieredDatabaseHandler``'s
    limits): per username and address, and per address.
    """
    recent = AccessAttempt.objects.filter(attempt_time__gte=now - cool_off())
    by_account = _over(recent, ["username", "ip_address"], limit_for(["username", "ip_address"]))
    by_address = _over(recent, ["ip_address"], limit_for("ip_address"))
    lockouts = [
        Lockout(
            ip_address=row["ip_address"],
            username=row.get("username"),
            failures=row["failures"],
            last_failure=row["last_failure"],
            until=row["last_failure"] + cool_off(),
        )
        for row in [*by_address, *by_account]
    ]
    return sorted(lockouts, key=lambda lockout: lockout.last_failure, reverse=True)


def _over(attempts, fields: list[str], limit: int) -> list[dict]:
    return list(
        attempts.values(*fields)
        .annotate(failures=Sum("failures_since_start"), last_failure=Max("attempt_time"))
        .filter(failures__gte=limit)
        .order_by()
    )
