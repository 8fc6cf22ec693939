"""Parsing Nexudus payloads into records: the documented examples, nulls, drift, and secrets."""

from __future__ import annotations

import dataclasses
import logging
import pickle
from datetime import datetime, timezone

import pytest

from inbox.nexudus import records as records_module
from inbox.nexudus import values
from inbox.models import CoworkerMessage, EmailAccount
from inbox.nexudus.records import (
    BusinessRecord,
    CoworkerMessageRecord,
    EmailAccountRecord,
    RecordError,
    parse_account,
    parse_business,
    parse_message,
)

UTC = timezone.utc

# The "Example Response" of https://developers.nexudus.com/rest-api/spaces/get-coworkermessages-by-id, verbatim.
MESSAGE_EXAMPLE = {
    "CoworkerId": 0,
    "CoworkerFullName": None,
    "CoworkerEmail": None,
    "CoworkerBillingName": None,
    "CoworkerCompanyName": None,
    "EmailAccountId": None,
    "EmailAccountDisplayName": None,
    "EmailAccountEmailAddress": None,
    "Subject": None,
    "Body": None,
    "IsNewMessage": False,
    "Incoming": False,
    "MessageId": 0,
    "ReminderUniqueId": None,
    "Id": 87654321,
    "UpdatedOn": "2025-01-15T10:30:00Z",
    "CreatedOn": "2025-01-10T08:00:00Z",
    "UniqueId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "UpdatedBy": "admin@example.com",
    "IsNew": False,
    "SystemId": None,
    "ToStringText": "CoworkerMessage Example",
    "LocalizationDetails": None,
    "CustomFields": None,
}

# The schema block of the same page ("<string>" / 123 / true placeholders), verbatim.
MESSAGE_SCHEMA = {
    "CoworkerId": 123,
    "CoworkerFullName": "<string>",
    "CoworkerEmail": "<string>",
    "CoworkerBillingName": "<string>",
    "CoworkerCompanyName": "<string>",
    "EmailAccountId": 123,
    "EmailAccountDisplayName": "<string>",
    "EmailAccountEmailAddress": "<string>",
    "Subject": "<string>",
    "Body": "<string>",
    "IsNewMessage": True,
    "Incoming": True,
    "MessageId": 123,
    "ReminderUniqueId": "<string>",
    "Id": 123,
    "UniqueId": "<string>",
    "CreatedOn": "<string>",
    "UpdatedOn": "<string>",
    "UpdatedBy": "<string>",
    "IsNew": True,
    "SystemId": "<string>",
}

# The "Example Response" of https://developers.nexudus.com/rest-api/crm/get-emailaccounts-by-id, verbatim.
ACCOUNT_EXAMPLE = {
    "BusinessId": 0,
    "DisplayName": "",
    "EmailAddress": "",
    "Active": False,
    "SendNotificationOnNewMessages": False,
    "NotificationEmailAddress": None,
    "IncomingServer": "",
    "IncomingServerType": 0,
    "IncomingServerPort": 0,
    "IncomingServerSSL": False,
    "IncomingServerUsername": "",
    "DeleteMessageSettings": 0,
    "OutgoingServer": "",
    "OutgoingServerPort": 0,
    "OutgoingServerSSL": False,
    "OutgoingServerUsername": "",
    "ReplyToEmail": None,
    "LastCheckTime": None,
    "LastMessageId": 0,
    "ErrorCount": 0,
    "GoogleAccessToken": None,
    "Office365AccessToken": None,
    "Id": 87654321,
    "UpdatedOn": "2025-01-15T10:30:00Z",
    "CreatedOn": "2025-01-10T08:00:00Z",
    "UniqueId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "UpdatedBy": "admin@example.com",
    "IsNew": False,
    "SystemId": None,
    "ToStringText": "EmailAccount Example",
    "LocalizationDetails": None,
    "CustomFields": None,
}

GOOGLE = "ya29.a0AfH6SMBx-google-secret-token"
OFFICE = "EwBwA8l6BAAU-office365-secret-token"


