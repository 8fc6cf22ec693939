"""Read and unread, per person: the local marks that override Nexudus's ``IsNewMessage``.

For a person u a message is unread iff u has a mark on it saying so, else Nexudus's
``is_new_message`` (``inbox.mailbox.unread``). Marks are ours alone: nothing here
talks to Nexudus (its API treats messages as read-only) and no sync touches the table.

Writes are set-based: each batch of ids is one ``INSERT ... SELECT ... ON CONFLICT (user,
message) DO UPDATE`` with the ids passed as a single array parameter (PostgreSQL ``unnest``,
SQLite ``json_each``), so no model objects are built and a batch is one short transaction.
https://www.sqlite.org/lang_upsert.html https://www.postgresql.org/docs/current/sql-insert.html
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone

from inbox.models import CoworkerMessage, MessageMark
from inbox.platform import sql as platform_sql
from inbox.mailbox.unread import unread_condition

BATCH_SIZE = 10_000  # ids per statement: short write transactions even on SQLite under load


def mark_read(*, user, message_ids: Iterable[int], using: str = "default") -> int:
    """Mark these messages read for ``user``; returns how many existed and were marked."""
    return _write(user=user, ids=_id_array(message_ids), is_read=True, using=using)


def mark_unread(*, user, message_ids: Iterable[int], using: str = "default") -> int:
    """Mark these messages unread for ``user``; returns how many existed and were marked."""
    return _write(user=user, ids=_id_array(message_ids), is_read=False, using=using)


def mark_matching(*, user, queryset: QuerySet[CoworkerMessage], is_read: bool, batch_size: int = BATCH_SIZE) -> int:
    """Mark every message of ``queryset`` (e.g. ``message_list(...)``, unsliced) read or unread
    for ``user``; returns how many changed.

    Only messages whose state changes get a mark: "mark all read" over a million messages that
    are mostly read already writes the few unread ones, not a million rows per person. (Marks
    made by opening or by selecting rows are always written: ``mark_read``/``mark_unread``.)

    The filter runs once: the ids are streamed into a compact array (8 bytes an id: 8 MB for a
    million), then written ``batch_size`` at a time, each batch committing on its own. Running the
    filter once matters: a full-text match re-evaluated for every batch would make the whole
    operation quadratic.
    """
    unread = unread_condition(user)
    changing = queryset.filter(unread) if is_read else queryset.exclude(unread)
    matching = changing.order_by().values_list("pk", flat=True).iterator(chunk_size=batch_size)
    return _write(user=user, ids=array("q", matching), is_read=is_read, using=queryset.db, batch_size=batch_size)


def _id_array(message_ids: Iterable[int]) -> array:
    ids = {int(pk) for pk in message_ids}
    return array("q", sorted(pk for pk in ids if 0 < pk < 2**63))  # others name no message


def _write(*, user, ids: array, is_read: bool, using: str, batch_size: int = BATCH_SIZE) -> int:
    total = 0
    for start in range(0, len(ids), batch_size):
        total += _upsert(user=user, ids=ids[start : start + batch_size], is_read=is_read, using=using)
    return total


def _upsert(*, user, ids: array, is_read: bool, using: str) -> int:
    """One statement: a mark for each of ``ids`` that names a message. Returns rows written."""
    connection = connections[using]
    id_rows, ids_param = platform_sql.id_rows(connection, ids.tolist())
    qn = connection.ops.quote_name
    column = {f.name: qn(f.column) for f in MessageMark._meta.concrete_fields}
    sql = (
        f"INSERT INTO {qn(MessageMark._meta.db_table)} "
        f"({column['user']}, {column['message']}, {column['is_read']}, {column['marked_at']}) "
        f"SELECT %s, m.{qn(CoworkerMessage._meta.pk.column)}, %s, %s "
        f"FROM {qn(CoworkerMessage._meta.db_table)} m "
        # Only ids that name a message (the foreign key); the WHERE also settles SQLite's parsing
        # ambiguity between a join's ON and ON CONFLICT.
        f"WHERE m.{qn(CoworkerMessage._meta.pk.column)} IN ({id_rows}) "
        f"ON CONFLICT ({column['user']}, {column['message']}) DO UPDATE SET "
        f"{column['is_read']} = excluded.{column['is_read']}, "
        f"{column['marked_at']} = excluded.{column['marked_at']}"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, is_read, now, ids_param])
        return max(cursor.rowcount, 0)
