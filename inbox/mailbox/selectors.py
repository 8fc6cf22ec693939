"""Reading the inbox: the one query behind the list, the counts, the live banner and the CSV.

Everything that shows "the messages of this view" starts from :func:`message_list`, so the list,
the counts and the export can never disagree. Paging is by keyset on ``(created_on, id)``
(:mod:`inbox.mailbox.cursor`): page 5,000 costs what page 1 costs, where OFFSET would read and
throw away every row before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.db import connections, router
from django.db.models import Q, QuerySet
from django.db.models.functions import Substr

from inbox.mailbox.cursor import Cursor
from inbox.mailbox.customers import typed_id
from inbox.mailbox.filters import NO_ACCOUNT, InboxFilters
from inbox.mailbox.labels import DEFAULT_ACCOUNT_LABEL, account_label
from inbox.mailbox.unread import unread_value
from inbox.models import CoworkerMessage, EmailAccount
from inbox.platform import search as platform_search

PREVIEW_CHARS = 240
LIVE_CAP = 100


def live_messages() -> QuerySet[CoworkerMessage]:
    return CoworkerMessage.objects.live()


def filter_messages(qs: QuerySet[CoworkerMessage], *, user, filters: InboxFilters) -> QuerySet:
    """Apply every filter of ``filters`` to a CoworkerMessage queryset (no ordering, no annotation)."""
    return filters.apply(qs, user=user)


def message_list(*, user, filters: InboxFilters) -> QuerySet[CoworkerMessage]:
    """Live messages of the view, newest first ``(-created_on, -id)`` (``order=oldest``: oldest
    first), with ``is_unread`` for ``user``.

    ``user=None`` (or an anonymous user) is nobody: no marks apply, so ``is_unread`` and the
    unread filter are Nexudus's IsNewMessage alone (the command-line export)."""
    qs = filter_messages(live_messages(), user=user, filters=filters)
    qs = qs.annotate(is_unread=unread_value(user))
    return qs.order_by(*ORDER_OLDEST) if filters.oldest_first else qs.order_by(*ORDER_NEWEST)


ORDER_NEWEST = ("-created_on", "-id")
ORDER_OLDEST = ("created_on", "id")


# What a row of the list shows (templates/jinja2/inbox/rows.html) and pages by (created_on, id).
ROW_FIELDS = (
    "id", "created_on", "incoming", "is_new_message", "awaiting_reply", "subject",
    "coworker_full_name", "coworker_company_name",
    "email_account_id", "email_account_display_name", "email_account_email_address",
)


def for_rows(qs: QuerySet[CoworkerMessage]) -> QuerySet:
    """What the list rows need and no more (``ROW_FIELDS``, the start of the plain text and
    ``is_unread``), as named tuples: each column less is less for the ORM to write and to read,
    on every page, and a tuple costs a fraction of a model instance (fifty a page)."""
    qs = qs.annotate(preview=Substr("body_text", 1, PREVIEW_CHARS))
    return qs.values_list(*ROW_FIELDS, "preview", "is_unread", named=True)


# --- Keyset paging ----------------------------------------------------------------------------


def older_than(qs: QuerySet, cursor: Cursor) -> QuerySet:
    """Rows after ``cursor`` in newest-first order. The redundant ``created_on <= c`` lets both
    databases start the index range scan at the cursor instead of filtering from the top."""
    return qs.filter(created_on__lte=cursor.created_on).filter(
        Q(created_on__lt=cursor.created_on) | Q(id__lt=cursor.id)
    )


def newer_than(qs: QuerySet, cursor: Cursor) -> QuerySet:
    return qs.filter(created_on__gte=cursor.created_on).filter(
        Q(created_on__gt=cursor.created_on) | Q(id__gt=cursor.id)
    )


def after(qs: QuerySet, cursor: Cursor, *, oldest_first: bool = False) -> QuerySet:
    """Rows after ``cursor`` in the view's order: older ones, or newer ones when oldest first."""
    return newer_than(qs, cursor) if oldest_first else older_than(qs, cursor)