def test_message_seed_example_parses_to_every_field():
    record = parse_message(MESSAGE_EXAMPLE)

    assert record == CoworkerMessageRecord(
        id=87654321,
        unique_id="a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        coworker_id=0,
        email_account_id=None,
        is_new_message=False,
        incoming=False,
        message_id=0,
        created_on=datetime(2025, 1, 10, 8, 0, tzinfo=UTC),
        updated_on=datetime(2025, 1, 15, 10, 30, tzinfo=UTC),
        updated_by="admin@example.com",
        is_new=False,
        to_string_text="CoworkerMessage Example",
    )


def test_message_schema_example_fills_every_field():
    record = parse_message(MESSAGE_SCHEMA)

    assert record.coworker_id == 123 and record.email_account_id == 123 and record.message_id == 123
    assert record.coworker_full_name == record.subject == record.body == "<string>"
    assert record.is_new_message is True and record.incoming is True and record.is_new is True
    assert record.created_on is None  # "<string>" is not a date: empty, not a crash


def test_account_seed_example_parses_to_every_field():
    record = parse_account(ACCOUNT_EXAMPLE)

    assert record == EmailAccountRecord(
        id=87654321,
        unique_id="a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        business_id=0,
        display_name="",
        email_address="",
        active=False,
        send_notification_on_new_messages=False,
        incoming_server="",
        incoming_server_type=0,
        incoming_server_port=0,
        incoming_server_ssl=False,
        incoming_server_username="",
        delete_message_settings=0,
        outgoing_server="",
        outgoing_server_port=0,
        outgoing_server_ssl=False,
        outgoing_server_username="",
        last_message_id=0,
        error_count=0,
        has_google_token=False,
        has_office365_token=False,
        created_on=datetime(2025, 1, 10, 8, 0, tzinfo=UTC),
        updated_on=datetime(2025, 1, 15, 10, 30, tzinfo=UTC),
        updated_by="admin@example.com",
        is_new=False,
        to_string_text="EmailAccount Example",
    )


def test_record_fields_mirror_the_model_fields():
    """Field names are the mirror's, so the sync can copy a record onto a row by name."""
    local_only = {"body_text", "search_joined", "deleted_at", "synced_at", "awaiting_reply"}  # kept by the mirror itself
    message_columns = {f.attname for f in CoworkerMessage._meta.concrete_fields} - local_only
    account_columns = {f.attname for f in EmailAccount._meta.concrete_fields} - local_only

    assert {f.name for f in dataclasses.fields(CoworkerMessageRecord)} == message_columns
    assert {f.name for f in dataclasses.fields(EmailAccountRecord)} == account_columns


@pytest.mark.parametrize("parse, example", [(parse_message, MESSAGE_EXAMPLE), (parse_account, ACCOUNT_EXAMPLE)])
def test_nulls_everywhere_but_the_id(parse, example):
    record = parse({key: None for key in example} | {"Id": 5})

    values = dataclasses.asdict(record)
    assert values.pop("id") == 5
    for name, value in values.items():
        if name in {"is_new_message", "incoming", "has_google_token", "has_office365_token"}:
            assert value is False, name  # booleans the model cannot leave null
        else:
            assert value is None, name


@pytest.mark.parametrize("parse", [parse_message, parse_account, parse_business])
def test_missing_keys_are_tolerated(parse):
    record = parse({"Id": "77"})

    assert record.id == 77


@pytest.mark.parametrize("parse", [parse_message, parse_account, parse_business])
@pytest.mark.parametrize("raw", [{}, {"Id": None}, {"Id": "abc"}, {"Id": 1.5}, [], "x", None])
def test_no_usable_id_is_a_record_error(parse, raw):
    with pytest.raises(RecordError):
        parse(raw)


def test_unknown_keys_are_ignored():
    raw = MESSAGE_EXAMPLE | {
        "LocalizationDetails": {"en": "x"},
        "CustomFields": [{"Name": "a", "Value": 1}],
        "BrandNewField2030": {"nested": True},
    }

    assert parse_message(raw) == parse_message(MESSAGE_EXAMPLE)


