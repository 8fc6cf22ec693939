"""Reading the inbox: the one query behind the list, the counts, the live banner and the CSV.

Everything that shows "the messages of this view" starts from :func:`message_list`, so the list,
the counts and the export can never disagree. Paging is by keyset on ``(created_on, id)``:
page 5,000 costs what page 1 costs (DESIGN.md, traps: OFFSET paging).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from django.conf import settings
from django.db import connections
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Substr

from inbox import clock
from inbox.models import CoworkerMessage, EmailAccount, MessageMark
from inbox.platform import cache as platform_cache
from inbox.platform import sql as platform_sql
from inbox.mailbox.search import apply_search

logger = logging.getLogger(__name__)

Direction = Literal["incoming", "outgoing"]
NO_ACCOUNT = "none"  # the contract's account=none: "default location settings" (no account)
PREVIEW_CHARS = 240


@dataclass(frozen=True)
class InboxFilters:
    """The filters of one inbox view; every field optional. ``account``: an Id, "none" or None."""

    unread: bool = False
    direction: Direction | None = None
    account: int | Literal["none"] | None = None
    customer: int | None = None
    q: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    def without(self, *names: str) -> InboxFilters:
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        return dataclasses.replace(self, **{n: defaults[n] for n in names})

    @property
    def is_empty(self) -> bool:
        return self == InboxFilters()

    def to_params(self) -> dict[str, str]:
        """The contract's query parameters for this view (only the filters that are set)."""
        params: dict[str, str] = {}
        if self.unread:
            params["unread"] = "1"
        if self.direction:
            params["direction"] = self.direction
        if self.account is not None:
            params["account"] = str(self.account)
        if self.customer is not None:
            params["customer"] = str(self.customer)
        if self.q:
            params["q"] = self.q
        if self.since:
            params["since"] = self.since.isoformat()
        if self.until:
            params["until"] = self.until.isoformat()
        return params

    def querystring(self, **extra: str) -> str:
        return urlencode({**self.to_params(), **extra})


# --- Unread, per person -----------------------------------------------------------------------
# For person u a message is unread iff (u has a mark → not mark.is_read) else is_new_message.


# Nobody (``user=None``, or an anonymous user: a command-line export) has no marks, so for nobody
# "unread" is Nexudus's IsNewMessage alone.


def _person(user):
    """``user`` if it is someone who can have marks, else None (nobody)."""
    if user is None or not getattr(user, "is_authenticated", False) or user.pk is None:
        return None
    return user


def _marks(user, *, is_read: bool):
    return MessageMark.objects.filter(user_id=user.pk, message_id=OuterRef("pk"), is_read=is_read)


def unread_condition(user) -> Q:
    """Unread for ``user`` (None or anonymous: Nexudus's flag alone, no subqueries)."""
    if _person(user) is None:
        return Q(is_new_message=True)
    return Q(Exists(_marks(user, is_read=False))) | (
        Q(is_new_message=True) & ~Q(Exists(_marks(user, is_read=True)))
    )


# --- The list ---------------------------------------------------------------------------------


# The days a date filter may name. A day's bounds are midnights in the help desk's zone, turned
# into UTC for the database: near the ends of Python's dates (years 1 to 9999) that UTC moment may
# not exist (0001-01-01 00:00 in Berlin is in year 0 in UTC: OverflowError). Inside this range it
# exists in every zone, west or east of UTC, and both databases store it
# (https://docs.python.org/3/library/datetime.html#datetime.MINYEAR).
FILTER_DATE_MIN = dt.date(1900, 1, 1)
FILTER_DATE_MAX = dt.date(9999, 12, 30)


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the help desk's time zone."""
    return clock.day_start(day)


def live_messages() -> QuerySet[CoworkerMessage]:
    return CoworkerMessage.objects.live()


