"""CSV exports: the inbox view's messages, and the mail accounts' health.

Both are generators of ``bytes`` for a ``StreamingHttpResponse`` (or a file): rows come from a
database iterator of plain tuples (``values_list(...).iterator(chunk_size=...)``, no model per row)
and leave in chunks of about ``CHUNK_BYTES``, so memory stays flat however many rows there are.

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
  quoting as RFC 4180 has it (https://www.rfc-editor.org/rfc/rfc4180).

Times are ISO 8601 with their offset, to the second, in ``HELPDESK_TIME_ZONE`` (UTC when unset).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify

BOM = "\ufeff".encode()
CHUNK_BYTES = 64 * 1024
DB_CHUNK_SIZE = 2000

FORMULA_STARTERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
# C0 controls except tab, LF and CR, and DEL: they carry no text and break some readers (NUL).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- Cells ----------------------------------------------------------------------------------------


def text_cell(value: object) -> str:
    """A text cell a spreadsheet shows as text: controls dropped, formula starters defused."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    if text and text[0] in FORMULA_STARTERS:
        return "'" + text
    return text


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


def yes_no(value: object) -> str:
    return "yes" if value else "no"


# --- Writing --------------------------------------------------------------------------------------


def stream_csv(
    header: Iterable[str],
    rows: Iterable[Iterable[object]],
    *,
    chunk_bytes: int = CHUNK_BYTES,
    progress: Callable[[int], object] | None = None,
) -> Iterator[bytes]:
    """The BOM, the header and the rows as RFC 4180 CSV, in chunks of about ``chunk_bytes``.

    ``progress(n)`` is called with the number of rows in each chunk as it leaves.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    first = True
    pending = 0
    for row in rows:
        writer.writerow(row)
        pending += 1
        if buffer.tell() >= chunk_bytes:
            yield _take(buffer, bom=first)
            first = False
            if progress is not None:
                progress(pending)
            pending = 0
    yield _take(buffer, bom=first)
    if progress is not None and pending:
        progress(pending)


def _take(buffer: io.StringIO, *, bom: bool) -> bytes:
    # "replace": a lone surrogate must not abort an export half-way through the download.
    data = buffer.getvalue().encode("utf-8", errors="replace")
    buffer.seek(0)
    buffer.truncate()
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
# Only the columns the CSV needs, in the order ``message_row`` unpacks them.
MESSAGE_FIELDS = (
    "id",
    "created_on",
    "updated_on",
    "incoming",
    "is_unread",
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


def message_row(values: tuple, tz: dt.tzinfo) -> tuple:
    """One ``MESSAGE_FIELDS`` tuple as the cells of ``MESSAGE_HEADER``."""
    (
        id_,
        created_on,
        updated_on,
        incoming,
        is_unread,
        coworker_id,
        full_name,
        billing_name,
        email,
        company,
        account_id,
        account_name,
        account_address,
        subject,
        body_text,
    ) = values
    return (
        id_,
        time_cell(created_on, tz),
        time_cell(updated_on, tz),
        "incoming" if incoming else "outgoing",
        "yes" if is_unread else "no",
        number_cell(coworker_id),
        text_cell(full_name or billing_name),
        text_cell(email),
        text_cell(company),
        number_cell(account_id),
        text_cell(account_name or account_address),
        text_cell(subject),
        text_cell(body_text),
    )


def message_values(*, user, filters):
    """The inbox's queryset for ``user`` and ``filters``, as ``MESSAGE_FIELDS`` tuples."""
    from inbox.selectors import message_list

    return message_list(user=user, filters=filters).values_list(*MESSAGE_FIELDS)


def message_csv(
    *, user, filters, progress: Callable[[int], object] | None = None
) -> Iterator[bytes]:
    """Every message of the inbox view (``user``, ``filters``) as CSV bytes, streamed."""
    tz = export_timezone()
    values = _started(message_values(user=user, filters=filters).iterator(chunk_size=DB_CHUNK_SIZE))
    rows = (message_row(v, tz) for v in values)
    return stream_csv(MESSAGE_HEADER, rows, progress=progress)


def _started(iterator: Iterator) -> Iterator:
    """Run the query now, not at the first chunk: a database error then becomes an error
    response instead of a download that stops half-way with a 200 already sent."""
    try:
        first = next(iterator)
    except StopIteration:
        return iter(())
    return itertools.chain((first,), iterator)


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
    from inbox.forms import InboxFilterForm

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
# The accounts page's rows (``inbox.health_selectors.accounts_overview``: the same health rules,
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
    from inbox.health_selectors import accounts_overview

    overview = accounts_overview(now=now or timezone.now())
    return [row for group in overview.groups for row in group.rows]


def account_csv(*, now: dt.datetime | None = None) -> Iterator[bytes]:
    tz = export_timezone()
    rows = account_rows(now=now)  # before the first byte: a failure is an error page, not half a file
    return stream_csv(ACCOUNT_HEADER, (account_row(r, tz) for r in rows))


def account_filename(*, today: dt.date | None = None) -> str:
    return _filename("accounts", ["health"], today)
