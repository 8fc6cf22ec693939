"""Read and unread, per person: the local marks that override Nexudus's ``IsNewMessage``.

For a person u a message is unread iff u has a mark on it saying so, else Nexudus's
``is_new_message`` (``inbox.selectors.unread_condition``). Marks are ours alone: nothing here
talks to Nexudus (its API treats messages as read-only) and no sync touches the table.

Every write is one set-based ``INSERT ... SELECT ... ON CONFLICT (user, message) DO UPDATE``
(SQLite >= 3.24 and PostgreSQL): rows never travel through Python, so marking "all N matching
this filter" costs one statement per batch of ids, whatever N is.
https://www.sqlite.org/lang_upsert.html https://www.postgresql.org/docs/current/sql-insert.html
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connections
from django.db.models import F, QuerySet
from django.utils import timezone

from inbox.models import CoworkerMessage, MessageMark

BATCH_SIZE = 5000  # rows per statement of mark_matching: short write transactions under load
IDS_PER_STATEMENT = 500  # well under SQLite's bound-parameter limit


def mark_read(*, user, message_ids: Iterable[int]) -> int:
    """Mark these messages read for ``user``; returns how many existed and were marked."""
    return _mark_ids(user=user, message_ids=message_ids, is_read=True)


def mark_unread(*, user, message_ids: Iterable[int]) -> int:
    """Mark these messages unread for ``user``; returns how many existed and were marked."""
    return _mark_ids(user=user, message_ids=message_ids, is_read=False)


def mark_matching(*, user, queryset: QuerySet[CoworkerMessage], is_read: bool, batch_size: int = BATCH_SIZE) -> int:
    """Mark every message of ``queryset`` (e.g. ``message_list(...)``, not sliced) for ``user``.

    Walks the matching ids in ascending batches (keyset on the primary key), one upsert per
    batch; each batch commits on its own, so a million rows never hold one long write lock.
    Returns the number of messages marked.
    """
    ids = queryset.order_by("pk").values_list("pk", flat=True)
    total, last = 0, None
    while True:
        window = ids if last is None else ids.filter(pk__gt=last)
        upper = list(window[batch_size - 1 : batch_size])
        batch = window.filter(pk__lte=upper[0]) if upper else window
        total += _upsert(user=user, queryset=batch, is_read=is_read)
        if not upper:
            return total
        last = upper[0]


def _mark_ids(*, user, message_ids: Iterable[int], is_read: bool) -> int:
    ids = sorted({int(pk) for pk in message_ids})
    total = 0
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        chunk = ids[start : start + IDS_PER_STATEMENT]
        total += _upsert(user=user, queryset=CoworkerMessage.objects.filter(pk__in=chunk), is_read=is_read)
    return total


def _upsert(*, user, queryset: QuerySet[CoworkerMessage], is_read: bool) -> int:
    """One statement: a mark for every message of ``queryset``. Returns the rows written."""
    connection = connections[queryset.db]
    ids = queryset.order_by().annotate(marked_message_id=F("pk")).values("marked_message_id")
    select_sql, select_params = ids.query.sql_with_params()
    qn = connection.ops.quote_name
    fields = {f.name: qn(f.column) for f in MessageMark._meta.concrete_fields}
    sql = (
        f"INSERT INTO {qn(MessageMark._meta.db_table)} "
        f"({fields['user']}, {fields['message']}, {fields['is_read']}, {fields['marked_at']}) "
        # "WHERE true" resolves SQLite's parsing ambiguity between a join's ON and ON CONFLICT.
        f"SELECT %s, matching.marked_message_id, %s, %s FROM ({select_sql}) matching WHERE true "
        f"ON CONFLICT ({fields['user']}, {fields['message']}) DO UPDATE SET "
        f"{fields['is_read']} = excluded.{fields['is_read']}, "
        f"{fields['marked_at']} = excluded.{fields['marked_at']}"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, is_read, now, *select_params])
        return max(cursor.rowcount, 0)
