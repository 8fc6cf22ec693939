"""Sign-in throttling: the project's hooks into django-axes, and its log lines.

Axes counts failed sign-ins in the database and refuses sign-ins past a limit; the settings
(``helpdesk/settings.py``, "Sign-in throttling") choose what it counts by: a username from one
address, and an address whatever the username. Axes compares every count with one limit
(``AXES_FAILURE_LIMIT``); ``TieredDatabaseHandler`` gives the address its own, higher one, so a
shared office address is not locked by a few people's typos while one address trying many
usernames still is. https://django-axes.readthedocs.io/en/latest/5_customization.html
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

log = logging.getLogger(__name__)


def client_ip(request) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: the address of whoever signs in.

    ``REMOTE_ADDR`` unless ``LOGIN_CLIENT_IP_HEADER`` names a header set by a reverse proxy; of a
    list, the ``LOGIN_PROXY_COUNT``-th address from the right (the one the outermost trusted proxy
    saw). A missing or malformed header falls back to ``REMOTE_ADDR`` rather than to a value the
    client chose.
    """
    remote_addr = request.META.get("REMOTE_ADDR") or None
    key = _meta_key(settings.LOGIN_CLIENT_IP_HEADER)
    if key == "REMOTE_ADDR":
        return remote_addr
    addresses = [part.strip() for part in request.META.get(key, "").split(",")]
    if len(addresses) < settings.LOGIN_PROXY_COUNT:
        return remote_addr
    candidate = addresses[-settings.LOGIN_PROXY_COUNT]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr


def _meta_key(header: str) -> str:
    """``X-Forwarded-For`` or ``HTTP_X_FORWARDED_FOR`` → ``HTTP_X_FORWARDED_FOR``."""
    key = header.strip().upper().replace("-", "_")
    if key == "REMOTE_ADDR" or key.startswith("HTTP_"):
        return key
    return f"HTTP_{key}"


def limit_for(parameter: str | list[str]) -> int:
    """The failures that lock one lockout parameter (see ``AXES_LOCKOUT_PARAMETERS``)."""
    if parameter == "ip_address":
        return settings.LOGIN_ADDRESS_FAILURE_LIMIT
    return settings.AXES_FAILURE_LIMIT


def cool_off() -> timedelta:
    return get_cool_off()


class TieredDatabaseHandler(AxesDatabaseHandler):
    """Axes' database handler, with a limit per lockout parameter.

    Axes locks when ``get_failures() >= AXES_FAILURE_LIMIT``; here each parameter's count is
    scaled to that limit (``count * AXES_FAILURE_LIMIT // its own limit``), which reaches it exactly
    when the count reaches the parameter's own limit. https://django-axes.readthedocs.io/en/latest/7_architecture.html
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        limit = get_failure_limit(request, credentials)
        parameters = get_lockout_parameters(request, credentials)
        worst = 0
        for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials), strict=True):
            count = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            worst = max(worst, count * limit // limit_for(parameter))
        return worst

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """On a successful sign-in (``AXES_RESET_ON_SUCCESS``), forget that username's failures
        from that address only: axes would also forget the address's failures for every other
        username, so one known password would let an address guess the others without end."""
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()
        return count


def lockout_message() -> str:
    minutes = max(1, round(cool_off().total_seconds() / 60))
    count, unit = (minutes // 60, "hour") if minutes % 60 == 0 else (minutes, "minute")
    wait = f"{count} {unit}{'' if count == 1 else 's'}"
    return f"Too many failed sign-ins for this account; try again in {wait} or ask an admin to unlock it."


# --- Log lines (connected in ``InboxConfig.ready``): who, from where, at which page; no password ---


def log_sign_in(sender, request, user, **kwargs) -> None:
    where = (client_ip(request), request.path) if request is not None else (None, None)
    log.info("Signed in: %s from %s at %s", user.get_username(), *where)


def log_lockout(sender, request, username, ip_address, **kwargs) -> None:
    log.warning(
        "Sign-in refused, locked out: username %r from %s at %s (limits: %d failures per username and "
        "address, %d per address, cool-off %s)",
        username, ip_address, request.path, settings.AXES_FAILURE_LIMIT,
        settings.LOGIN_ADDRESS_FAILURE_LIMIT, cool_off(),
    )
