"""Account-health bookkeeping after each accounts sync: snapshots, incidents and their alerts.

The accounts sync calls ``after_accounts_sync(run=...)`` once a successful run has stored its
records. In one transaction it

1. records a snapshot of every live account (its status and error count): one per account per
   run when something changed, else one an hour (``HEALTH_SNAPSHOT_EVERY_MINUTES``), which keeps
   the history exact for "failing since" and the error chart while 50 accounts synced every 5
   minutes stay at about 1,200 rows a day instead of 14,400;
2. opens an incident for every account that turned failing and closes the open incident of every
   account that is no longer failing (recovered, deactivated or removed from Nexudus); the
   ``one_open_incident`` constraint makes two overlapping runs agree on a single incident;
3. claims the alerts to send by marking them sent in the incident rows (a conditional UPDATE, so
   only one run can claim each), and sends them after commit; a send that fails is released so
   the next run tries again;
4. drops snapshots older than ``HEALTH_SNAPSHOT_DAYS``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from inbox.accounts import selectors
from inbox.accounts.rules import Health, Status
from inbox.accounts.services import alerts
from inbox.models import AccountIncident, AccountSnapshot, EmailAccount

log = logging.getLogger(__name__)

# A closed incident whose recovery alert could not be sent is retried for this long.
RECOVERY_RETRY_WINDOW = timedelta(days=1)


def after_accounts_sync(*, run=None, now: datetime | None = None) -> None:
    """Record every account's health after an accounts sync; open or close incidents; alert."""
    now = now or timezone.now()
    assessed = selectors.assess_all(now=now, include_removed=True)
    live = [(a, h) for a, h, _ in assessed if a.deleted_at is None]
    failing = {a.pk: (a, h) for a, h in live if h.status == Status.FAILING}
    with transaction.atomic():
        snapshots_record(assessed=live, now=now)
        incidents_open(failing=failing, now=now)
        closed_how = incidents_close(assessed=assessed, failing=failing, now=now)
        opened_ids, closed_ids = alerts_claim(now=now)
        snapshots_prune(now=now)
        transaction.on_commit(lambda: _after_commit(opened_ids, closed_ids, closed_how))
    # Said only when something changed: the sync's own line already reports every run.
    log.log(
        logging.INFO if opened_ids or closed_ids else logging.DEBUG,
        "Account health after sync %s: %d accounts, %d failing, %d incident(s) to announce",
        getattr(run, "pk", None), len(live), len(failing), len(opened_ids) + len(closed_ids),
    )


def snapshots_record(*, assessed: list[tuple[EmailAccount, Health]], now: datetime) -> int:
    every = timedelta(minutes=settings.HEALTH_SNAPSHOT_EVERY_MINUTES)
    latest = {}
    for account_id, *state in (
        AccountSnapshot.objects.filter(taken_at__gt=now - every)
        .order_by("taken_at")
        .values_list("account_id", "status", "error_count", "active")
    ):
        latest[account_id] = tuple(state)
    snapshots = [
        AccountSnapshot(
            account_id=account.pk,
            taken_at=now,
            active=account.active,
            error_count=account.error_count,
            last_check_time=account.last_check_time,
            status=health.status.value,
        )
        for account, health in assessed
        if latest.get(account.pk) != (health.status.value, account.error_count, account.active)
    ]
    AccountSnapshot.objects.bulk_create(snapshots, batch_size=500)
    return len(snapshots)


def snapshots_prune(*, now: datetime) -> int:
    cutoff = now - timedelta(days=settings.HEALTH_SNAPSHOT_DAYS)
    deleted, _ = AccountSnapshot.objects.filter(taken_at__lt=cutoff).delete()
    return deleted


def incidents_open(*, failing: dict[int, tuple[EmailAccount, Health]], now: datetime) -> None:
    open_incidents = {
        i.account_id: i
        for i in AccountIncident.objects.select_for_update().filter(
            closed_at__isnull=True, account_id__in=list(failing)
        )
    }
    # Accounts the help desk had looked at before this run (its snapshots are recorded first):
    # an account failing at its first look has been failing since some time nobody here knows.
    seen_before = set(
        AccountSnapshot.objects.filter(account_id__in=[a for a in failing if a not in open_incidents], taken_at__lt=now)
        .values_list("account_id", flat=True)
        .distinct()
    )
    for account_id, (account, health) in failing.items():
        reasons = reasons_json(health)
        incident = open_incidents.get(account_id)
        if incident is None:
            try:
                with transaction.atomic():  # a savepoint: another run may have opened it just now
                    AccountIncident.objects.create(
                        account_id=account_id, opened_at=now, reasons=reasons, at_first_look=account_id not in seen_before
                    )
            except IntegrityError:
                pass
        elif incident.reasons != reasons:
            AccountIncident.objects.filter(pk=incident.pk).update(reasons=reasons)


def incidents_close(*, assessed, failing, now: datetime) -> dict[int, str]:
    """Close the open incident of every account no longer failing; say how it ended."""
    by_id = {a.pk: (a, h) for a, h, _ in assessed}
    how: dict[int, str] = {}
    for incident in AccountIncident.objects.filter(closed_at__isnull=True).exclude(account_id__in=list(failing)):
        if AccountIncident.objects.filter(pk=incident.pk, closed_at__isnull=True).update(closed_at=now):
            account, health = by_id.get(incident.account_id, (None, None))
            how[incident.pk] = recovery_text(account, health)
    return how


def alerts_claim(*, now: datetime) -> tuple[list[int], list[int]]:
    """Mark the alerts this run will send; a conditional UPDATE lets only one run claim each."""
    opened, closed = [], []
    for pk in AccountIncident.objects.filter(closed_at__isnull=True, opened_alert_sent_at__isnull=True).values_list(
        "pk", flat=True
    ):
        if AccountIncident.objects.filter(pk=pk, opened_alert_sent_at__isnull=True).update(opened_alert_sent_at=now):
            opened.append(pk)
    pending_recoveries = AccountIncident.objects.filter(
        closed_at__gte=now - RECOVERY_RETRY_WINDOW, opened_alert_sent_at__isnull=False, closed_alert_sent_at__isnull=True
    ).values_list("pk", flat=True)
    for pk in pending_recoveries:
        if AccountIncident.objects.filter(pk=pk, closed_alert_sent_at__isnull=True).update(closed_alert_sent_at=now):
            closed.append(pk)
    return opened, closed


def reasons_json(health: Health) -> list[dict]:
    return [{"code": r.code, "text": r.text, "severity": r.severity.label} for r in health.reasons]


def recovery_text(account: EmailAccount | None, health: Health | None) -> str:
    if account is None:
        return "the account is no longer in the mirror"
    if account.deleted_at is not None:
        return "the account was removed from Nexudus"
    if health.status == Status.INACTIVE:
        return "the account was deactivated in Nexudus"
    if health.status == Status.WARNING:
        return "it is no longer failing, but still needs attention: " + health.summary
    return "it is healthy again"


def _after_commit(opened_ids: list[int], closed_ids: list[int], closed_how: dict[int, str]) -> None:
    selectors.forget_cached()
    if opened_ids and not alerts.send_failing_alert(incident_ids=opened_ids):
        AccountIncident.objects.filter(pk__in=opened_ids).update(opened_alert_sent_at=None)
    if closed_ids and not alerts.send_recovery_alert(incident_ids=closed_ids, how=closed_how):
        AccountIncident.objects.filter(pk__in=closed_ids).update(closed_alert_sent_at=None)
