"""A time budget for a block of statements, as each database enforces one.

Whatever a statement does, it gives up after its budget instead of holding a database connection
(and everyone's pages) for seconds: PostgreSQL cancels the statement (statement_timeout,
https://www.postgresql.org/docs/current/runtime-config-client.html), SQLite is interrupted from
its progress handler (https://www.sqlite.org/c3ref/progress_handler.html).
"""

from __future__ import annotations

import contextlib
import time

from django.db import OperationalError, connections, transaction

from inbox.platform.sql import is_postgresql


class TimedOut(Exception):
    """A statement ran past the time budget and was stopped."""


_PROGRESS_STEPS = 20_000  # SQLite virtual-machine steps between two looks at the clock (~1 ms)


@contextlib.contextmanager
def time_budget(*, alias: str, milliseconds: int):
    """Stop the block's statements after ``milliseconds`` (:class:`TimedOut`); the connection is
    usable again at once."""
    connection = connections[alias]
    if is_postgresql(connection):
        try:
            with transaction.atomic(using=alias):
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL statement_timeout = {int(milliseconds)}")
                yield
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) == "57014":  # query_canceled
                raise TimedOut() from exc
            raise
        return
    connection.ensure_connection()
    raw = connection.connection
    deadline = time.monotonic() + milliseconds / 1000
    raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, _PROGRESS_STEPS)
    try:
        yield
    except OperationalError as exc:
        if "interrupted" in str(exc):
            raise TimedOut() from exc
        raise
    finally:
        raw.set_progress_handler(None, 0)