def filter_messages(qs: QuerySet[CoworkerMessage], *, user, filters: InboxFilters) -> QuerySet:
    """Apply every filter of ``filters`` to a CoworkerMessage queryset (no ordering, no annotation)."""
    if filters.direction is not None:
        qs = qs.filter(incoming=filters.direction == "incoming")
    if filters.account == NO_ACCOUNT:
        qs = qs.filter(email_account_id__isnull=True)
    elif filters.account is not None:
        qs = qs.filter(email_account_id=filters.account)
    if filters.customer is not None:
        qs = qs.filter(coworker_id=filters.customer)
    if filters.since is not None:
        qs = qs.filter(created_on__gte=_day_start(filters.since))
    if filters.until is not None and filters.until < dt.date.max:
        qs = qs.filter(created_on__lt=_day_start(filters.until + dt.timedelta(days=1)))
    if filters.q:
        qs = apply_search(qs, filters.q)
    if filters.unread:
        qs = qs.filter(unread_condition(user))
    return qs


def message_list(*, user, filters: InboxFilters) -> QuerySet[CoworkerMessage]:
    """Live messages of the view, newest first ``(-created_on, -id)``, with ``is_unread`` for ``user``.

    ``user=None`` (or an anonymous user) is nobody: no marks apply, so ``is_unread`` and the
    unread filter are Nexudus's IsNewMessage alone (the command-line export)."""
    qs = filter_messages(live_messages(), user=user, filters=filters)
    return qs.annotate(
        is_unread=ExpressionWrapper(unread_condition(user), output_field=BooleanField())
    ).order_by("-created_on", "-id")


def for_rows(qs: QuerySet[CoworkerMessage]) -> QuerySet[CoworkerMessage]:
    """What the list rows need and no more: no HTML body, only the start of the plain text."""
    return qs.defer("body", "body_text").annotate(preview=Substr("body_text", 1, PREVIEW_CHARS))


# --- Keyset paging ----------------------------------------------------------------------------

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Cursor:
    """A position in the newest-first list: the (created_on, id) of the last row shown."""

    created_on: dt.datetime
    id: int

    _PATTERN = re.compile(r"^(-?\d{1,20})_(\d{1,19})$")

    def encode(self) -> str:
        micros = (self.created_on - _EPOCH) // dt.timedelta(microseconds=1)
        raw = f"{micros}_{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """The cursor a token names; ValueError for anything that is not one of ours."""
        if not token or len(token) > 64:
            raise ValueError("empty or too long")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise ValueError("not base64") from exc
        match = cls._PATTERN.match(raw)
        if not match:
            raise ValueError("malformed")
        micros, pk = int(match[1]), int(match[2])
        if pk > 2**63 - 1:
            raise ValueError("id out of range")
        try:
            when = _EPOCH + dt.timedelta(microseconds=micros)
        except OverflowError as exc:
            raise ValueError("time out of range") from exc
        return cls(created_on=when, id=pk)

    @classmethod
    def of(cls, message: CoworkerMessage) -> Cursor:
        return cls(created_on=message.created_on, id=message.pk)


def older_than(qs: QuerySet, cursor: Cursor) -> QuerySet:
    """Rows after ``cursor`` in newest-first order. The redundant ``created_on <= c`` lets both
    databases start the index range scan at the cursor instead of filtering from the top."""
    return qs.filter(created_on__lte=cursor.created_on).filter(
        Q(created_on__lt=cursor.created_on) | Q(id__lt=cursor.id)
    )


def _first_rows(qs: QuerySet, n: int) -> list:
    """The first ``n`` rows of a newest-first queryset.

    A common search word on SQLite (``inbox.mailbox.search.walkable``) is found by walking the view's
    newest rows and probing the full-text index for each, within a window of WALK_WINDOW rows (the
    window's edge is the view's WALK_WINDOW-th row without the words: one index seek); whatever
    the window lacks comes from beyond its edge with the usual plan. The window is a prefix of the
    same order, so the rows are exactly those of ``qs[:n]``; a word that is common overall but
    rare among the newest rows costs the window's probes (~20 ms) and then the usual plan."""
    from inbox.mailbox import search

    if not search.walkable(qs):
        return list(qs[:n])
    with search.search_plan(search.SKIP):
        edge = list(qs.values_list("created_on", "id")[search.WALK_WINDOW - 1 : search.WALK_WINDOW])
    with search.search_plan(search.WALK):
        if not edge:  # the whole view (words aside) is inside the window
            return list(qs[:n])
        edge = Cursor(created_on=edge[0][0], id=edge[0][1])
        rows = list(qs.filter(created_on__gte=edge.created_on).exclude(
            Q(created_on=edge.created_on) & Q(id__lt=edge.id)
        )[:n])
    if len(rows) < n:
        rows += list(older_than(qs, edge)[: n - len(rows)])
    return rows


