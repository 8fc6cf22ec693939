"""Rows into their table: insert, or update the ones whose Id exists, in one go, however many.

The rows come ready (the sync's ``inbox.sync.upsert.apply_prepared`` decided which changed): a
tuple per row, a value per column in the table's order. Each database gets the cheapest way it
offers, because Django's ``bulk_create(update_conflicts=True)`` cost more of the sync's own CPU
than everything else it does to a record: applying 20,000 new messages to PostgreSQL took 111 µs
of Python a record through ``bulk_create`` (building model instances, compiling and quoting a
statement of 25,000 values), 28 µs with the COPY below (cleaning each record and rendering its body
as text included); on SQLite ``executemany`` took a sixth off the time of the whole apply.

- PostgreSQL: the rows go in with binary ``COPY`` into a temporary table, then one
  ``INSERT ... SELECT ... ON CONFLICT (id) DO UPDATE`` moves them into the table (the fastest
  bulk path there is: https://www.postgresql.org/docs/current/populate.html#POPULATE-COPY-FROM;
  psycopg formats the rows in C: https://www.psycopg.org/psycopg3/docs/basic/copy.html);
- SQLite: one prepared ``INSERT ... ON CONFLICT (id) DO UPDATE`` for all the rows, run by the
  driver's ``executemany`` (a loop in C, no statement text per row).

Both are the same upsert ``bulk_create`` issued (an update fires the same UPDATE triggers: the
full-text index and the tally stay in step), with the values adapted as Django adapts them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from .sql import is_postgresql

#: Fields whose cleaned Python value (str, int, bool or None) both drivers take as it is;
#: any other field is adapted by Django's own ``get_db_prep_save``.
_TAKEN_AS_IS = (models.CharField, models.TextField, models.BooleanField, models.IntegerField)


def upsert_rows(model: type[models.Model], fields: Sequence[models.Field],
                update_fields: Sequence[models.Field], rows: list[tuple]) -> None:
    """Insert ``rows`` (values in ``fields`` order) into ``model``'s table; existing Ids get ``update_fields``.

    Ids must be unique within ``rows`` (an upsert cannot touch one row twice).
    """
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    if is_postgresql(connection):
        _copy_then_insert(connection, model, fields, update_fields, rows)
    else:
        _executemany(connection, model, fields, update_fields, rows)


def _on_conflict(connection: BaseDatabaseWrapper, model: type[models.Model],
                 update_fields: Sequence[models.Field]) -> str:
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(f.column)} = EXCLUDED.{qn(f.column)}" for f in update_fields)
    return f"ON CONFLICT ({qn(model._meta.pk.column)}) DO UPDATE SET {assignments}"


def _copy_then_insert(connection: BaseDatabaseWrapper, model: type[models.Model], fields: Sequence[models.Field],
                      update_fields: Sequence[models.Field], rows: list[tuple]) -> None:
    qn = connection.ops.quote_name
    table = model._meta.db_table
    # One per table and session, made on first use (and again if a rollback took it away). Its
    # rows are gone at commit, and the INSERT takes them out as it reads them (DELETE ...
    # RETURNING), so a page applied inside a longer transaction (a test's) never sees another's.
    staging = qn(f"sync_rows_{table}")
    columns = ", ".join(qn(f.column) for f in fields)
    # COPY, then INSERT: both or neither (outside a transaction, each would commit on its own,
    # and the commit after the COPY would empty the staging table).
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS "
            f"AS SELECT {columns} FROM {qn(table)} WITH NO DATA"
        )
        # The driver's own cursor: Django's wrapper has no COPY.
        with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([_copy_type(connection, f) for f in fields])
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"WITH incoming AS (DELETE FROM {staging} RETURNING {columns}) "
            f"INSERT INTO {qn(table)} ({columns}) SELECT {columns} FROM incoming "
            + _on_conflict(connection, model, update_fields)
        )


def _copy_type(connection: BaseDatabaseWrapper, field: models.Field) -> str:
    """The type name binary COPY writes a value as: the column's, without a length ("varchar(255)")."""
    return re.sub(r"\(.*\)", "", field.db_type(connection) or "").strip()


def _executemany(connection: BaseDatabaseWrapper, model: type[models.Model], fields: Sequence[models.Field],
                 update_fields: Sequence[models.Field], rows: list[tuple]) -> None:
    qn = connection.ops.quote_name
    adapters = [(i, _adapter(connection, f)) for i, f in enumerate(fields) if not isinstance(f, _TAKEN_AS_IS)]
    if adapters:
        adapted = []
        for row in rows:
            values = list(row)
            for i, adapt in adapters:
                values[i] = adapt(values[i])
            adapted.append(values)
        rows = adapted
    placeholders = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({placeholders}) " + _on_conflict(connection, model, update_fields)
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _adapter(connection: BaseDatabaseWrapper, field: models.Field) -> Callable[[Any], Any]:
    """The value as Django's ``bulk_create`` sends it (an aware datetime: UTC text on SQLite)."""
    return lambda value: field.get_db_prep_save(value, connection)
