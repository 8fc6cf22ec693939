"""CSV exports: the inbox view's messages, and the mail accounts' health.

Both are iterators of ``bytes`` for a ``StreamingHttpResponse`` (or a file): rows come from a
database iterator of plain tuples (``values_list(...).iterator(chunk_size=...)``, no model per row;
keyset batches where server-side cursors are off) and leave in chunks of about ``CHUNK_BYTES``, so
memory stays flat however many rows there are (``ExportRead``: how the connection is held).

The messages are exactly the inbox's: the same selector (``inbox.selectors.message_list``) with the
same filters (``inbox.forms.InboxFilterForm``), in the same order. Nothing here filters or sorts.

Spreadsheet safety (https://owasp.org/www-community/attacks/CSV_Injection):

* a *text* cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or the
  full-width ``＝ ＋ － ＠``, which some spreadsheets also read as formula starters) gets a leading
  apostrophe, so it is read as text. Text columns are always text: a subject ``-5 apples`` or a
  customer ``+44 20 ...`` is prefixed like ``=HYPERLINK(...)``;
* *numeric* columns (ids) are written from Python ``int`` values and never prefixed, so they stay
  numbers. A numeric column never holds text: its values come straight from integer columns;
* control characters other than tab, line feed and carriage return (NUL above all) are dropped;
  line breaks inside a body stay, inside an RFC 4180 quoted cell;
* UTF-8 with a byte-order mark, so Excel reads non-Latin text; ``\\r\\n`` line ends and minimal
  quoting as RFC 4180 has it (https://www.rfc-editor.org/rfc/rfc4180), byte for byte what
  ``csv.writer(lineterminator="\\r\\n")`` writes (``csv_field``: tested against it on any input).

Times are ISO 8601 with their offset, to the second, in ``HELPDESK_TIME_ZONE`` (UTC when unset).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Case, CharField, F, Func, Value, When
from django.utils import timezone
from django.utils.text import slugify

from inbox.accounts.selectors import accounts_overview
from inbox.forms import InboxFilterForm
from inbox.models import CoworkerMessage
from inbox.selectors import DEFAULT_ACCOUNT_LABEL, Cursor, message_list, older_than

BOM = "\ufeff".encode()
CHUNK_BYTES = 64 * 1024
DB_CHUNK_SIZE = 2000
EXPORT_SQLITE_CACHE_KIB = 2000

FORMULA_STARTERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
# C0 controls except tab, LF and CR, and DEL: they carry no text and break some readers (NUL).
CONTROL_CHARS = "".join(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))
_CONTROL_BYTES = CONTROL_CHARS.encode("ascii")
_RISKY_FIRST = FORMULA_STARTERS | frozenset(CONTROL_CHARS)


# --- Cells ----------------------------------------------------------------------------------------
# Per row and cell as little Python as possible (a million rows a run): the writer drops control
# characters from whole chunks at once, so a cell only needs its first character looked at.


def text_cell(value: str | None) -> str:
    """A text cell a spreadsheet shows as text: a formula starter gets an apostrophe in front.

    Starters hidden behind control characters count (``"\x00=1"``): the writer drops those.
    """
    if not value:
        return ""
    if value[0] in _RISKY_FIRST and value.lstrip(CONTROL_CHARS)[:1] in FORMULA_STARTERS:
        return "'" + value
    return value


def number_cell(value: int | None) -> int | str:
    """A numeric cell: the integer itself (never prefixed), or empty."""
    return "" if value is None else int(value)


def export_timezone() -> dt.tzinfo:
    name = getattr(settings, "HELPDESK_TIME_ZONE", None)
    return ZoneInfo(name) if name else dt.UTC


def time_cell(value: dt.datetime | None, tz: dt.tzinfo) -> str:
    """ISO 8601 with offset, to the second (``2026-11-21T09:30:00+00:00``), or empty."""
    if value is None:
        return ""
    if timezone.is_naive(value):  # never from an aware mirror, but don't guess an offset silently
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz).isoformat(timespec="seconds")


class IsoUtc(Func):
    """A datetime column as ``time_cell`` writes it in UTC, formatted by the database: it saves
    parsing and formatting two datetimes a row in Python (a third of the export's time)."""

    output_field = CharField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra):
        # %% twice: once for this template, once for Django's SQLite parameter substitution.
        template = "strftime('%%%%Y-%%%%m-%%%%dT%%%%H:%%%%M:%%%%S+00:00', %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')"
        return self.as_sql(compiler, connection, template=template, **extra)


def yes_no(value: object) -> str:
    return "yes" if value else "no"


# --- Writing --------------------------------------------------------------------------------------