def newer_than(qs: QuerySet, cursor: Cursor) -> QuerySet:
    return qs.filter(created_on__gte=cursor.created_on).filter(
        Q(created_on__gt=cursor.created_on) | Q(id__gt=cursor.id)
    )


@dataclass
class Page:
    rows: list[CoworkerMessage]
    next_cursor: Cursor | None  # None: this is the last page

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def newest_token(self) -> str:
        """The cursor of the first row (what the live poll compares with), or ""."""
        return Cursor.of(self.rows[0]).encode() if self.rows else ""


def page_after(qs: QuerySet, cursor: Cursor | None, size: int) -> Page:
    """One page of a newest-first queryset, after ``cursor`` (None: the first page). One query
    (a common search word on SQLite: see :func:`_first_rows`)."""
    if cursor is not None:
        qs = older_than(qs, cursor)
    rows = _first_rows(qs, size + 1)
    if len(rows) > size:
        rows = rows[:size]
        return Page(rows=rows, next_cursor=Cursor.of(rows[-1]))
    return Page(rows=rows, next_cursor=None)


# --- Counts -----------------------------------------------------------------------------------
# The whole mirror's counts come from the tally the database keeps (migration 0004): exact and
# always current. A narrower view (search words, customer, dates) is counted from its matching
# messages, but never more than INBOX_COUNT_CAP of them: an exact count of a word found in half
# of a million messages cost 375 ms (SQLite) / 686 ms (PostgreSQL) on every new search. Up to the
# cap every number is exact; beyond it the numbers are those of the first CAP messages found, so
# each one means "at least" and the page shows it with a "+" ("10,000+").


@dataclass
class AccountCount:
    account: int | Literal["none"]
    name: str
    count: int
    querystring: str = ""  # the view with this account chosen
    selected: bool = False


@dataclass
class MessageCounts:
    """Counts of the current view, like facets: each count applies every filter except the one it
    describes (direction counts ignore the direction filter, account counts the account filter).

    ``capped``: more than ``cap`` messages match the view's words, customer and dates; the counts
    are then of the first ``cap`` of them found, so each is a lower bound ("at least")."""

    total: int
    unread: int
    incoming: int
    outgoing: int
    accounts: list[AccountCount]
    filters: InboxFilters = InboxFilters()
    capped: bool = False
    cap: int = 0

    # The views one click away (facet links): each changes one filter of this view.
    def _qs(self, **changes) -> str:
        return dataclasses.replace(self.filters, **changes).querystring()

    @property
    def unread_querystring(self) -> str:
        return self._qs(unread=True)

    @property
    def incoming_querystring(self) -> str:
        return self._qs(direction="incoming")

    @property
    def outgoing_querystring(self) -> str:
        return self._qs(direction="outgoing")

    @property
    def all_directions_querystring(self) -> str:
        return self._qs(direction=None)


@dataclass(frozen=True)
class FlagSample:
    """The part of a view's counts that is the same for everyone: {(account_id, incoming,
    is_new_message): n} over the view's messages (all of them, or the first ``cap`` found when
    ``capped``), and those messages' ids (None: every live message, the tally's case)."""

    groups: dict[tuple, int]
    ids: frozenset[int] | None = None
    capped: bool = False


