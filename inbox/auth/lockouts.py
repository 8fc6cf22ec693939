"""The sign-ins django-axes refuses now (``inbox.auth.throttle``), and unlocking one, audited.

``lockout_list`` reads them (the selector), ``lockout_release`` forgets one's failures (the
service), ``LockoutReleaseForm`` is what an Unlock button posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from axes.models import AccessAttempt
from axes.utils import reset
from django import forms
from django.db import transaction
from django.db.models import Max, Sum

from inbox.auth.throttle import cool_off, limit_for
from inbox.models import AdminAction
from inbox.ops.audit import admin_action_record


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


class LockoutReleaseForm(forms.Form):
    """What an Unlock button posts: the address, and the username (none: the whole address)."""

    ip_address = forms.GenericIPAddressField()
    username = forms.CharField(required=False, max_length=255, strip=False)
