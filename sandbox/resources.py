"""The three resources the sandbox serves: documented field names, filters and sort fields.

Each resource maps the documented Nexudus names onto this app's columns, so the list, get-one and
batch views (``sandbox/views.py``) share one description. Records are built straight from
``values_list`` tuples: a 1,000-record page costs one COUNT and one SELECT, nothing per record.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, Q, QuerySet

from sandbox.models import Business, Config, CoworkerMessage, EmailAccount

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # as the documented examples: "2025-01-15T10:30:00Z"


class BadRequest(Exception):
    """A query parameter the sandbox cannot honour; answered 400 with this text."""


# --- Parsing query values -----------------------------------------------------------------------
#
# Whatever a client sends, the answer is a 400 naming the parameter, never a 500: a number must be
# plain ASCII digits and fit the column it is compared with, a date must stay a date once turned
# into UTC, a text may not hold a NUL character (PostgreSQL cannot compare one). The same value is
# refused on SQLite and on PostgreSQL, although SQLite alone would cope with some of them.

INT32 = (-(2**31), 2**31 - 1)  # page, size, dir, and IntegerField columns (PostgreSQL "integer")
INT64 = (-(2**63), 2**63 - 1)  # Ids and the other BigIntegerField columns
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_SHOWN = 40  # characters of a refused value echoed in the message


def shown(value: str) -> str:
    """The value as a 400's message quotes it: repr, cut to a readable length."""
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "…")


def parse_int(name: str, value: str, bounds: tuple[int, int] = INT32) -> int:
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        raise BadRequest(f"{name} must be a whole number, not {shown(value)}.")
    low, high = bounds
    # No int() of thousands of digits (slow, and refused past 4,300): over 20 digits is out of range.
    number = int(text) if len(text.lstrip("+-").lstrip("0")) <= 20 else None
    if number is None or not low <= number <= high:
        raise BadRequest(f"{name} is out of range: {shown(value)} is not between {low} and {high}.")
    return number


def parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0"}:
        return False
    raise BadRequest(f"{name} must be true or false, not {shown(value)}.")


def parse_text(name: str, value: str) -> str:
    if "\x00" in value:
        raise BadRequest(f"{name} cannot contain a NUL character.")
    return value


