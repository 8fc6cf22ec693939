"""The messages export: the inbox view's messages as CSV, every page of it, streamed.

An iterator of ``bytes`` for a ``StreamingHttpResponse`` (or a file, ``manage.py export_messages``):
rows come from a database iterator of plain tuples (``values_list(...).iterator(chunk_size=...)``,
no model per row; keyset batches where server-side cursors are off) and leave in chunks of about
``CHUNK_BYTES``, so memory stays flat however many rows there are (how each database is read so:
``inbox.platform.streaming``). Cells and the writer: ``inbox.exports.cells``.

The messages are exactly the inbox's: the same selector (``inbox.mailbox.selectors.message_list``) with the
same filters (``inbox.mailbox.filters.InboxFilterForm``), in the same order. Nothing here filters or sorts.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator

from django.db import connections, router
from django.db.models import Case, F, Value, When

from inbox.exports.cells import (
    csv_line,
    dated_filename,
    export_timezone,
    stream_lines,
    text_cell,
    text_field,
    time_cell,
)
from inbox.mailbox.filters import InboxFilterForm
from inbox.models import CoworkerMessage
from inbox.mailbox.cursor import Cursor
from inbox.mailbox.labels import account_label
from inbox.mailbox.selectors import after, message_list
from inbox.platform.streaming import IsoUtc, StreamingRead, server_side_cursors

DB_CHUNK_SIZE = 2000
# SQLite's page cache while an export streams (``StreamingRead``): it reads everything once, in
# index order, as fast with 2 MB as with the 64 MB the settings give the inbox's random reads.
EXPORT_SQLITE_CACHE_KIB = 2000


# --- Messages -------------------------------------------------------------------------------------

MESSAGE_HEADER = (
    "Id",
    "CreatedOn",
    "UpdatedOn",
    "Direction",
    "Unread",
    "CoworkerId",
    "Customer",
    "CustomerEmail",
    "Company",
    "EmailAccountId",
    "EmailAccount",
    "Subject",
    "Body",
)
# Only the columns the CSV needs, in the order ``message_row`` reads them. Direction and Unread
# come out of the database as their words, and times as ISO text when they are written in UTC:
# no value needs converting in Python, so the rows come straight from the database cursor.
MESSAGE_FIELDS = (
    "id",
    "export_created_on",
    "export_updated_on",
    "export_direction",
    "export_unread",
    "coworker_id",
    "coworker_full_name",
    "coworker_billing_name",
    "coworker_email",
    "coworker_company_name",
    "email_account_id",
    "email_account_display_name",
    "email_account_email_address",
    "subject",
    "body_text",
)


def message_row(v: tuple) -> tuple:
    """One ``MESSAGE_FIELDS`` tuple (times already text) as the cells of ``MESSAGE_HEADER``."""
    return (
        v[0],
        v[1],
        v[2],
        v[3],
        v[4],
        v[5],
        text_cell(v[6] or v[7]),
        text_cell(v[8]),
        text_cell(v[9]),
        v[10],
        text_cell(account_label(v[10], v[11], v[12])),
        text_cell(v[13]),
        text_cell(v[14]),
    )


def message_line(v: tuple) -> str:
    """``csv_line(message_row(v))``, fast: ids are integers, the times, direction and unread are
    database-made words that never need quoting, the rest is text (tests check all three agree)."""
    return ",".join(
        (
            str(v[0]),
            v[1] or "",
            v[2] or "",
            v[3],
            v[4],
            "" if v[5] is None else str(v[5]),
            text_field(v[6] or v[7]),
            text_field(v[8]),
            text_field(v[9]),
            "" if v[10] is None else str(v[10]),
            text_field(account_label(v[10], v[11], v[12])),
            text_field(v[13]),
            text_field(v[14]),
        )
    ) + "\r\n"


def message_values(*, user, filters, sql_times: bool = True, keyset: bool = False):
    """The inbox's queryset for ``user`` and ``filters`` as ``MESSAGE_FIELDS`` tuples.

    ``sql_times``: the times as UTC ISO text from the database; else as datetimes.
    ``keyset``: ``created_on`` appended to each tuple, to page by the inbox's keyset.
    """
    qs = message_list(user=user, filters=filters).annotate(
        export_direction=Case(When(incoming=True, then=Value("incoming")), default=Value("outgoing")),
        export_unread=Case(When(is_unread=True, then=Value("yes")), default=Value("no")),
    )
    if sql_times:
        qs = qs.annotate(export_created_on=IsoUtc("created_on"), export_updated_on=IsoUtc("updated_on"))
    else:
        qs = qs.annotate(export_created_on=F("created_on"), export_updated_on=F("updated_on"))
    return qs.values_list(*MESSAGE_FIELDS, *(["created_on"] if keyset else []))


def message_csv(
    *, user, filters, progress: Callable[[int], object] | None = None
) -> ClosingStream:
    """Every message of the inbox view (``user``, ``filters``) as CSV bytes, streamed.

    The query runs before this returns (a database error is an error response, not half a file).
    Close the result if it is not read to the end (a streaming response does).
    """
    tz = export_timezone()
    in_utc = tz is dt.UTC or getattr(tz, "key", None) in ("UTC", "Etc/UTC")
    connection = connections[router.db_for_read(CoworkerMessage)]
    keyset = not server_side_cursors(connection)
    qs = message_values(user=user, filters=filters, sql_times=in_utc, keyset=keyset)
    reading = StreamingRead(connection, keyset=keyset, sqlite_cache_kib=EXPORT_SQLITE_CACHE_KIB)
    try:
        values = _started(
        keyset_values(qs, oldest_first=filters.oldest_first) if keyset else qs.iterator(chunk_size=DB_CHUNK_SIZE)
    )
    except BaseException as exc:
        reading.end(exc)
        raise
    if not in_utc:
        values = ((v[0], time_cell(v[1], tz), time_cell(v[2], tz), *v[3:]) for v in values)
    lines = map(message_line, values)
    return ClosingStream(stream_lines(csv_line(MESSAGE_HEADER), lines, progress=progress), reading.end)


def _started(iterator: Iterator) -> Iterator:
    """Run the query now, not at the first chunk: a database error then becomes an error
    response instead of a download that stops half-way with a 200 already sent."""
    try:
        first = next(iterator)
    except StopIteration:
        return iter(())
    return itertools.chain((first,), iterator)


# --- Reading a million rows -----------------------------------------------------------------------


def keyset_values(qs, *, size: int | None = None, oldest_first: bool = False) -> Iterator[tuple]:
    """The rows of a ``message_values(keyset=True)`` queryset in the view's order, ``size`` at a
    time, each batch a short query after the last row by the inbox's own keyset (``after``)."""
    size = size or DB_CHUNK_SIZE
    last = None
    while True:
        batch = list((after(qs, last, oldest_first=oldest_first) if last else qs)[:size])
        yield from batch
        if len(batch) < size:
            return
        last = Cursor(created_on=batch[-1][-1], id=batch[-1][0])


