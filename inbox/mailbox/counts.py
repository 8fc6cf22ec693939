"""The counts beside the list: like facets, each applies every filter but the one it describes.

The whole mirror's counts come from the tally the database keeps (migration 0004): exact and
always current. A narrower view (search words, customer, dates) is counted from its matching
messages, but never more than INBOX_COUNT_CAP of them: an exact count of a word found in half of a
million messages cost 375 ms (SQLite) / 686 ms (PostgreSQL) on every new search. Up to the cap
every number is exact; beyond it the numbers are those of the first CAP messages found, so each
one means "at least" and the page shows it with a "+" ("2,000+").

The Nexudus-flag part of the counts is the same for everyone, so it is cached (briefly) per view;
each person's own marks are applied on top, uncached, so their own reads show at once. A cache
that fails (Redis down or hanging) is skipped for a while: the counts are computed.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from dataclasses import dataclass
from operator import itemgetter
from typing import Literal

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.db.models.expressions import RawSQL

from inbox.mailbox.filters import NO_ACCOUNT, InboxFilters
from inbox.mailbox.labels import DEFAULT_ACCOUNT_LABEL, account_label
from inbox.mailbox.search import search_terms
from inbox.mailbox.selectors import filter_messages, live_messages
from inbox.mailbox.unread import person
from inbox.models import CoworkerMessage, EmailAccount, MessageMark
from inbox.platform import cache as platform_cache
from inbox.platform import search as platform_search
from inbox.platform import sql as platform_sql
from inbox.platform.tables import TALLY_TABLE

MARKS_FETCHED = 2000

# A sample row is (id, key): the key packs the message's account and its three flags into one
# number (account * 8 + incoming * 4 + is_new_message * 2 + awaiting_reply; no account: -1), so
# the database hands over two values a row instead of five (10,000 rows: 8 ms less on SQLite).
_FLAG_KEY = (
    Coalesce("email_account_id", Value(-1)) * 8
    + Case(When(incoming=True, then=Value(4)), default=Value(0))
    + Case(When(is_new_message=True, then=Value(2)), default=Value(0))
    + Case(When(awaiting_reply=True, then=Value(1)), default=Value(0))
)
_ID, _KEY = itemgetter(0), itemgetter(1)


def _unpacked(key: int) -> tuple[int | None, bool, bool, bool]:
    """(account_id, incoming, is_new_message, awaiting_reply) of a :data:`_FLAG_KEY`."""
    account_id = key >> 3  # floor division: -8 + flags (no account) gives -1
    return (None if account_id == -1 else account_id, bool(key & 4), bool(key & 2), bool(key & 1))


@dataclass
class AccountCount:
    account: int | Literal["none"]
    name: str
    count: int
    querystring: str = ""  # the view with this account chosen
    selected: bool = False
    at_least: bool = False  # counted among the first ``cap`` messages found: shown with "+"


@dataclass
class MessageCounts:
    """Counts of the current view, like facets: each count applies every filter except the one it
    describes (direction counts ignore the direction filter, account counts the account filter).

    ``capped``: more than ``cap`` messages match the view's words, customer, dates and account;
    the counts are then of the first ``cap`` of them found, so each is a lower bound ("at least").
    The other accounts' counts may be capped when the view's are not (``accounts_capped``): with an
    account chosen, its messages are counted on their own when the view without it is capped."""

    total: int
    unread: int
    incoming: int
    outgoing: int
    accounts: list[AccountCount]
    awaiting: int = 0
    filters: InboxFilters = InboxFilters()
    capped: bool = False
    cap: int = 0
    accounts_capped: bool = False

    # The views one click away (facet links): each changes one filter of this view.
    def _qs(self, **changes) -> str:
        return dataclasses.replace(self.filters, **changes).querystring()

    @property
    def unread_querystring(self) -> str:
        return self._qs(unread=True)

    @property
    def awaiting_querystring(self) -> str:
        return self._qs(awaiting=True)

    @property
    def incoming_querystring(self) -> str:
        return self._qs(direction="incoming")

    @property
    def outgoing_querystring(self) -> str:
        return self._qs(direction="outgoing")


@dataclass(frozen=True)
class FlagSample:
    """The part of a view's counts that is the same for everyone: {(account_id, incoming,
    is_new_message, awaiting_reply): n} over the view's messages (all of them, or the first ``cap`` found when
    ``capped``), and those messages' ids (None: every live message, the tally's case)."""

    groups: dict[tuple, int]
    ids: frozenset[int] | None = None
    capped: bool = False


def count_cap() -> int:
    return max(1, settings.INBOX_COUNT_CAP)


def _account_scope(filters: InboxFilters) -> InboxFilters | None:
    """What is counted on its own when the view's base is capped and an account is chosen: the
    base narrowed to that account. Its first ``cap`` messages are not the base's first ``cap``:
    a view of 151 messages of one account in a week of 5,000 counts exactly, not "115+"."""
    if filters.account is None:
        return None
    return dataclasses.replace(filters.base, account=filters.account)


def _flag_sample(scope: InboxFilters) -> FlagSample:
    """The shared part of the counts of the messages of ``scope`` (a view's base, or its base and
    account): the tally for the whole mirror, else one bounded query that reads at most cap + 1
    of them."""
    if scope.is_empty:
        return FlagSample(groups=_tally())
    cap = count_cap()
    # Plain tuples from the cursor: Django's per-row converters cost more than the query here.
    alias = CoworkerMessage.objects.db
    sql, params = _sample_query(scope)[: cap + 1].query.get_compiler(alias).as_sql()
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    capped = len(rows) > cap
    del rows[cap:]
    # Tallied without a Python loop over the rows (Counter and itemgetter run in C): up to 10,000
    # rows, the loop cost more than the query.
    groups = {_unpacked(key): n for key, n in Counter(map(_KEY, rows)).items()}
    return FlagSample(groups=groups, ids=frozenset(map(_ID, rows)), capped=capped)


def _sample_query(scope: InboxFilters) -> QuerySet:
    """The (id, :data:`_FLAG_KEY`) rows of ``scope``'s messages, in whatever order is cheapest to
    stop early.

    A search alone may be read from the full-text index outwards where the database does that
    better (:func:`inbox.platform.search.matches_from_index`). With a customer or dates, their
    index drives instead, as in the list (streaming every match of a common word to find the few
    of one customer or one week would read all of them)."""
    if scope.q and scope == InboxFilters(q=scope.q):
        from_index = platform_search.matches_from_index(live_messages(), search_terms(scope.q))
        if from_index is not None:
            return from_index.order_by().values_list("id", _FLAG_KEY)
    return filter_messages(live_messages(), user=None, filters=scope).order_by().values_list("id", _FLAG_KEY)


def _tally() -> dict[tuple, int]:
    with connections[CoworkerMessage.objects.db].cursor() as cursor:
        cursor.execute(
            f"SELECT account_key, incoming, is_new_message, awaiting_reply, n FROM {TALLY_TABLE} WHERE n <> 0"
        )
        return {
            (None if key == -1 else key, bool(incoming), bool(is_new), bool(awaiting)): n
            for key, incoming, is_new, awaiting, n in cursor.fetchall()
        }


def rebuild_tally() -> None:
    """Recompute the tally from the messages (it is kept by triggers; this is for doubt)."""
    alias = CoworkerMessage.objects.db
    connection = connections[alias]
    messages = connection.ops.quote_name(CoworkerMessage._meta.db_table)
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TALLY_TABLE}")
        cursor.execute(
            f"INSERT INTO {TALLY_TABLE} (account_key, incoming, is_new_message, awaiting_reply, n) "
            "SELECT coalesce(email_account_id, -1), incoming, is_new_message, awaiting_reply, count(*) "
            f"FROM {messages} WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4"
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
    if person(user) is None or (sample.ids is not None and not sample.ids):
        return groups
    marks = _flipping_marks(user)
    if sample.ids is None:  # every live message
        rows = _mark_groups(marks.filter(message__deleted_at__isnull=True))
    else:
        # Most people have a few hundred such marks: fetch them and keep those in the sample.
        # Someone with more gets them matched by the database (the ids as one parameter).
        few = list(
            marks.values_list(
                "message_id", "message__email_account_id", "message__incoming", "is_read", "message__awaiting_reply"
            )[
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
    for account_id, incoming, is_read, awaiting, n in rows:
        was, now = (account_id, incoming, is_read, awaiting), (account_id, incoming, not is_read, awaiting)
        groups[was] = groups.get(was, 0) - n
        groups[now] = groups.get(now, 0) + n
    return groups


def _mark_groups(marks: QuerySet) -> list[tuple]:
    return list(
        marks.values_list("message__email_account_id", "message__incoming", "is_read", "message__awaiting_reply")
        .annotate(n=Count("*"))
        .order_by()
    )


def _id_list(ids: frozenset[int]) -> RawSQL:
    """The ids as ONE query parameter (up to the cap of them: too many for separate parameters)."""
    sql, param = platform_sql.id_rows(connections[CoworkerMessage.objects.db], sorted(ids))
    return RawSQL(sql, [param])


def message_counts(*, user, filters: InboxFilters) -> MessageCounts:
    """The counts of the view (uncached): at most three queries whatever the number of rows
    (three more for a chosen account's own, when the view without it is capped)."""
    return _counts(user, filters, _flag_sample)


def _counts(user, filters: InboxFilters, sample_of) -> MessageCounts:
    sample = sample_of(filters.base)
    counts = _summarise(_apply_marks(sample, user=user), filters, capped=sample.capped)
    scope = _account_scope(filters) if sample.capped else None
    if scope is None:
        return counts
    own_sample = sample_of(scope)
    own = _summarise(_apply_marks(own_sample, user=user), filters, capped=own_sample.capped)
    # The view's numbers are its account's; the other accounts stay as counted in the base.
    chosen = {item.account: item for item in own.accounts}
    others = [item for item in counts.accounts if item.account not in chosen]
    own.accounts = sorted([*others, *chosen.values()], key=_account_order)
    own.accounts_capped = True
    return own


def _account_order(item: AccountCount) -> tuple:
    """Accounts by name; the messages of no account last."""
    return (item.account == NO_ACCOUNT, item.name.lower(), str(item.account))


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

    def awaiting_ok(awaiting: bool) -> bool:
        return awaiting or not filters.awaiting

    total = unread = incoming = outgoing = awaiting = 0
    per_account: dict[int | None, int] = {}
    for (account_id, is_incoming, is_unread, is_awaiting), n in groups.items():
        if account_ok(account_id) and unread_ok(is_unread) and awaiting_ok(is_awaiting):
            if is_incoming:
                incoming += n
            else:
                outgoing += n
        if direction_ok(is_incoming) and unread_ok(is_unread) and awaiting_ok(is_awaiting):
            per_account[account_id] = per_account.get(account_id, 0) + n
        if account_ok(account_id) and direction_ok(is_incoming) and awaiting_ok(is_awaiting):
            unread += n if is_unread else 0
            total += n if unread_ok(is_unread) else 0
        if account_ok(account_id) and direction_ok(is_incoming) and unread_ok(is_unread):
            awaiting += n if is_awaiting else 0
    return MessageCounts(
        total=total,
        unread=unread,
        incoming=incoming,
        outgoing=outgoing,
        awaiting=awaiting,
        accounts=_account_counts(per_account, filters, capped),
        filters=filters,
        capped=capped,
        cap=count_cap(),
        accounts_capped=capped,
    )


def _account_counts(per_account: dict[int | None, int], filters: InboxFilters, capped: bool) -> list[AccountCount]:
    ids = [a for a, n in per_account.items() if a is not None and n]
    names = {
        pk: account_label(pk, name, address)
        for pk, name, address in EmailAccount.objects.filter(pk__in=ids).values_list("id", "display_name", "email_address")
    }
    result = [
        AccountCount(account=a, name=names.get(a, f"Account {a}"), count=n, at_least=capped)
        for a, n in per_account.items()
        if a is not None and n
    ]
    if per_account.get(None):
        result.append(AccountCount(account=NO_ACCOUNT, name=DEFAULT_ACCOUNT_LABEL, count=per_account[None], at_least=capped))
    result.sort(key=_account_order)
    querystrings = filters.querystrings_with("account", [item.account for item in result])
    for item in result:
        item.querystring = querystrings[item.account]
        item.selected = filters.account == item.account
    return result


# --- Cached -----------------------------------------------------------------------------------


def _counts_cache_key(scope: InboxFilters) -> str:
    digest = hashlib.sha256(f"{count_cap()}:{scope.querystring()}".encode()).hexdigest()[:32]
    return f"inbox:counts:v4:{digest}"  # v4: ids packed (helpdesk/cache.py)


def counts_cache_keys(filters: InboxFilters) -> list[str]:
    """The cache entries a view's counts read (what ``bench/inbox_bench.py`` forgets for a cold count)."""
    scopes = [filters.base, _account_scope(filters)]
    return [_counts_cache_key(scope) for scope in scopes if scope is not None and not scope.is_empty]


def _cached_flag_sample(scope: InboxFilters) -> FlagSample:
    if scope.is_empty:
        return FlagSample(groups=_tally())  # a few hundred rows, always current: no need to cache
    return platform_cache.cached(
        _counts_cache_key(scope), lambda: _flag_sample(scope), settings.INBOX_COUNTS_CACHE_SECONDS
    )


def cached_message_counts(*, user, filters: InboxFilters) -> MessageCounts:
    return _counts(user, filters, _cached_flag_sample)
