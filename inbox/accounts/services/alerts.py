"""E-mails to the admins when mail accounts turn failing, and when they recover.

One e-mail per accounts-sync run at most for each kind, naming every account concerned: an
outage that breaks ten accounts at once sends one message, not ten. Each incident is announced
once (``incidents.alerts_claim`` marks it before the send). The text is plain: account names
come from Nexudus and are never interpreted, and no token is ever part of an account row.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from inbox.accounts.rules import exact
from inbox.models import AccountIncident, Business

log = logging.getLogger(__name__)


def alert_recipients() -> list[str]:
    """``HELPDESK_ALERT_EMAILS``, else every active superuser and help-desk admin with an e-mail."""
    if settings.HELPDESK_ALERT_EMAILS:
        return list(dict.fromkeys(settings.HELPDESK_ALERT_EMAILS))
    users = get_user_model().objects.filter(
        Q(is_superuser=True) | Q(groups__name=settings.HELPDESK_ADMIN_GROUP), is_active=True
    ).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def send_failing_alert(*, incident_ids: list[int]) -> bool:
    incidents = _incidents(incident_ids)
    if not incidents:
        return True
    names = [_name(i.account) for i in incidents]
    subject = f"Mail account failing: {names[0]}" if len(names) == 1 else f"{len(names)} mail accounts failing: {_few(names)}"
    lines = ["Nexudus is not fetching mail properly for the account(s) below.", ""]
    for incident in incidents:
        lines += _describe(incident)
        since = exact(incident.opened_at, timezone.now())
        if incident.at_first_look:
            lines.append(f"  Failing since: at least {since} (already failing when the help desk first looked)")
        else:
            lines.append(f"  Failing since: {since}")
        lines += [f"  - {r.get('text', '')}" for r in incident.reasons]
        lines.append("")
    lines += _footer()
    return _send(subject, lines)


def send_recovery_alert(*, incident_ids: list[int], how: dict[int, str] | None = None) -> bool:
    incidents = _incidents(incident_ids)
    if not incidents:
        return True
    how = how or {}
    names = [_name(i.account) for i in incidents]
    subject = f"Mail account recovered: {names[0]}" if len(names) == 1 else f"{len(names)} mail accounts recovered: {_few(names)}"
    lines = ["These mail accounts are no longer failing.", ""]
    for incident in incidents:
        lines += _describe(incident)
        lines.append(f"  Failing from {exact(incident.opened_at, timezone.now())} to {exact(incident.closed_at, timezone.now())}")
        lines.append(f"  Now: {how.get(incident.pk, 'no longer failing')}")
        lines.append("")
    lines += _footer()
    return _send(subject, lines)


def _few(names: list[str], shown: int = 3) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def _incidents(ids: list[int]) -> list[AccountIncident]:
    return list(AccountIncident.objects.filter(pk__in=ids).select_related("account").order_by("opened_at", "pk"))


def _name(account) -> str:
    # A subject is one line: names from Nexudus must not smuggle in headers.
    return " ".join(str(account).split())[:80]


def _describe(incident: AccountIncident) -> list[str]:
    account = incident.account
    location = Business.objects.filter(pk=account.business_id).first() if account.business_id else None
    where = str(location) if location else (f"Location {account.business_id}" if account.business_id else "no location")
    address = account.email_address or "no address"
    return [f"{_name(account)} <{address}> (Nexudus account {account.pk}, {where})"]


def _footer() -> list[str]:
    return [f"See every account's health: {settings.HELPDESK_SITE_URL}{reverse('accounts-index')}"]


def _send(subject: str, lines: list[str]) -> bool:
    recipients = alert_recipients()
    if not recipients:
        log.warning("No one to alert (%s): set HELPDESK_ALERT_EMAILS or give an admin an e-mail", subject)
        return True
    try:
        send_mail(f"[Help desk] {subject}", "\n".join(lines), None, recipients)
    except Exception:  # SMTP, DNS, socket...: the next sync retries
        log.exception("Could not send the alert %r", subject)
        return False
    return True
