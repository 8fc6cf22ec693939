"""Typed, read-only records of what Nexudus returns: the Nexudus client's plain data out.

Parsing is lenient, because the API is loosely documented and drifts (``../shared/nexudus-api.md``
§6-§7): every field except ``Id`` may be null or missing, unknown keys (``ToStringText``'s
siblings ``LocalizationDetails``, ``CustomFields`` and whatever comes later) are ignored, numbers and
booleans may arrive as strings, and a date that cannot be read becomes ``None`` (logged once per
field) rather than failing a whole sync.

Datetimes become aware UTC datetimes. The API does not document the time zone of ``CreatedOn`` /
``UpdatedOn``; its examples end in ``Z``, so a value without an offset is read as UTC too.

Secrets: an EmailAccount carries the customer's ``GoogleAccessToken`` / ``Office365AccessToken``.
They are dropped here, at parse time; a record keeps only whether one was set
(``has_google_token`` / ``has_office365_token``), so no record, ``repr`` or ``asdict`` can leak one.
Code that must keep or log a raw payload passes it through :func:`redact` first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Keys of raw payloads that are secrets and must never be kept, stored, logged or rendered.
SECRET_KEYS = frozenset({"GoogleAccessToken", "Office365AccessToken"})
_SECRET_KEYS_FOLDED = frozenset(key.casefold() for key in SECRET_KEYS)


class RecordError(ValueError):
    """A payload that cannot be a record at all (not an object, or no usable ``Id``)."""


# --- Lenient scalar parsing -----------------------------------------------------------------

_TRUE = frozenset({"true", "1", "yes", "y", "on", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "off", "f", ""})
_MS_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")  # the old .NET JSON date form
_warned_fields: set[str] = set()


def _warn_once(field_name: str, message: str, *args: Any) -> None:
    # Once per field and process: a source full of bad dates must not flood the log.
    if field_name in _warned_fields:
        return
    _warned_fields.add(field_name)
    logger.warning(message, *args)


def parse_bool(value: Any) -> bool | None:
    """``True``/``False`` from a bool, 1/0, or "true"/"false" (any case); ``None`` if unknown."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        folded = value.strip().casefold()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    return None


def parse_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return None
            return int(number) if number.is_integer() else None
    return None


def parse_str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None  # objects and arrays are not text


def parse_datetime(value: Any, *, field_name: str = "datetime") -> datetime | None:
    """An aware UTC datetime from ISO 8601 (``Z``, ``+00:00``, no offset = UTC, 7-digit fractions).

    ``None`` for null, empty or unreadable values; an unreadable one is logged once per field.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        parsed = _parse_datetime_text(text)
        if parsed is None:
            _warn_once(
                field_name,
                "Nexudus sent %s=%r, which is not a date and time; it is kept as empty. "
                "(Logged once per field.)",
                field_name,
                text[:64],
            )
            return None
    else:
        _warn_once(field_name, "Nexudus sent a %s that is not text; it is kept as empty.", field_name)
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _parse_datetime_text(text: str) -> datetime | None:
    try:
        # Python 3.11 reads "Z", offsets and fractions of any length (it keeps microseconds).
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _MS_DATE.match(text)
    if match:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(match[1]))
    return None


def redact(raw: Any) -> Any:
    """A copy of a raw payload (dict, list, nested) with the secret token keys removed."""
    if isinstance(raw, Mapping):
        return {
            key: redact(value)
            for key, value in raw.items()
            if not (isinstance(key, str) and key.casefold() in _SECRET_KEYS_FOLDED)
        }
    if isinstance(raw, list):
        return [redact(item) for item in raw]
    return raw


def _token_is_set(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _require_mapping(raw: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise RecordError(f"Nexudus sent a {what} that is not a JSON object ({type(raw).__name__}).")
    return raw


def _require_id(raw: Mapping[str, Any], what: str) -> int:
    record_id = parse_int(raw.get("Id"))
    if record_id is None:
        raise RecordError(f"Nexudus sent a {what} without a usable Id ({raw.get('Id')!r}).")
    return record_id


# --- Records --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoworkerMessageRecord:
    """One CoworkerMessage. ``is_new_message`` is Nexudus's unread flag (``is_new`` is not)."""

    id: int
    unique_id: str | None = None
    coworker_id: int | None = None
    coworker_full_name: str | None = None
    coworker_email: str | None = None
    coworker_billing_name: str | None = None
    coworker_company_name: str | None = None
    email_account_id: int | None = None  # None: the location's default mail settings were used
    email_account_display_name: str | None = None
    email_account_email_address: str | None = None
    subject: str | None = None
    body: str | None = None  # often HTML, never trusted
    is_new_message: bool = False  # a null flag reads as "not unread"
    incoming: bool = False  # True: from the customer; a null reads as outgoing
    message_id: int | None = None  # automated template (eBusinessMessageName); 0 is ambiguous
    reminder_unique_id: str | None = None
    created_on: datetime | None = None
    updated_on: datetime | None = None
    updated_by: str | None = None
    is_new: bool | None = None
    system_id: str | None = None
    to_string_text: str | None = None