def csv_field(value: object) -> str:
    """One cell as RFC 4180 has it, exactly as ``csv.writer(f, lineterminator="\\r\\n")`` (the
    excel dialect, ``QUOTE_MINIMAL``) writes it: quoted when it holds a comma, a double quote or a
    line break, quotes doubled; ``None`` empty. tests/test_export.py checks the two agree on any
    input. Hand-written because the stdlib's writer looks at each character with a function call
    (CPython's ``join_append_data``): 6 µs a row against 2 here, the largest cost of an export.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def csv_line(cells: Sequence[object]) -> str:
    """One row, with its ``\\r\\n``. (A row of one empty cell is ``""``, as the csv module writes it,
    so that it is not read back as a blank line.)"""
    if len(cells) == 1 and (cells[0] is None or cells[0] == ""):
        return '""\r\n'
    return ",".join(map(csv_field, cells)) + "\r\n"


def stream_csv(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    chunk_bytes: int = CHUNK_BYTES,
    progress: Callable[[int], object] | None = None,
) -> Iterator[bytes]:
    """The BOM, the header and the rows as RFC 4180 CSV, in chunks of about ``chunk_bytes``."""
    return stream_lines(csv_line(header), map(csv_line, rows), chunk_bytes=chunk_bytes, progress=progress)


def stream_lines(
    header: str,
    lines: Iterable[str],
    *,
    chunk_bytes: int = CHUNK_BYTES,
    progress: Callable[[int], object] | None = None,
) -> Iterator[bytes]:
    """The BOM, then CSV lines joined into chunks of about ``chunk_bytes`` (characters).

    ``progress(n)`` is called with the number of rows in each chunk as it leaves.
    """
    parts, size, pending, first = [header], len(header), 0, True
    for line in lines:
        parts.append(line)
        size += len(line)
        pending += 1
        if size >= chunk_bytes:
            yield _encode("".join(parts), bom=first)
            parts, size, first = [], 0, False
            if progress is not None:
                progress(pending)
            pending = 0
    yield _encode("".join(parts), bom=first)
    if progress is not None and pending:
        progress(pending)


def _encode(text: str, *, bom: bool) -> bytes:
    # "replace": a lone surrogate must not abort an export half-way through the download.
    # Control characters go from the bytes: quoting never depends on them, so this drops them from
    # every cell; and in UTF-8 these bytes never occur inside another character's encoding.
    data = text.encode("utf-8", errors="replace").translate(None, _CONTROL_BYTES)
    return BOM + data if bom else data


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


def account_label(account_id: int | None, name: str | None, address: str | None) -> str:
    """The mail account as the inbox's rows name it (``inbox_list.account_label``)."""
    if account_id is None:
        return DEFAULT_ACCOUNT_LABEL
    return name or address or f"Account {account_id}"


def text_field(value: str | None) -> str:
    """``csv_field(text_cell(value))`` in one call: the per-cell work of the messages export."""
    if not value:
        return ""
    if value[0] in _RISKY_FIRST and value.lstrip(CONTROL_CHARS)[:1] in FORMULA_STARTERS:
        value = "'" + value
    if '"' in value:
        return '"' + value.replace('"', '""') + '"'
    if "," in value or "\n" in value or "\r" in value:
        return '"' + value + '"'
    return value


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
    reading = ExportRead(connection, keyset=keyset)
    try:
        values = _started(keyset_values(qs) if keyset else qs.iterator(chunk_size=DB_CHUNK_SIZE))
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


def server_side_cursors(connection) -> bool:
    """Whether ``.iterator()`` streams from the database. SQLite: always (``fetchmany``).
    PostgreSQL: not with DISABLE_SERVER_SIDE_CURSORS (set behind PgBouncer's transaction
    pooling, DESIGN.md traps): psycopg would then fetch the whole result into memory at once."""
    if connection.vendor == "postgresql":
        return not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    return True


def keyset_values(qs, *, size: int | None = None) -> Iterator[tuple]:
    """The rows of a newest-first ``message_values(keyset=True)`` queryset, ``size`` at a time,
    each batch a short query after the last row by the inbox's own keyset (``older_than``)."""
    size = size or DB_CHUNK_SIZE
    after = None
    while True:
        batch = list((older_than(qs, after) if after else qs)[:size])
        yield from batch
        if len(batch) < size:
            return
        after = Cursor(created_on=batch[-1][-1], id=batch[-1][0])


class ExportRead:
    """How an export holds its database connection while it streams; ``end()`` undoes it.

    * SQLite: a small page cache. The settings give each connection 64 MB, good for the inbox's
      random reads; an export reads everything once in index order and gains nothing from it
      (measured: the same speed with 2 MB), while every thread's connection would keep 64 MB
      more after an export.
    * PostgreSQL with server-side cursors: a transaction. Outside one, Django declares the cursor
      ``WITH HOLD`` and PostgreSQL computes the whole result before the first row (12 s and a
      450 MB temporary file for a million rows here); inside one, rows stream at once. Without
      JIT compilation, for this transaction only.
    """

    def __init__(self, connection, *, keyset: bool = False):
        self.connection = connection
        self._cache_size: int | None = None
        self._atomic = None
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size")
                self._cache_size = int(cursor.fetchone()[0])
                cursor.execute(f"PRAGMA cache_size = -{EXPORT_SQLITE_CACHE_KIB}")
        elif connection.vendor == "postgresql" and not keyset:
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