@dataclass
class Page:
    rows: list  # what the queryset gives: CoworkerMessages, or for_rows' named tuples
    next_cursor: Cursor | None  # None: this is the last page
    newest: Cursor | None = None  # the view's newest message, when the rows are oldest first

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def newest_token(self) -> str:
        """The cursor of the view's newest message (what the live poll compares with), or ""."""
        if self.newest is not None:
            return self.newest.encode()
        return Cursor.of(self.rows[0]).encode() if self.rows else ""


def _older_than_row(qs: QuerySet, created_on, pk: int) -> QuerySet:
    return older_than(qs, Cursor(created_on=created_on, id=pk))


def page_after(qs: QuerySet, cursor: Cursor | None, size: int, *, oldest_first: bool = False) -> Page:
    """One page of the view (``qs`` in its order), after ``cursor`` (None: the first page). One
    query (a common search word on SQLite, newest first: :func:`inbox.platform.search.first_rows`).
    Oldest first, the first page also reads the view's newest message for the live poll."""
    if cursor is not None:
        qs = after(qs, cursor, oldest_first=oldest_first)
    if oldest_first:
        rows = list(qs[: size + 1])
    else:
        rows = platform_search.first_rows(qs, size + 1, older_than=_older_than_row)
    newest = None
    if oldest_first and cursor is None and rows:
        newest_row = qs.order_by(*ORDER_NEWEST).values_list("created_on", "id").first()
        newest = Cursor(created_on=newest_row[0], id=newest_row[1]) if newest_row else None
    if len(rows) > size:
        rows = rows[:size]
        return Page(rows=rows, next_cursor=Cursor.of(rows[-1]), newest=newest)
    return Page(rows=rows, next_cursor=None, newest=newest)


# --- The filter form's choices and the empty state ----------------------------------------------


def message_by_id(text: str) -> CoworkerMessage | None:
    """The live message whose Nexudus Id is the whole of a search (``1234567``, ``#1234567``):
    an Id copied from Nexudus finds its message, beside the messages that contain the number."""
    pk = typed_id(text or "")
    if pk is None:
        return None
    return (
        live_messages()
        .filter(pk=pk)
        .only("id", "created_on", "incoming", "subject", "coworker_full_name")
        .first()
    )


def account_choices() -> list[tuple[str, str]]:
    """The mail accounts a person can filter by (value, label), and the default-settings choice.
    Every full page of the inbox asks; the query has no parameters of its own, so it is compiled
    once per database (building it cost the ORM twice what running it does)."""
    alias = router.db_for_read(EmailAccount)
    sql, params = _live_accounts_query(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        accounts = cursor.fetchall()
    return [(str(pk), account_label(pk, name, address)) for pk, name, address in accounts] + [
        (NO_ACCOUNT, DEFAULT_ACCOUNT_LABEL)
    ]


@lru_cache(maxsize=8)
def _live_accounts_query(alias: str) -> tuple[str, tuple]:
    """The SQL and parameters of the live accounts' (id, display name, address), in the model's order."""
    accounts = EmailAccount.objects.using(alias).live().values_list("id", "display_name", "email_address")
    return accounts.query.get_compiler(alias).as_sql()


def inbox_is_empty() -> bool:
    """True before the first sync has stored anything (the empty state says what to do)."""
    return not live_messages().exists()


# --- Live -------------------------------------------------------------------------------------


def newer_count(*, user, filters: InboxFilters, cursor: Cursor | None) -> int:
    """How many messages of the view are newer than the newest one shown (capped at LIVE_CAP);
    with no cursor (an empty list), how many the view has now.

    One query on the newest-first index: the scan stops at the cursor or after LIVE_CAP rows (a
    common search word on SQLite, polled every few seconds by everyone on that view:
    :func:`inbox.platform.search.bounded_count`)."""
    qs = filter_messages(live_messages(), user=user, filters=filters)
    if cursor is not None:
        return platform_search.bounded_count(newer_than(qs, cursor), LIVE_CAP)
    return qs.order_by().values("pk")[:LIVE_CAP].count()