@dataclass(frozen=True, slots=True)
class EmailAccountRecord:
    """One EmailAccount, without its OAuth tokens: only whether each is set."""

    id: int
    unique_id: str | None = None
    business_id: int | None = None
    display_name: str | None = None
    email_address: str | None = None
    active: bool | None = None
    send_notification_on_new_messages: bool | None = None
    notification_email_address: str | None = None
    incoming_server: str | None = None
    incoming_server_type: int | None = None  # 1 = IMAP; 0 = unset
    incoming_server_port: int | None = None
    incoming_server_ssl: bool | None = None
    incoming_server_username: str | None = None
    delete_message_settings: int | None = None  # 1 DontDelete, 2 DeleteOnReceive, 3 DeleteWhenDeleting
    outgoing_server: str | None = None
    outgoing_server_port: int | None = None
    outgoing_server_ssl: bool | None = None
    outgoing_server_username: str | None = None
    reply_to_email: str | None = None
    last_check_time: datetime | None = None
    last_message_id: int | None = None
    error_count: int | None = None
    has_google_token: bool = False
    has_office365_token: bool = False
    created_on: datetime | None = None
    updated_on: datetime | None = None
    updated_by: str | None = None
    is_new: bool | None = None
    system_id: str | None = None
    to_string_text: str | None = None


@dataclass(frozen=True, slots=True)
class BusinessRecord:
    """One Nexudus location (``/api/sys/businesses``)."""

    id: int
    name: str | None = None


@dataclass
class Page(Generic[T]):
    """One page of a list endpoint, as the server granted it.

    ``page_size`` is the size the server says it used (``CurrentPageSize``), not the one asked for.
    ``skipped`` counts entries of ``Records`` that were not records at all (no object, no Id).
    """

    records: list[T]
    page: int
    page_size: int
    total_items: int | None
    total_pages: int | None
    has_next: bool
    skipped: int = field(default=0)


# --- Parsers --------------------------------------------------------------------------------


def parse_message(raw: Mapping[str, Any]) -> CoworkerMessageRecord:
    raw = _require_mapping(raw, "CoworkerMessage")
    get = raw.get
    return CoworkerMessageRecord(
        id=_require_id(raw, "CoworkerMessage"),
        unique_id=parse_str(get("UniqueId")),
        coworker_id=parse_int(get("CoworkerId")),
        coworker_full_name=parse_str(get("CoworkerFullName")),
        coworker_email=parse_str(get("CoworkerEmail")),
        coworker_billing_name=parse_str(get("CoworkerBillingName")),
        coworker_company_name=parse_str(get("CoworkerCompanyName")),
        email_account_id=parse_int(get("EmailAccountId")),
        email_account_display_name=parse_str(get("EmailAccountDisplayName")),
        email_account_email_address=parse_str(get("EmailAccountEmailAddress")),
        subject=parse_str(get("Subject")),
        body=parse_str(get("Body")),
        is_new_message=parse_bool(get("IsNewMessage")) or False,
        incoming=parse_bool(get("Incoming")) or False,
        message_id=parse_int(get("MessageId")),
        reminder_unique_id=parse_str(get("ReminderUniqueId")),
        created_on=parse_datetime(get("CreatedOn"), field_name="CoworkerMessage.CreatedOn"),
        updated_on=parse_datetime(get("UpdatedOn"), field_name="CoworkerMessage.UpdatedOn"),
        updated_by=parse_str(get("UpdatedBy")),
        is_new=parse_bool(get("IsNew")),
        system_id=parse_str(get("SystemId")),
        to_string_text=parse_str(get("ToStringText")),
    )


def parse_account(raw: Mapping[str, Any]) -> EmailAccountRecord:
    raw = _require_mapping(raw, "EmailAccount")
    get = raw.get
    return EmailAccountRecord(
        id=_require_id(raw, "EmailAccount"),
        unique_id=parse_str(get("UniqueId")),
        business_id=parse_int(get("BusinessId")),
        display_name=parse_str(get("DisplayName")),
        email_address=parse_str(get("EmailAddress")),
        active=parse_bool(get("Active")),
        send_notification_on_new_messages=parse_bool(get("SendNotificationOnNewMessages")),
        notification_email_address=parse_str(get("NotificationEmailAddress")),
        incoming_server=parse_str(get("IncomingServer")),
        incoming_server_type=parse_int(get("IncomingServerType")),
        incoming_server_port=parse_int(get("IncomingServerPort")),
        incoming_server_ssl=parse_bool(get("IncomingServerSSL")),
        incoming_server_username=parse_str(get("IncomingServerUsername")),
        delete_message_settings=parse_int(get("DeleteMessageSettings")),
        outgoing_server=parse_str(get("OutgoingServer")),
        outgoing_server_port=parse_int(get("OutgoingServerPort")),
        outgoing_server_ssl=parse_bool(get("OutgoingServerSSL")),
        outgoing_server_username=parse_str(get("OutgoingServerUsername")),
        reply_to_email=parse_str(get("ReplyToEmail")),
        last_check_time=parse_datetime(get("LastCheckTime"), field_name="EmailAccount.LastCheckTime"),
        last_message_id=parse_int(get("LastMessageId")),
        error_count=parse_int(get("ErrorCount")),
        # The tokens are read here for one purpose only: whether one is set. Never kept.
        has_google_token=_token_is_set(get("GoogleAccessToken")),
        has_office365_token=_token_is_set(get("Office365AccessToken")),
        created_on=parse_datetime(get("CreatedOn"), field_name="EmailAccount.CreatedOn"),
        updated_on=parse_datetime(get("UpdatedOn"), field_name="EmailAccount.UpdatedOn"),
        updated_by=parse_str(get("UpdatedBy")),
        is_new=parse_bool(get("IsNew")),
        system_id=parse_str(get("SystemId")),
        to_string_text=parse_str(get("ToStringText")),
    )


def parse_business(raw: Mapping[str, Any]) -> BusinessRecord:
    raw = _require_mapping(raw, "Business")
    return BusinessRecord(id=_require_id(raw, "Business"), name=parse_str(raw.get("Name")))


Parser = Callable[[Mapping[str, Any]], T]