def message_filename(filters, *, today: dt.date | None = None) -> str:
    """What the file holds and when: ``messages-unread-incoming-2026-11-21.csv``.

    Only ``[a-z0-9.-]``: safe in a ``Content-Disposition`` header and on every file system.
    """
    parts = []
    if filters.unread:
        parts.append("unread")
    if filters.direction:
        parts.append(filters.direction)
    if filters.account == "none":
        parts.append("account-none")
    elif filters.account is not None:
        parts.append(f"account-{int(filters.account)}")
    if filters.customer is not None:
        parts.append(f"customer-{int(filters.customer)}")
    if filters.q and filters.q.strip():
        words = slugify(filters.q)[:40].strip("-")
        parts.append(f"search-{words}" if words else "search")
    if filters.since:
        parts.append(f"since-{filters.since:%Y-%m-%d}")
    if filters.until:
        parts.append(f"until-{filters.until:%Y-%m-%d}")
    return _filename("messages", parts or ["all"], today)


def _filename(prefix: str, parts: list[str], today: dt.date | None) -> str:
    today = today or timezone.now().astimezone(export_timezone()).date()
    return "-".join([prefix, *parts, today.isoformat()]) + ".csv"


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


def invalid_filters_text(form) -> str:
    """A plain-text explanation of why an export was refused, naming each bad parameter."""
    lines = ["No export was made: these filters are not valid.", ""]
    for name, errors in form.errors.items():
        value = str(form.data.get(name, ""))
        shown = f"{name}={value[:60]}{'…' if len(value) > 60 else ''}" if name != "__all__" else "filters"
        for error in errors:
            lines.append(f"  {shown}: {plain_error(error)}")
    lines += ["", "Correct or remove them (the inbox shows the same filters) and export again."]
    return "\n".join(lines) + "\n"


def plain_error(message: str) -> str:
    """The form's message without the page's "— ignored" clause: an export is refused instead."""
    return _IGNORED_CLAUSE.sub("", str(message)).rstrip(".") + "."


# --- Mail accounts --------------------------------------------------------------------------------
# The accounts page's rows (``inbox.accounts.selectors.accounts_overview``: the same health rules,
# the same order, worst first by location), with what the page shows. An account has no token
# field at all (the mirror keeps only "is one set"), and these columns name every value written.

ACCOUNT_HEADER = (
    "Id",
    "Account",
    "EmailAddress",
    "Location",
    "Status",
    "Reasons",
    "FailingSince",
    "Active",
    "LastCheckTime",
    "ErrorCount",
    "IncomingServer",
    "IncomingServerPort",
    "IncomingServerSSL",
    "OutgoingServer",
    "OutgoingServerPort",
    "OutgoingServerSSL",
    "Connections",
    "Received7Days",
    "Received30Days",
    "Sent7Days",
    "Sent30Days",
    "LastReceivedOn",
    "LastReceivedMessageId",
    "LastReceivedSubject",
    "UpdatedOn",
)


def _flag(value: bool | None) -> str:
    return "" if value is None else yes_no(value)


def account_row(row, tz: dt.tzinfo) -> tuple:
    """One ``AccountRow`` of the accounts page as the cells of ``ACCOUNT_HEADER``."""
    account, health, stats = row.account, row.health, row.stats
    last = stats.last_received
    return (
        account.pk,
        text_cell(account.display_name),
        text_cell(account.email_address),
        text_cell(row.location),
        health.status.value,
        text_cell("; ".join(reason.text for reason in health.reasons)),
        time_cell(row.incident.opened_at if row.incident else None, tz),
        _flag(account.active),
        time_cell(account.last_check_time, tz),
        number_cell(account.error_count),
        text_cell(account.incoming_server),
        number_cell(account.incoming_server_port),
        _flag(account.incoming_server_ssl),
        text_cell(account.outgoing_server),
        number_cell(account.outgoing_server_port),
        _flag(account.outgoing_server_ssl),
        text_cell("; ".join(row.connections)),
        stats.received_7,
        stats.received_30,
        stats.sent_7,
        stats.sent_30,
        time_cell(stats.last_received_at, tz),
        number_cell(last.pk if last else None),
        text_cell(last.subject if last else None),
        time_cell(account.updated_on, tz),
    )


def account_rows(*, now: dt.datetime | None = None) -> list:
    """The live accounts' rows, in the page's order (a few hundred at most: read at once)."""
    overview = accounts_overview(now=now or timezone.now())
    return [row for group in overview.groups for row in group.rows]


def account_csv(*, now: dt.datetime | None = None) -> Iterator[bytes]:
    tz = export_timezone()
    rows = account_rows(now=now)  # before the first byte: a failure is an error page, not half a file
    return stream_csv(ACCOUNT_HEADER, (account_row(r, tz) for r in rows))


def account_filename(*, today: dt.date | None = None) -> str:
    return _filename("accounts", ["health"], today)
