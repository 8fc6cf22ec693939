"""Reads for the mail-account health page: accounts with their health, volumes and history.

Everything the page shows comes from a constant number of queries, however many accounts and
messages there are: the accounts (with their newest incoming message as a correlated subquery,
which the ``(email_account, created_on)`` index answers), one grouped count of the last 30 days'
messages per account and day, the last messages' details, the locations, the open incidents and
the recent snapshots.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.utils import timezone

from inbox import clock
from inbox.accounts.charts import ErrorChart, VolumeChart, error_chart, volume_chart
from inbox.accounts.rules import Health, Status, Thresholds, ago, assess
from inbox.models import AccountIncident, AccountSnapshot, Business, CoworkerMessage, EmailAccount, SyncRun
from inbox.platform import cache as platform_cache
from inbox.platform import sql as platform_sql

log = logging.getLogger(__name__)

VOLUME_DAYS = 30
HISTORY_DAYS = 7

ATTENTION_CACHE_KEY = "health:attention-count"
ATTENTION_CACHE_SECONDS = 60
VOLUME_CACHE_KEY = "health:volumes"
VOLUME_CACHE_SECONDS = 60


@dataclass(frozen=True, slots=True)
class DayVolume:
    day: date
    received: int
    sent: int


@dataclass(slots=True)
class AccountStats:
    daily: list[DayVolume]
    last_received_at: datetime | None = None
    last_received: CoworkerMessage | None = None
    received_before_silence: int | None = None  # counted only for accounts silent long enough

    def _total(self, days: int, attr: str) -> int:
        return sum(getattr(d, attr) for d in self.daily[-days:])

    @property
    def received_7(self) -> int:
        return self._total(7, "received")

    @property
    def sent_7(self) -> int:
        return self._total(7, "sent")

    @property
    def received_30(self) -> int:
        return self._total(VOLUME_DAYS, "received")

    @property
    def sent_30(self) -> int:
        return self._total(VOLUME_DAYS, "sent")


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

    @property
    def shown(self) -> int:
        return sum(len(g.rows) for g in self.groups)


def accounts_with_last_received():
    """Accounts annotated with their newest live incoming message (id and time)."""
    newest = CoworkerMessage.objects.live().filter(email_account=OuterRef("pk"), incoming=True).order_by(
        "-created_on", "-id"
    )
    return EmailAccount.objects.annotate(
        last_received_at=Subquery(newest.values("created_on")[:1]),
        last_received_id=Subquery(newest.values("id")[:1]),
    )


def volume_days(now: datetime, days: int = VOLUME_DAYS) -> list[date]:
    today = clock.today(now)
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def daily_volumes(
    *, now: datetime, days: int = VOLUME_DAYS, cached: bool = False
) -> dict[int, dict[date, tuple[int, int]]]:
    """{account id: {day: (received, sent)}} over the last ``days`` days, in one grouped query.

    ``cached``: keep it a minute in the cache (the page does; an export does not): the query reads
    every message of the window, about 1 s per million on SQLite with a covering index."""
    if not cached:
        return _daily_volumes(now=now, days=days)
    key, today = f"{VOLUME_CACHE_KEY}:{days}", clock.today(now)
    hit = platform_cache.get(key)
    if hit is not None and hit[0] == today:
        return hit[1]
    volumes = _daily_volumes(now=now, days=days)
    platform_cache.set(key, (today, volumes), VOLUME_CACHE_SECONDS)
    return volumes


def _daily_volumes(*, now: datetime, days: int) -> dict[int, dict[date, tuple[int, int]]]:
    tz = clock.zone()
    start = clock.day_start(volume_days(now, days)[0])
    rows = (
        CoworkerMessage.objects.live()
        .filter(email_account__isnull=False, created_on__gte=start)
        .annotate(day=platform_sql.day_of("created_on", tz, connection))
        .values("email_account_id", "day")
        .annotate(received=Count("id", filter=Q(incoming=True)), sent=Count("id", filter=Q(incoming=False)))
        .order_by()
    )
    volumes: dict[int, dict[date, tuple[int, int]]] = defaultdict(dict)
    for row in rows:
        day = row["day"] if isinstance(row["day"], date) else date.fromisoformat(row["day"])
        volumes[row["email_account_id"]][day] = (row["received"], row["sent"])
    return dict(volumes)


def error_histories(*, account_ids, now: datetime) -> dict[int, list[tuple[datetime, int]]]:
    since = now - timedelta(days=HISTORY_DAYS)
    rows = (
        AccountSnapshot.objects.filter(account_id__in=account_ids, taken_at__gte=since)
        .order_by("account_id", "taken_at")
        .values_list("account_id", "taken_at", "error_count")
    )
    history: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for account_id, taken_at, errors in rows:
        history[account_id].append((taken_at, errors or 0))
    return history


def location_names() -> dict[int, str]:
    return {b.pk: str(b) for b in Business.objects.all()}


def location_name(business_id: int | None, names: dict[int, str]) -> str:
    if business_id is None:
        return "No location"
    return names.get(business_id) or f"Location {business_id}"


def assess_all(*, now: datetime, include_removed: bool = False) -> list[tuple[EmailAccount, Health, AccountStats]]:
    """Every account with its health; the stats carry what the rules need (not the volumes)."""
    accounts = accounts_with_last_received()
    if not include_removed:
        accounts = accounts.live()
    accounts = list(accounts)
    thresholds = Thresholds.from_settings()
    before = received_before_silence(accounts, now=now, thresholds=thresholds)
    result = []
    for account in accounts:
        stats = AccountStats(
            daily=[],
            last_received_at=account.last_received_at,
            received_before_silence=before.get(account.pk),
        )
        result.append((account, assess(account, now=now, stats=stats, thresholds=thresholds), stats))
    return result


def received_before_silence(accounts, *, now: datetime, thresholds: Thresholds) -> dict[int, int]:
    """For each active account silent longer than the threshold: its incoming messages in the
    window up to its last one. One query, none when no account is silent: a correlated count per
    account, which both databases answer from the (email_account, created_on) index (70 ms for
    50 accounts at a million rows on PostgreSQL; a UNION of per-account counts took 360 ms there,
    and an OR of the ranges made SQLite scan the whole index, 5 s)."""
    silent = [
        a.pk for a in accounts
        if a.last_received_at is not None and now - a.last_received_at > thresholds.silent and a.active is not False
    ]
    if not silent:
        return {}
    last = OuterRef("last_received_at")
    window = CoworkerMessage.objects.live().filter(
        email_account=OuterRef("pk"), incoming=True,
        created_on__lte=last, created_on__gt=last - thresholds.silent_window,
    ).order_by().values("email_account").annotate(n=Count("id")).values("n")[:1]
    rows = (
        accounts_with_last_received()
        .filter(pk__in=silent)
        .annotate(received_before=Subquery(window, output_field=IntegerField()))
        .values_list("pk", "received_before")
    )
    return {pk: n or 0 for pk, n in rows}


def attention_count(*, now: datetime) -> int:
    return sum(1 for _, health, _ in assess_all(now=now) if health.needs_attention)


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
        last_accounts_sync=SyncRun.objects.last_success(SyncRun.Resource.ACCOUNTS),
        now=now,
        days=days,
    )


def _group(rows: list[AccountRow]) -> list[LocationGroup]:
    by_location: dict[str, list[AccountRow]] = defaultdict(list)
    for row in rows:
        by_location[row.location].append(row)
    groups = [LocationGroup(name, sorted(rs, key=lambda r: r.sort_key)) for name, rs in by_location.items()]
    # The location holding the worst account comes first; then by name.
    groups.sort(key=lambda g: (g.rows[0].sort_key[:4], g.name.lower()))
    return groups


def cached_attention_count() -> int:
    """How many live accounts need attention, for the nav badge: cached a minute, and counted
    directly (one query) when the cache is unreachable, so a Redis outage never breaks a page."""
    count = platform_cache.get(ATTENTION_CACHE_KEY)
    if count is None:
        count = attention_count(now=timezone.now())
        platform_cache.set(ATTENTION_CACHE_KEY, count, ATTENTION_CACHE_SECONDS)
    return count


def forget_attention_count() -> None:
    platform_cache.delete(ATTENTION_CACHE_KEY)


def forget_cached() -> None:
    """Drop everything this module caches (after a sync changed the accounts; in tests)."""
    forget_attention_count()
    platform_cache.delete(f"{VOLUME_CACHE_KEY}:{VOLUME_DAYS}")