class ClosingStream:
    """Chunks that run ``on_close`` once: at their end, or when closed early. Django closes a
    streaming response's content when the response is closed (also when the client went away)."""

    def __init__(self, chunks: Iterator[bytes], on_close: Callable[[BaseException | None], None]):
        self._chunks, self._on_close, self._closed = chunks, on_close, False

    def __iter__(self) -> ClosingStream:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            self.close()
            raise
        except BaseException as exc:
            self.close(exc)
            raise

    def close(self, error: BaseException | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._chunks.close()  # closes the database cursor first
        finally:
            self._on_close(error)


# --- The file's name ------------------------------------------------------------------------------


def message_filename(filters, *, today: dt.date | None = None) -> str:
    """What the file holds and when: ``messages-unread-incoming-2026-11-21.csv`` (each filter that
    is set names itself: ``InboxFilters.filename_parts``).

    Only ``[a-z0-9.-]``: safe in a ``Content-Disposition`` header and on every file system.
    """
    return dated_filename("messages", filters.filename_parts() or ["all"], today)


# --- Filters: exactly the inbox's form ------------------------------------------------------------

# The inbox's paging cursor: the export is the whole view, never one page of it.
IGNORED_PARAMETERS = ("after",)
# The page says "... — ignored." of a bad filter; an export is refused instead, so that clause goes.
_IGNORED_CLAUSE = re.compile(r"\s+—[^—]*$")


def filter_form(params):
    """The inbox's filter form bound to ``params`` (a QueryDict or a dict), paging cursor left out."""
    data = params.copy()
    for name in IGNORED_PARAMETERS:
        data.pop(name, None)
    return InboxFilterForm(data)


def refused_filters(form) -> list[tuple[str, str]]:
    """Why an export was refused: each bad parameter as typed ("since=2026-13-01", cut short) with
    what is wrong with it, for the plain-text answer and the page alike."""
    refused = []
    for name, errors in form.errors.items():
        value = str(form.data.get(name, ""))
        shown = f"{name}={value[:60]}{'…' if len(value) > 60 else ''}" if name != "__all__" else "filters"
        refused += [(shown, plain_error(error)) for error in errors]
    return refused


def invalid_filters_text(form) -> str:
    """A plain-text explanation of why an export was refused, naming each bad parameter."""
    lines = ["No export was made: these filters are not valid.", ""]
    lines += [f"  {shown}: {error}" for shown, error in refused_filters(form)]
    lines += ["", "Correct or remove them (the inbox shows the same filters) and export again."]
    return "\n".join(lines) + "\n"


def plain_error(message: str) -> str:
    """The form's message without the page's "— ignored" clause: an export is refused instead."""
    return _IGNORED_CLAUSE.sub("", str(message)).rstrip(".") + "."

