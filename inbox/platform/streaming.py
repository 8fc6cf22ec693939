"""Many rows out of the database and into it, the way each vendor does it fastest.

Out (the CSV exports): ``server_side_cursors`` says whether ``QuerySet.iterator()`` streams,
``StreamingRead`` holds the connection the way that lets it stream, ``IsoUtc`` has the database
write a datetime column as text. In (the sandbox's generated data): ``insert_rows`` writes plain
tuples with ``COPY`` on PostgreSQL, ``executemany`` on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import CharField, Func, Model

from inbox.platform.sql import is_postgresql, is_sqlite


class IsoUtc(Func):
    """A datetime column as ISO 8601 text in UTC, to the second (``2026-11-21T09:30:00+00:00``),
    formatted by the database: it saves parsing and formatting the datetime in Python."""

    output_field = CharField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra):
        # %% twice: once for this template, once for Django's SQLite parameter substitution.
        template = "strftime('%%%%Y-%%%%m-%%%%dT%%%%H:%%%%M:%%%%S+00:00', %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')"
        return self.as_sql(compiler, connection, template=template, **extra)


def server_side_cursors(connection: BaseDatabaseWrapper) -> bool:
    """Whether ``.iterator()`` streams from the database. SQLite: always (``fetchmany``).
    PostgreSQL: not with DISABLE_SERVER_SIDE_CURSORS (set behind PgBouncer's transaction pooling,
    https://docs.djangoproject.com/en/5.2/ref/databases/#transaction-pooling-and-server-side-cursors):
    psycopg would then fetch the whole result into memory at once."""
    if is_postgresql(connection):
        return not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    return True


class StreamingRead:
    """How a long read holds its database connection while it streams; ``end()`` undoes it.

    * SQLite: a page cache of ``sqlite_cache_kib``. The settings give each connection 64 MB, good
      for the inbox's random reads; a read of everything once in index order gains nothing from
      it (measured for the export: the same speed with 2 MB), while every thread's connection
      would keep 64 MB more after it.
    * PostgreSQL with server-side cursors (``keyset`` False): a transaction. Outside one, Django
      declares the cursor ``WITH HOLD`` and PostgreSQL computes the whole result before the first
      row (12 s and a 450 MB temporary file for a million rows here); inside one, rows stream at
      once. Without JIT compilation, for this transaction only.
    """

    def __init__(self, connection: BaseDatabaseWrapper, *, keyset: bool = False, sqlite_cache_kib: int):
        self.connection = connection
        self._cache_size: int | None = None
        self._atomic = None
        if is_sqlite(connection):
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size")
                self._cache_size = int(cursor.fetchone()[0])
                cursor.execute(f"PRAGMA cache_size = -{int(sqlite_cache_kib)}")
        elif is_postgresql(connection) and not keyset:
            if not connection.in_atomic_block:
                self._atomic = transaction.atomic(using=connection.alias)
                self._atomic.__enter__()
            with connection.cursor() as cursor:
                # JIT-compiling the export's query took 0.15-0.4 s here and gained nothing: the
                # rows' way out, not the query, is the work. LOCAL: until this transaction ends.
                cursor.execute("SET LOCAL jit = off")

    def end(self, error: BaseException | None = None) -> None:
        atomic, self._atomic = self._atomic, None
        if atomic is not None:
            # Nothing was written: commit or roll back, the transaction only held the cursor.
            if error is None or isinstance(error, GeneratorExit):
                atomic.__exit__(None, None, None)
            else:
                atomic.__exit__(type(error), error, error.__traceback__)
        size, self._cache_size = self._cache_size, None
        if size is not None:
            with self.connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {size}")


def insert_rows(
    connection: BaseDatabaseWrapper,
    model: type[Model],
    columns: list[str],
    rows: Iterable[tuple],
    *,
    batch_size: int = 5000,
) -> int:
    """Write ``rows`` (tuples of ``columns``' values) into ``model``'s table in one transaction:
    ``COPY`` on PostgreSQL, ``executemany`` in batches of ``batch_size`` on SQLite. Building model
    instances would cost more than the insert itself. Returns how many rows were written."""
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(c) for c in columns)
    written = 0
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if is_postgresql(connection):
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
            return written
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        fields = [model._meta.get_field(c) for c in columns]
        datetimes = [i for i, f in enumerate(fields) if f.get_internal_type() == "DateTimeField"]
        batch = []
        for row in rows:
            row = list(row)
            for i in datetimes:
                row[i] = ops.adapt_datetimefield_value(row[i])
            batch.append(row)
            if len(batch) >= batch_size:
                cursor.executemany(sql, batch)
                written += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written