def parse_minute(name: str, value: str) -> datetime:
    """``YYYY-MM-DDTHH:mm`` (documented; seconds and a date alone are tolerated), read as UTC.

    An offset (``+05:00``) is honoured; a moment that falls outside years 1 to 9999 once in UTC
    (``0001-01-01T00:00+05:00``) cannot be represented and is refused.
    """
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "T"))
    except ValueError:
        raise BadRequest(f"{name} must be a date and time as YYYY-MM-DDTHH:mm, not {shown(value)}.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        moment = parsed.astimezone(timezone.utc)
    except OverflowError:
        raise BadRequest(f"{name} is out of range: {shown(value)} is before year 1 or after 9999 in UTC.") from None
    return moment.replace(second=0, microsecond=0)


def parse_dir(value: str, convention: str) -> tuple[int, bool]:
    """``dir`` as the integer to echo and whether it asks for descending order.

    No ``dir`` sorts ascending in both conventions and echoes the convention's ascending integer.
    """
    if convention == Config.DIR_LEARN:
        direction = parse_int("dir", value or "0")
        if direction not in (0, 1):
            raise BadRequest("dir must be 0 (ascending) or 1 (descending).")
        return direction, direction == 1
    direction = parse_int("dir", value or "1")
    if direction not in (-1, 0, 1):
        raise BadRequest("dir must be 1 or 0 (ascending) or -1 (descending).")
    return direction, direction == -1


# --- Filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """One query parameter and the condition it adds. ``kind``: int, str, bool, minute."""

    column: str
    kind: str
    bound: str = ""  # "" (equality), "from" (on or after) or "to" (on or before)
    bounds: tuple[int, int] = INT32  # for int: what the column holds

    def condition(self, name: str, value: str) -> Q:
        if self.kind == "minute":
            start = parse_minute(name, value)
            # The minute's last microsecond, not the next minute: 9999-12-31T23:59 has no next one.
            end = start + timedelta(seconds=59, microseconds=999999)
            if self.bound == "from":
                return Q(**{f"{self.column}__gte": start})
            if self.bound == "to":  # inclusive to the minute
                return Q(**{f"{self.column}__lte": end})
            return Q(**{f"{self.column}__gte": start, f"{self.column}__lte": end})
        parsed: object
        if self.kind == "int":
            parsed = parse_int(name, value, self.bounds)
        elif self.kind == "bool":
            parsed = parse_bool(name, value)
        else:
            parsed = parse_text(name, value)
        lookup = {"from": "__gte", "to": "__lte"}.get(self.bound, "")
        return Q(**{f"{self.column}{lookup}": parsed})


def filters_for(
    model: type[Model], prefix: str, equal: dict[str, tuple[str, str]], ranges: dict[str, tuple[str, str]]
) -> dict[str, Filter]:
    """Names as Nexudus documents them: ``<Entity>_<Field>``, ``from_<Entity>_<Field>``, ``to_...``."""

    def spec(column: str, kind: str, bound: str = "") -> Filter:
        big = model._meta.get_field(column).get_internal_type() == "BigIntegerField"
        return Filter(column, kind, bound, INT64 if big else INT32)

    table = {"id": spec("id", "int"), "uniqueid": spec("unique_id", "str")}
    for name, (column, kind) in equal.items():
        table[f"{prefix}_{name}".lower()] = spec(column, kind)
    for name, (column, kind) in ranges.items():
        table[f"from_{prefix}_{name}".lower()] = spec(column, kind, "from")
        table[f"to_{prefix}_{name}".lower()] = spec(column, kind, "to")
    return table


# --- Resources ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    model: type[Model]
    fields: tuple[tuple[str, str], ...]  # (documented name, column)
    filters: dict[str, Filter]
    order_fields: dict[str, str]  # documented name -> column
    to_string: Callable[[dict], str]
    batch_blank: frozenset[str] = field(default_factory=frozenset)  # left empty in batch answers

    @property
    def columns(self) -> list[str]:
        return [column for _, column in self.fields]

    def records(self, queryset: QuerySet, *, batch: bool = False) -> list[dict]:
        """Documented records for these rows.

        The SELECT runs on a plain cursor: Django's per-value converters (time-zone handling of
        every datetime) cost more than the query on a 1,000-record page; the datetimes come back
        in UTC (naive on SQLite, aware on PostgreSQL) and only need formatting.
        """
        rows = fetch_rows(queryset.values_list(*self.columns))
        names = [name for name, _ in self.fields]
        types = [self.model._meta.get_field(column).get_internal_type() for _, column in self.fields]
        datetimes = [i for i, kind in enumerate(types) if kind == "DateTimeField"]
        blank = [i for i, name in enumerate(names) if name in self.batch_blank] if batch else []
        to_string = self.to_string
        out = []
        for row in rows:
            row = list(row)
            for i in datetimes:
                if row[i] is not None:
                    row[i] = _datetime(row[i])
            for i in blank:
                row[i] = None
            record = dict(zip(names, row))
            record["ToStringText"] = to_string(record)
            record["LocalizationDetails"] = None
            record["CustomFields"] = None
            out.append(record)
        return out

    def filtered(self, params: dict[str, str]) -> QuerySet:
        queryset = self.model.objects.all()
        for key, value in params.items():
            spec = self.filters.get(key.lower())
            if spec is not None and value != "":
                queryset = queryset.filter(spec.condition(key, value))
        return queryset

    def page(
        self,
        params: dict[str, str],
        *,
        max_size: int,
        dir_convention: str = Config.DIR_DEVELOPERS,
        sort_direction_echo: str = Config.ECHO_INTEGER,
    ) -> dict:
        """The documented list envelope for these query parameters (keys matched ignoring case).

        ``dir_convention`` and ``sort_direction_echo``: see ``Config``.
        """
        lowered = {key.lower(): value for key, value in params.items()}
        page = parse_int("page", lowered.get("page") or "1")
        size = parse_int("size", lowered.get("size") or "25")
        if page < 1:
            raise BadRequest("page must be 1 or more.")
        if size < 1:
            raise BadRequest("size must be 1 or more.")
        size = min(size, max_size)
        order_name, order_column = self.order(lowered.get("orderby") or "Id")
        direction, descending = parse_dir(lowered.get("dir") or "", dir_convention)
        sign = "-" if descending else ""
        queryset = self.filtered(params)
        total = queryset.count()
        offset = (page - 1) * size
        ordering = [f"{sign}{order_column}"] + ([] if order_column == "id" else [f"{sign}id"])
        records = self.records(queryset.order_by(*ordering)[offset : offset + size]) if offset < total else []
        total_pages = math.ceil(total / size)
        envelope = {
            "Records": records,
            "CurrentPage": page,
            "CurrentPageSize": size,
            "CurrentOrderField": order_name,
            "CurrentSortDirection": direction,
            "FirstItem": offset + 1 if records else 0,
            "LastItem": offset + len(records),
            "TotalItems": total,
            "TotalPages": total_pages,
            "HasNextPage": page < total_pages,
            "HasPreviousPage": page > 1,
        }
        if sort_direction_echo == Config.ECHO_WORD:
            envelope["CurrentSortDirection"] = "Descending" if descending else "Ascending"
        elif sort_direction_echo == Config.ECHO_OMIT:
            del envelope["CurrentSortDirection"]
        return envelope

    def order(self, value: str) -> tuple[str, str]:
        for name, column in self.order_fields.items():
            if name.lower() == value.lower():
                return name, column
        known = ", ".join(self.order_fields)
        raise BadRequest(f"orderBy {shown(value)} is not a field that can be sorted on (use one of {known}).")

    def batch(self, ids: Iterable[int]) -> list[dict]:
        return self.records(self.model.objects.filter(id__in=list(ids)).order_by("id"), batch=True)

    def one(self, pk: int) -> dict | None:
        found = self.records(self.model.objects.filter(id=pk))
        return found[0] if found else None


def fetch_rows(queryset: QuerySet) -> list[tuple]:
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:  # e.g. id__in=[] or an Id beyond the column's range
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _datetime(value: datetime) -> str:
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(timezone.utc)
    return value.strftime(DATETIME_FORMAT)


def parse_batch_ids(value: str) -> list[int]:
    """``[1,2,3]`` (the documented form; the brackets are optional here)."""
    inner = value.strip().removeprefix("[").removesuffix("]")
    ids = []
    for part in inner.split(","):
        if part.strip():
            ids.append(parse_int("id", part.strip(), INT64))
    return ids


BASE_FIELDS = (
    ("Id", "id"),
    ("UpdatedOn", "updated_on"),
    ("CreatedOn", "created_on"),
    ("UniqueId", "unique_id"),
    ("UpdatedBy", "updated_by"),
    ("IsNew", "is_new"),
    ("SystemId", "system_id"),
)
ORDER_BASE = {"Id": "id", "CreatedOn": "created_on", "UpdatedOn": "updated_on"}

MESSAGES = Resource(
    model=CoworkerMessage,
    fields=(
        ("CoworkerId", "coworker_id"),
        ("CoworkerFullName", "coworker_full_name"),
        ("CoworkerEmail", "coworker_email"),
        ("CoworkerBillingName", "coworker_billing_name"),
        ("CoworkerCompanyName", "coworker_company_name"),
        ("EmailAccountId", "email_account_id"),
        ("EmailAccountDisplayName", "email_account_display_name"),
        ("EmailAccountEmailAddress", "email_account_email_address"),
        ("Subject", "subject"),
        ("Body", "body"),
        ("IsNewMessage", "is_new_message"),
        ("Incoming", "incoming"),
        ("MessageId", "message_id"),
        ("ReminderUniqueId", "reminder_unique_id"),
        *BASE_FIELDS,
    ),
    filters=filters_for(
        CoworkerMessage,
        "CoworkerMessage",
        equal={
            "Coworker": ("coworker_id", "int"),
            "Coworker_FullName": ("coworker_full_name", "str"),
            "Coworker_Email": ("coworker_email", "str"),
            "Coworker_BillingName": ("coworker_billing_name", "str"),
            "Coworker_CompanyName": ("coworker_company_name", "str"),
            "EmailAccount": ("email_account_id", "int"),
            "EmailAccount_DisplayName": ("email_account_display_name", "str"),
            "EmailAccount_EmailAddress": ("email_account_email_address", "str"),
            "Subject": ("subject", "str"),
            "Body": ("body", "str"),
            "IsNewMessage": ("is_new_message", "bool"),
            "Incoming": ("incoming", "bool"),
            "MessageId": ("message_id", "int"),
            "ReminderUniqueId": ("reminder_unique_id", "str"),
        },
        ranges={
            "MessageId": ("message_id", "int"),
            "CreatedOn": ("created_on", "minute"),
            "UpdatedOn": ("updated_on", "minute"),
        },
    ),
    order_fields=ORDER_BASE,
    to_string=lambda record: record["Subject"] or "",
)

ACCOUNTS = Resource(
    model=EmailAccount,
    fields=(
        ("BusinessId", "business_id"),
        ("DisplayName", "display_name"),
        ("EmailAddress", "email_address"),
        ("Active", "active"),
        ("SendNotificationOnNewMessages", "send_notification_on_new_messages"),
        ("NotificationEmailAddress", "notification_email_address"),
        ("IncomingServer", "incoming_server"),
        ("IncomingServerType", "incoming_server_type"),
        ("IncomingServerPort", "incoming_server_port"),
        ("IncomingServerSSL", "incoming_server_ssl"),
        ("IncomingServerUsername", "incoming_server_username"),
        ("DeleteMessageSettings", "delete_message_settings"),
        ("OutgoingServer", "outgoing_server"),
        ("OutgoingServerPort", "outgoing_server_port"),
        ("OutgoingServerSSL", "outgoing_server_ssl"),
        ("OutgoingServerUsername", "outgoing_server_username"),
        ("ReplyToEmail", "reply_to_email"),
        ("LastCheckTime", "last_check_time"),
        ("LastMessageId", "last_message_id"),
        ("ErrorCount", "error_count"),
        ("GoogleAccessToken", "google_access_token"),
        ("Office365AccessToken", "office365_access_token"),
        *BASE_FIELDS,
    ),
    filters=filters_for(
        EmailAccount,
        "EmailAccount",
        equal={
            "Business": ("business_id", "int"),
            "DisplayName": ("display_name", "str"),
            "EmailAddress": ("email_address", "str"),
            "Active": ("active", "bool"),
            "SendNotificationOnNewMessages": ("send_notification_on_new_messages", "bool"),
            "NotificationEmailAddress": ("notification_email_address", "str"),
            "IncomingServer": ("incoming_server", "str"),
            "IncomingServerType": ("incoming_server_type", "int"),
            "IncomingServerPort": ("incoming_server_port", "int"),
            "IncomingServerSSL": ("incoming_server_ssl", "bool"),
            "IncomingServerUsername": ("incoming_server_username", "str"),
            "DeleteMessageSettings": ("delete_message_settings", "int"),
            "OutgoingServer": ("outgoing_server", "str"),
            "OutgoingServerPort": ("outgoing_server_port", "int"),
            "OutgoingServerSSL": ("outgoing_server_ssl", "bool"),
            "OutgoingServerUsername": ("outgoing_server_username", "str"),
            "ReplyToEmail": ("reply_to_email", "str"),
            "LastCheckTime": ("last_check_time", "minute"),
            "LastMessageId": ("last_message_id", "int"),
            "ErrorCount": ("error_count", "int"),
            "GoogleAccessToken": ("google_access_token", "str"),
            "Office365AccessToken": ("office365_access_token", "str"),
        },
        ranges={
            "IncomingServerPort": ("incoming_server_port", "int"),
            "OutgoingServerPort": ("outgoing_server_port", "int"),
            "LastCheckTime": ("last_check_time", "minute"),
            "LastMessageId": ("last_message_id", "int"),
            "ErrorCount": ("error_count", "int"),
            "CreatedOn": ("created_on", "minute"),
            "UpdatedOn": ("updated_on", "minute"),
        },
    ),
    order_fields={**ORDER_BASE, "DisplayName": "display_name"},
    to_string=lambda record: record["DisplayName"] or record["EmailAddress"] or "",
    # The documented batch answer is partial (learn.nexudus.com get-emailaccounts-batch).
    batch_blank=frozenset(
        {
            "SendNotificationOnNewMessages",
            "NotificationEmailAddress",
            "IncomingServer",
            "IncomingServerType",
            "IncomingServerPort",
            "IncomingServerSSL",
            "IncomingServerUsername",
            "DeleteMessageSettings",
            "OutgoingServer",
            "OutgoingServerPort",
            "OutgoingServerSSL",
            "OutgoingServerUsername",
            "ReplyToEmail",
            "LastCheckTime",
            "LastMessageId",
        }
    ),
)

BUSINESSES = Resource(
    model=Business,
    fields=(
        ("Name", "name"),
        ("WebAddress", "web_address"),
        ("CountryName", "country_name"),
        ("CurrencyCode", "currency_code"),
        ("SimpleTimeZoneId", "simple_time_zone_id"),
        *BASE_FIELDS,
    ),
    filters=filters_for(
        Business,
        "Business",
        equal={"Name": ("name", "str"), "WebAddress": ("web_address", "str")},
        ranges={"CreatedOn": ("created_on", "minute"), "UpdatedOn": ("updated_on", "minute")},
    ),
    order_fields={**ORDER_BASE, "Name": "name"},
    to_string=lambda record: record["Name"] or "",
)