def _counted_view(filters: InboxFilters) -> QuerySet:
    """The view the counts describe: every filter but unread, direction and account (the facets)."""
    return filter_messages(
        live_messages(), user=None, filters=filters.without("unread", "direction", "account")
    )


def _is_whole_mirror(filters: InboxFilters) -> bool:
    return filters.without("unread", "direction", "account").is_empty


def count_cap() -> int:
    return max(1, settings.INBOX_COUNT_CAP)


def _flag_sample(filters: InboxFilters) -> FlagSample:
    """The shared part of the counts: the tally for the whole mirror, else one bounded query
    that reads at most cap + 1 of the view's messages."""
    if _is_whole_mirror(filters):
        return FlagSample(groups=_tally())
    cap = count_cap()
    # Plain tuples from the cursor: Django's per-row converters cost more than the query here.
    sql, params = _sample_query(filters)[: cap + 1].query.sql_with_params()
    with connections[CoworkerMessage.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    capped = len(rows) > cap
    del rows[cap:]
    groups: dict[tuple, int] = {}
    for _pk, account_id, incoming, is_new in rows:
        key = (account_id, bool(incoming), bool(is_new))
        groups[key] = groups.get(key, 0) + 1
    return FlagSample(groups=groups, ids=frozenset(r[0] for r in rows), capped=capped)


def _sample_query(filters: InboxFilters) -> QuerySet:
    """The view's (id, account, incoming, flag) rows, in whatever order is cheapest to stop early.

    On SQLite a search is read from the full-text index outwards (``FROM messages, fts WHERE
    fts.rowid = id``): SQLite's ``id IN (<matches>)`` would first copy every match into a temporary
    index (78 ms for a word in half a million messages, against 16 ms to stream 10,001 of them).
    With a customer or dates, their index drives instead, as in the list (streaming every match
    of a common word to find the few of one customer or one week would read all of them)."""
    base = filters.without("unread", "direction", "account")
    columns = ("id", "email_account_id", "incoming", "is_new_message")
    alias = CoworkerMessage.objects.db
    if base.q and base == InboxFilters(q=base.q) and connections[alias].vendor == "sqlite":
        from inbox.mailbox.search import FTS_TABLE, search_terms, sqlite_match_query

        qs = live_messages()
        table = CoworkerMessage._meta.db_table
        return qs.extra(
            tables=[FTS_TABLE],
            where=[f'{FTS_TABLE}.rowid = "{table}"."id"', f"{FTS_TABLE} MATCH %s"],
            params=[sqlite_match_query(alias, search_terms(base.q))],
        ).order_by().values_list(*columns)
    return _counted_view(filters).order_by().values_list(*columns)


def _flag_groups(filters: InboxFilters) -> dict[tuple, int]:
    """{(account_id, incoming, is_new_message): n} for the view (up to the cap)."""
    return _flag_sample(filters).groups


TALLY_TABLE = "inbox_message_tally"


def _tally() -> dict[tuple, int]:
    with connections[CoworkerMessage.objects.db].cursor() as cursor:
        cursor.execute(f"SELECT account_key, incoming, is_new_message, n FROM {TALLY_TABLE} WHERE n <> 0")
        return {
            (None if key == -1 else key, bool(incoming), bool(is_new)): n
            for key, incoming, is_new, n in cursor.fetchall()
        }


def rebuild_tally() -> None:
    """Recompute the tally from the messages (it is kept by triggers; this is for doubt)."""
    from django.db import transaction

    alias = CoworkerMessage.objects.db
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute(f"DELETE FROM {TALLY_TABLE}")
        cursor.execute(
            f"INSERT INTO {TALLY_TABLE} (account_key, incoming, is_new_message, n) "
            "SELECT coalesce(email_account_id, -1), incoming, is_new_message, count(*) "
            "FROM inbox_coworkermessage WHERE deleted_at IS NULL GROUP BY 1, 2, 3"
        )


def _flipping_marks(user) -> QuerySet:
    """The person's marks that change Nexudus's flag: read on a new message, unread on an old one."""
    return MessageMark.objects.filter(user_id=user.pk).filter(
        Q(is_read=True, message__is_new_message=True) | Q(is_read=False, message__is_new_message=False)
    )


def _apply_marks(sample: FlagSample, *, user) -> dict[tuple, int]:
    """Turn Nexudus's flag into this person's unread state: their marks that change the flag move
    a message of the sample from one group to the other. One query, from the marks side."""
    groups = dict(sample.groups)
    if _person(user) is None or (sample.ids is not None and not sample.ids):
        return groups
    marks = _flipping_marks(user)
    if sample.ids is None:  # every live message
        rows = _mark_groups(marks.filter(message__deleted_at__isnull=True))
    else:
        # Most people have a few hundred such marks: fetch them and keep those in the sample.
        # Someone with more gets them matched by the database (the ids as one parameter).
        few = list(
            marks.values_list("message_id", "message__email_account_id", "message__incoming", "is_read")[
                :MARKS_FETCHED
            ]
        )
        if len(few) < MARKS_FETCHED:
            counted: dict[tuple, int] = {}
            for message_id, *key in few:
                if message_id in sample.ids:
                    counted[tuple(key)] = counted.get(tuple(key), 0) + 1
            rows = [(*key, n) for key, n in counted.items()]
        else:
            rows = _mark_groups(marks.filter(message_id__in=_id_list(sample.ids)))
    for account_id, incoming, is_read, n in rows:
        was, now = (account_id, incoming, is_read), (account_id, incoming, not is_read)
        groups[was] = groups.get(was, 0) - n
        groups[now] = groups.get(now, 0) + n
    return groups


MARKS_FETCHED = 2000


def _mark_groups(marks: QuerySet) -> list[tuple]:
    return list(
        marks.values_list("message__email_account_id", "message__incoming", "is_read")
        .annotate(n=Count("*"))
        .order_by()
    )


def _id_list(ids: frozenset[int]):
    """The ids as ONE query parameter (up to the cap of them: too many for separate parameters)."""
    from django.db.models.expressions import RawSQL

    sql, param = platform_sql.id_rows(connections[CoworkerMessage.objects.db], sorted(ids))
    return RawSQL(sql, [param])


def message_counts(*, user, filters: InboxFilters) -> MessageCounts:
    """The counts of the view (uncached): at most three queries whatever the number of rows."""
    sample = _flag_sample(filters)
    return _summarise(_apply_marks(sample, user=user), filters, capped=sample.capped)


def _summarise(groups: dict[tuple, int], filters: InboxFilters, *, capped: bool = False) -> MessageCounts:
    """Each count applies every filter but the one it describes (facets)."""

    def account_ok(account_id) -> bool:
        if filters.account is None:
            return True
        if filters.account == NO_ACCOUNT:
            return account_id is None
        return account_id == filters.account

    def direction_ok(incoming: bool) -> bool:
        return filters.direction is None or incoming == (filters.direction == "incoming")

    def unread_ok(unread: bool) -> bool:
        return unread or not filters.unread

    total = unread = incoming = outgoing = 0
    per_account: dict[int | None, int] = {}
    for (account_id, is_incoming, is_unread), n in groups.items():
        if account_ok(account_id) and unread_ok(is_unread):
            if is_incoming:
                incoming += n
            else:
                outgoing += n
        if direction_ok(is_incoming) and unread_ok(is_unread):
            per_account[account_id] = per_account.get(account_id, 0) + n
        if account_ok(account_id) and direction_ok(is_incoming):
            unread += n if is_unread else 0
            total += n if unread_ok(is_unread) else 0
    return MessageCounts(
        total=total,
        unread=unread,
        incoming=incoming,
        outgoing=outgoing,
        accounts=_account_counts(per_account, filters),
        filters=filters,
        capped=capped,
        cap=count_cap(),
    )


def _account_counts(per_account: dict[int | None, int], filters: InboxFilters) -> list[AccountCount]:
    ids = [a for a, n in per_account.items() if a is not None and n]
    names = {a.pk: str(a) for a in EmailAccount.objects.filter(pk__in=ids)}
    result = [
        AccountCount(account=a, name=names.get(a, f"Account {a}"), count=n)
        for a, n in per_account.items()
        if a is not None and n
    ]
    result.sort(key=lambda c: (c.name.lower(), c.account))
    if per_account.get(None):
        result.append(AccountCount(account=NO_ACCOUNT, name=DEFAULT_ACCOUNT_LABEL, count=per_account[None]))
    for item in result:
        item.querystring = dataclasses.replace(filters, account=item.account).querystring()
        item.selected = filters.account == item.account
    return result


DEFAULT_ACCOUNT_LABEL = "Default location settings"


def account_choices() -> list[tuple[str, str]]:
    """The mail accounts a person can filter by (value, label), and the default-settings choice."""
    accounts = EmailAccount.objects.filter(deleted_at__isnull=True).only("id", "display_name", "email_address")
    return [(str(a.pk), str(a)) for a in accounts] + [(NO_ACCOUNT, DEFAULT_ACCOUNT_LABEL)]


# --- Live -------------------------------------------------------------------------------------

LIVE_CAP = 100


def newer_count(*, user, filters: InboxFilters, cursor: Cursor | None) -> int:
    """How many messages of the view are newer than the newest one shown (capped at LIVE_CAP);
    with no cursor (an empty list), how many the view has now.

    One query on the newest-first index: the scan stops at the cursor or after LIVE_CAP rows.
    A common search word on SQLite (polled every few seconds by everyone on that view) is probed
    row by row among the rows newer than the cursor when they are few (one more index count),
    instead of copying every match of the word into a temporary index at each poll."""
    from inbox.mailbox import search

    qs = filter_messages(live_messages(), user=user, filters=filters)
    if cursor is not None:
        qs = newer_than(qs, cursor)
        if search.walkable(qs):
            with search.search_plan(search.SKIP):
                few_newer = qs.order_by().values("pk")[: search.WALK_WINDOW + 1].count() <= search.WALK_WINDOW
            if few_newer:
                with search.search_plan(search.WALK):
                    return qs.order_by().values("pk")[:LIVE_CAP].count()
    return qs.order_by().values("pk")[:LIVE_CAP].count()


def inbox_is_empty() -> bool:
    """True before the first sync has stored anything (the empty state says what to do)."""
    return not live_messages().exists()


# --- Counts, cached ---------------------------------------------------------------------------
# The Nexudus-flag part of the counts is the same for everyone, so it is cached (briefly) per
# view; each person's own marks are applied on top, uncached, so their own reads show at once.
# A cache that fails (Redis down or hanging) is skipped for a while: the counts are computed.


def _counts_cache_key(filters: InboxFilters) -> str:
    base = filters.without("unread", "direction", "account")
    digest = hashlib.sha256(f"{count_cap()}:{base.querystring()}".encode()).hexdigest()[:32]
    return f"inbox:counts:v2:{digest}"


def cached_message_counts(*, user, filters: InboxFilters) -> MessageCounts:
    if _is_whole_mirror(filters):
        sample = FlagSample(groups=_tally())  # a few hundred rows, always current: no need to cache
    else:
        sample = platform_cache.cached(
            _counts_cache_key(filters), lambda: _flag_sample(filters), settings.INBOX_COUNTS_CACHE_SECONDS
        )
    return _summarise(_apply_marks(sample, user=user), filters, capped=sample.capped)
