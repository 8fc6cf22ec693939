"""The accounts page's rows: each account with its health, volumes, incident and charts, grouped by
location and worst first. The accounts export writes the same rows.

The data come from ``inbox.accounts.selectors`` (a constant number of queries, however many
accounts and messages there are); here they are put together, and each row offers what the page
shows of it (the charts' numbers, "5 minutes ago").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

from inbox.accounts.charts import ErrorChart, VolumeChart, error_chart, volume_chart
from inbox.accounts.rules import Health, Status, ago
from inbox.accounts.selectors import (
    AccountStats,
    DayVolume,
    assess_all,
    daily_volumes,
    error_histories,
    location_name,
    location_names,
    volume_days,
)
from inbox.models import AccountIncident, CoworkerMessage, EmailAccount, SyncRun


@dataclass(slots=True)
class AccountRow:
    account: EmailAccount
    health: Health
    stats: AccountStats
    location: str
    incident: AccountIncident | None = None
    error_history: list[tuple[datetime, int]] = field(default_factory=list)
    now: datetime | None = None

    @property
    def volume_chart(self) -> VolumeChart:
        return volume_chart(self.stats.daily)

    @property
    def error_chart(self) -> ErrorChart | None:
        return error_chart(self.error_history, now=self.now or timezone.now())

    def _ago(self, value: datetime | None) -> str:
        return f"{ago(self.now - value)} ago" if value and self.now else ""

    @property
    def last_check_ago(self) -> str:
        return self._ago(self.account.last_check_time)

    @property
    def last_received_ago(self) -> str:
        return self._ago(self.stats.last_received_at)

    @property
    def never_checked_for(self) -> str:
        """How long since the account was added in Nexudus, when Nexudus never checked it ("" else):
        said instead of an incident's start, which is only when the mirror first saw it failing."""
        added = getattr(self.account, "created_on", None)
        if self.account.last_check_time is not None or added is None or not self.now:
            return ""
        return ago(self.now - added)

    @property
    def headline_never_checked(self) -> bool:
        """The failing account's headline says it was never checked since it was added (the page)."""
        return bool(self.incident and self.never_checked_for)

    @property
    def listed_reasons(self) -> list:
        """The reasons listed under the headline: all but the one it already says in its words."""
        if self.headline_never_checked:
            return [r for r in self.health.reasons if r.code != "never_checked"]
        return self.health.reasons

    @property
    def failing_for(self) -> str:
        return ago(self.now - self.incident.opened_at) if self.incident and self.now else ""

    @property
    def connections(self) -> list[str]:
        """Only whether a token is set ever reaches the page, never the token."""
        labels = []
        if self.account.has_google_token:
            labels.append("Google connected")
        if self.account.has_office365_token:
            labels.append("Office 365 connected")
        return labels

    @property
    def removed(self) -> bool:
        return self.account.deleted_at is not None

    @property
    def sort_key(self) -> tuple:
        account = self.account
        return (self.removed, *self.health.sort_key, -(account.error_count or 0), str(account).lower(), account.pk)


@dataclass(slots=True)
class LocationGroup:
    name: str
    rows: list[AccountRow]


@dataclass(slots=True)
class Overview:
    groups: list[LocationGroup]
    counts: dict[str, int]  # per status, over every live account (not only the shown ones)
    attention: int
    removed: int
    last_accounts_sync: SyncRun | None
    now: datetime
    days: list[date]
    accounts_failure: SyncRun | None = None  # the latest accounts run, when it failed after the last success

    @property
    def shown(self) -> int:
        return sum(len(g.rows) for g in self.groups)

    @property
    def data_stale(self) -> bool:
        """The last accounts sync is older than ``/healthz`` allows: each account's "last checked"
        is judged against now from data that stopped coming, so healthy accounts drift to warning
        and failing while Nexudus may well be checking them (the page says so)."""
        last = self.last_accounts_sync.finished_at if self.last_accounts_sync else None
        return last is not None and (self.now - last).total_seconds() > settings.HEALTHZ_MAX_ACCOUNTS_SYNC_AGE


def accounts_overview(
    *, now: datetime, attention_only: bool = False, show_removed: bool = False, cached: bool = False
) -> Overview:
    """The accounts page's rows, grouped and worst first. ``cached``: the 30-day volumes may come
    from the cache (up to a minute old); the health itself is always computed now."""
    assessed = assess_all(now=now, include_removed=True)
    days = volume_days(now)
    volumes = daily_volumes(now=now, cached=cached)
    last_ids = [a.last_received_id for a, _, _ in assessed if a.last_received_id]
    last_messages = CoworkerMessage.objects.only(
        "id", "subject", "created_on", "coworker_id", "coworker_full_name", "coworker_email"
    ).in_bulk(last_ids)
    ids = [a.pk for a, _, _ in assessed]
    incidents = {i.account_id: i for i in AccountIncident.objects.filter(account_id__in=ids, closed_at__isnull=True)}
    histories = error_histories(account_ids=ids, now=now)
    names = location_names()

    rows, counts, removed = [], {s.value: 0 for s in Status}, 0
    for account, health, stats in assessed:
        if account.deleted_at is not None:
            removed += 1
            if not show_removed:
                continue
        else:
            counts[health.status.value] += 1
        per_day = volumes.get(account.pk, {})
        stats.daily = [DayVolume(d, *per_day.get(d, (0, 0))) for d in days]
        stats.last_received = last_messages.get(account.last_received_id)
        if attention_only and not (health.needs_attention and account.deleted_at is None):
            continue
        rows.append(
            AccountRow(
                account=account,
                health=health,
                stats=stats,
                location=location_name(account.business_id, names),
                incident=incidents.get(account.pk),
                error_history=histories.get(account.pk, []),
                now=now,
            )
        )
    return Overview(
        groups=_group(rows),
        counts=counts,
        attention=counts[Status.FAILING] + counts[Status.WARNING],
        removed=removed,
        last_accounts_sync=(last := SyncRun.objects.last_success(SyncRun.Resource.ACCOUNTS)),
        now=now,
        days=days,
        accounts_failure=_failure_since(last),
    )


def _failure_since(last: SyncRun | None) -> SyncRun | None:
    """The latest finished accounts run if it failed after ``last`` (the last success): the page
    says so at once, not only once the data is older than ``/healthz`` allows."""
    latest = (
        SyncRun.objects.filter(resource=SyncRun.Resource.ACCOUNTS, finished_at__isnull=False)
        .order_by("-finished_at", "-id")
        .first()
    )
    if latest is None or latest.status != SyncRun.Status.FAILED:
        return None
    if last is not None and latest.finished_at < last.finished_at:
        return None
    return latest


def _group(rows: list[AccountRow]) -> list[LocationGroup]:
    by_location: dict[str, list[AccountRow]] = defaultdict(list)
    for row in rows:
        by_location[row.location].append(row)
    groups = [LocationGroup(name, sorted(rs, key=lambda r: r.sort_key)) for name, rs in by_location.items()]
    # The location holding the worst account comes first; then by name.
    groups.sort(key=lambda g: (g.rows[0].sort_key[:4], g.name.lower()))
    return groups