def test_business_record():
    assert parse_business({"Id": 3, "Name": "Dublin Docklands", "WebAddress": "x"}) == BusinessRecord(
        id=3, name="Dublin Docklands"
    )
    assert parse_business({"Id": 4}) == BusinessRecord(id=4, name=None)


def test_unparseable_datetimes_are_empty_and_logged_once(caplog, monkeypatch):
    monkeypatch.setattr(values, "_warned_fields", set())
    caplog.set_level(logging.WARNING, logger="inbox.nexudus.values")

    first = parse_message({"Id": 1, "CreatedOn": "not a date", "UpdatedOn": "15/01/2025"})
    second = parse_message({"Id": 2, "CreatedOn": "also not", "UpdatedOn": 12345})

    assert first.created_on is first.updated_on is second.created_on is second.updated_on is None
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2  # once for CreatedOn, once for UpdatedOn
    assert any("CoworkerMessage.CreatedOn" in w and "not a date" in w for w in warnings)


@pytest.mark.parametrize(
    "value, expected",
    [(True, True), (False, False), ("true", True), ("True", True), ("FALSE", False), ("1", True),
     ("0", False), (1, True), (0, False), (None, False), ("maybe", False), ([], False)],
)
def test_booleans_are_tolerant(value, expected):
    assert parse_message({"Id": 1, "IsNewMessage": value}).is_new_message is expected
    assert parse_account({"Id": 1, "Active": value}).active is (
        None if value is None or value in ("maybe", []) else expected
    )


@pytest.mark.parametrize(
    "value, expected", [(7, 7), ("7", 7), (" 7 ", 7), (7.0, 7), ("7.0", 7), (7.5, None), ("x", None),
                        (True, None), ({}, None)]
)
def test_numbers_are_tolerant(value, expected):
    assert parse_account({"Id": 1, "ErrorCount": value}).error_count == expected


def test_strings_are_tolerant():
    record = parse_message({"Id": 1, "Subject": 42, "Body": {"html": "x"}, "SystemId": ["a"]})

    assert record.subject == "42"
    assert record.body is None and record.system_id is None


def test_access_tokens_are_dropped_keeping_only_whether_set():
    raw = ACCOUNT_EXAMPLE | {"GoogleAccessToken": GOOGLE, "Office365AccessToken": OFFICE}

    record = parse_account(raw)

    assert record.has_google_token is True and record.has_office365_token is True
    for text in (repr(record), str(record), repr(dataclasses.asdict(record)),
                 repr(dataclasses.astuple(record)), repr(pickle.dumps(record))):
        assert GOOGLE not in text and OFFICE not in text
    assert not hasattr(record, "google_access_token")
    assert not any("token" in f.name and not f.name.startswith("has_") for f in dataclasses.fields(record))


@pytest.mark.parametrize("value, expected", [(None, False), ("", False), ("   ", False), ("t", True),
                                             (0, False), ({"x": 1}, False)])
def test_token_presence(value, expected):
    record = parse_account({"Id": 1, "GoogleAccessToken": value, "Office365AccessToken": value})

    assert record.has_google_token is expected and record.has_office365_token is expected


def test_parsing_does_not_change_the_raw_payload():
    raw = dict(ACCOUNT_EXAMPLE, GoogleAccessToken=GOOGLE)
    before = dict(raw)

    parse_account(raw)

    assert raw == before


def test_records_are_frozen_and_hashable():
    record = parse_message(MESSAGE_EXAMPLE)

    with pytest.raises(dataclasses.FrozenInstanceError):
        record.subject = "changed"  # type: ignore[misc]
    assert {record, parse_message(MESSAGE_EXAMPLE)} == {record}


def test_a_table_must_name_every_field_of_its_record():
    missing = {k: v for k, v in records_module.MESSAGE_FIELDS.items() if k != "subject"}
    extra = {**records_module.BUSINESS_FIELDS, "colour": ("Colour", values.parse_str)}

    with pytest.raises(TypeError, match="CoworkerMessage table"):
        records_module._table("CoworkerMessage", CoworkerMessageRecord, missing)
    with pytest.raises(TypeError, match="Business table"):
        records_module._table("Business", BusinessRecord, extra)
