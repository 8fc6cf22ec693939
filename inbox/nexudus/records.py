"""Typed, read-only records of what Nexudus returns: the Nexudus client's plain data out.

Parsing is lenient, because the API is loosely documented and drifts between its documentation
generations (https://developers.nexudus.com/rest-api/spaces/get-coworkermessages-by-id,
https://learn.nexudus.com/rest-api/crm/get-emailaccounts): every field except ``Id`` may be null or
missing, unknown keys (``ToStringText``'s siblings ``LocalizationDetails``, ``CustomFields`` and
whatever comes later) are ignored, and each value is read leniently (:mod:`inbox.nexudus.values`).

Secrets: an EmailAccount carries the customer's ``GoogleAccessToken`` / ``Office365AccessToken``.
They are dropped here, at parse time; a record keeps only whether one was set
(``has_google_token`` / ``has_office365_token``), so no record, ``repr`` or ``asdict`` can leak one.

Each record type is parsed from a table (record attribute: JSON key, parser), so a new field is one
line in the dataclass and one in its table.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple

from inbox.nexudus.values import parse_bool, parse_datetime, parse_int, parse_str


class RecordError(ValueError):
    """A payload that cannot be a record at all (not an object, or no usable ``Id``)."""


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


# --- Parsers --------------------------------------------------------------------------------


def _flag(value: Any) -> bool:
    """A flag Nexudus may send as null: null (or unreadable) reads as False."""
    return parse_bool(value) or False


Fields = dict[str, tuple[str, Callable[[Any], Any]]]

MESSAGE_FIELDS: Fields = {  # record attribute: (JSON key, parser)
    "unique_id": ("UniqueId", parse_str),
    "coworker_id": ("CoworkerId", parse_int),
    "coworker_full_name": ("CoworkerFullName", parse_str),
    "coworker_email": ("CoworkerEmail", parse_str),
    "coworker_billing_name": ("CoworkerBillingName", parse_str),
    "coworker_company_name": ("CoworkerCompanyName", parse_str),
    "email_account_id": ("EmailAccountId", parse_int),
    "email_account_display_name": ("EmailAccountDisplayName", parse_str),
    "email_account_email_address": ("EmailAccountEmailAddress", parse_str),
    "subject": ("Subject", parse_str),
    "body": ("Body", parse_str),
    "is_new_message": ("IsNewMessage", _flag),
    "incoming": ("Incoming", _flag),
    "message_id": ("MessageId", parse_int),
    "reminder_unique_id": ("ReminderUniqueId", parse_str),
    "created_on": ("CreatedOn", parse_datetime),
    "updated_on": ("UpdatedOn", parse_datetime),
    "updated_by": ("UpdatedBy", parse_str),
    "is_new": ("IsNew", parse_bool),
    "system_id": ("SystemId", parse_str),
    "to_string_text": ("ToStringText", parse_str),
}

ACCOUNT_FIELDS: Fields = {
    "unique_id": ("UniqueId", parse_str),
    "business_id": ("BusinessId", parse_int),
    "display_name": ("DisplayName", parse_str),
    "email_address": ("EmailAddress", parse_str),
    "active": ("Active", parse_bool),
    "send_notification_on_new_messages": ("SendNotificationOnNewMessages", parse_bool),
    "notification_email_address": ("NotificationEmailAddress", parse_str),
    "incoming_server": ("IncomingServer", parse_str),
    "incoming_server_type": ("IncomingServerType", parse_int),
    "incoming_server_port": ("IncomingServerPort", parse_int),
    "incoming_server_ssl": ("IncomingServerSSL", parse_bool),
    "incoming_server_username": ("IncomingServerUsername", parse_str),
    "delete_message_settings": ("DeleteMessageSettings", parse_int),
    "outgoing_server": ("OutgoingServer", parse_str),
    "outgoing_server_port": ("OutgoingServerPort", parse_int),
    "outgoing_server_ssl": ("OutgoingServerSSL", parse_bool),
    "outgoing_server_username": ("OutgoingServerUsername", parse_str),
    "reply_to_email": ("ReplyToEmail", parse_str),
    "last_check_time": ("LastCheckTime", parse_datetime),
    "last_message_id": ("LastMessageId", parse_int),
    "error_count": ("ErrorCount", parse_int),
    # The tokens are read here for one purpose only: whether one is set. Never kept.
    "has_google_token": ("GoogleAccessToken", _token_is_set),
    "has_office365_token": ("Office365AccessToken", _token_is_set),
    "created_on": ("CreatedOn", parse_datetime),
    "updated_on": ("UpdatedOn", parse_datetime),
    "updated_by": ("UpdatedBy", parse_str),
    "is_new": ("IsNew", parse_bool),
    "system_id": ("SystemId", parse_str),
    "to_string_text": ("ToStringText", parse_str),
}

BUSINESS_FIELDS: Fields = {
    "name": ("Name", parse_str),
}


class _Table(NamedTuple):
    """A record type's table, in the order of its dataclass fields (after ``id``)."""

    what: str
    record_class: Callable[..., Any]
    keys: tuple[str, ...]
    parsers: tuple[Callable[[Any], Any], ...]


def _table(what: str, record_class: type, fields: Fields) -> _Table:
    names = [f.name for f in dataclasses.fields(record_class)]
    if names[0] != "id" or set(names[1:]) != set(fields):
        raise TypeError(f"The {what} table does not name exactly the fields of {record_class.__name__}.")
    rows = [fields[name] for name in names[1:]]
    parsers = tuple(
        # A date that cannot be read is logged under its own name ("CoworkerMessage.CreatedOn").
        partial(parse_datetime, field_name=f"{what}.{key}") if parse is parse_datetime else parse
        for key, parse in rows
    )
    return _Table(what, record_class, tuple(key for key, _ in rows), parsers)


def _parse(table: _Table, raw: Any) -> Any:
    raw = _require_mapping(raw, table.what)
    record_id = _require_id(raw, table.what)
    # Positional, in field order, the loop in C (map): within about 10 % of a hand-written parser.
    return table.record_class(record_id, *map(operator.call, table.parsers, map(raw.get, table.keys)))


_MESSAGES = _table("CoworkerMessage", CoworkerMessageRecord, MESSAGE_FIELDS)
_ACCOUNTS = _table("EmailAccount", EmailAccountRecord, ACCOUNT_FIELDS)
_BUSINESSES = _table("Business", BusinessRecord, BUSINESS_FIELDS)


def parse_message(raw: Mapping[str, Any]) -> CoworkerMessageRecord:
    """A CoworkerMessage from its JSON object; :class:`RecordError` if it has no usable Id."""
    return _parse(_MESSAGES, raw)


def parse_account(raw: Mapping[str, Any]) -> EmailAccountRecord:
    """An EmailAccount from its JSON object (its tokens reduced to whether each is set)."""
    return _parse(_ACCOUNTS, raw)


def parse_business(raw: Mapping[str, Any]) -> BusinessRecord:
    return _parse(_BUSINESSES, raw)
