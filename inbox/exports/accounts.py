"""The accounts export: the accounts page's rows as CSV, with the health and what the page shows.

The rows are the page's (``inbox.accounts.overview.accounts_overview``: the same health rules,
the same order, worst first by location). An account has no token field at all (the mirror keeps
only "is one set"), and these columns name every value written. Cells and the writer:
``inbox.exports.cells``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

from inbox.accounts.overview import accounts_overview
from inbox.exports.cells import dated_filename, export_timezone, number_cell, stream_csv, text_cell, time_cell, yes_no

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


def account_rows(*, now: dt.datetime | None = None, attention_only: bool = False, show_removed: bool = False) -> list:
    """The rows of the accounts page's view (every live account, or those needing attention; with
    or without those removed from Nexudus), in its order (a few hundred at most: read at once)."""
    overview = accounts_overview(now=now or timezone.now(), attention_only=attention_only, show_removed=show_removed)
    return [row for group in overview.groups for row in group.rows]


def account_csv(*, now: dt.datetime | None = None, attention_only: bool = False, show_removed: bool = False) -> Iterator[bytes]:
    tz = export_timezone()
    # Read before the first byte: a failure is an error page, not half a file.
    rows = account_rows(now=now, attention_only=attention_only, show_removed=show_removed)
    return stream_csv(ACCOUNT_HEADER, (account_row(r, tz) for r in rows))


def account_filename(*, attention_only: bool = False, today: dt.date | None = None) -> str:
    return dated_filename("accounts", ["health", *(["attention"] if attention_only else [])], today)
