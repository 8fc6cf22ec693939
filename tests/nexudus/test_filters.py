"""Filters: exactly the query parameters Nexudus reads, and nothing left out sent."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from inbox.nexudus import format_filter_datetime
from tests.nexudus.fake_api import (
    ACCOUNTS_URL,
    MESSAGES_URL,
    api_calls,
    first_page,
    page,
    query,
    token_ok,
)

pytestmark = pytest.mark.timeout(30)


def test_message_filters_are_encoded_exactly(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([], CurrentOrderField="UpdatedOn"))
    plus_two = timezone(timedelta(hours=2))

    list(make_client().iter_message_pages(
        order_by="UpdatedOn", page_size=100,
        is_new_message=True, incoming=False, email_account_id=12, coworker_id=345,
        created_from=datetime(2025, 1, 1, 0, 0, tzinfo=timezone.utc),
        created_to=date(2025, 1, 31),
        updated_from=datetime(2025, 1, 15, 12, 30, 59, 999999, tzinfo=plus_two),
        updated_to=datetime(2025, 1, 15, 12, 45, 1, tzinfo=plus_two),
    ))

    url = api_calls(rsps)[0].request.url
    assert url == (
        f"{MESSAGES_URL}?CoworkerMessage_IsNewMessage=true&CoworkerMessage_Incoming=false"
        "&CoworkerMessage_EmailAccount=12&CoworkerMessage_Coworker=345"
        "&from_CoworkerMessage_CreatedOn=2025-01-01T00%3A00&to_CoworkerMessage_CreatedOn=2025-02-01T00%3A00"
        "&from_CoworkerMessage_UpdatedOn=2025-01-15T10%3A30&to_CoworkerMessage_UpdatedOn=2025-01-15T10%3A46"
        "&page=1&size=100&orderBy=UpdatedOn&dir=1"
    )


def test_filters_left_out_are_not_sent(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([]))

    first_page(make_client())

    assert set(query(api_calls(rsps)[0])) == {"page", "size", "orderBy", "dir"}


def test_account_filters_are_encoded_exactly(rsps, make_client):
    token_ok(rsps)
    rsps.get(ACCOUNTS_URL, json=page([]))

    list(make_client().iter_account_pages(
        active=True, business_id=9, updated_from=datetime(2025, 3, 1, 9, 5, 30),  # naive: UTC
        updated_to=datetime(2025, 3, 2, 9, 5, tzinfo=timezone.utc)))

    assert query(api_calls(rsps)[0]) == {
        "EmailAccount_Active": ["true"], "EmailAccount_Business": ["9"],
        "from_EmailAccount_UpdatedOn": ["2025-03-01T09:05"], "to_EmailAccount_UpdatedOn": ["2025-03-02T09:05"],
        "page": ["1"], "size": ["50"], "orderBy": ["Id"], "dir": ["1"],
    }


@pytest.mark.parametrize(
    "value, round_up, expected",
    [
        (datetime(2025, 1, 15, 10, 30, 0, tzinfo=timezone.utc), False, "2025-01-15T10:30"),
        (datetime(2025, 1, 15, 10, 30, 59, tzinfo=timezone.utc), False, "2025-01-15T10:30"),
        (datetime(2025, 1, 15, 10, 30, 0, tzinfo=timezone.utc), True, "2025-01-15T10:30"),
        (datetime(2025, 1, 15, 10, 30, 0, 1, tzinfo=timezone.utc), True, "2025-01-15T10:31"),
        (datetime(2025, 12, 31, 23, 59, 30, tzinfo=timezone.utc), True, "2026-01-01T00:00"),
        (datetime(2025, 1, 15, 1, 30, tzinfo=timezone(timedelta(hours=5))), False, "2025-01-14T20:30"),
        (date(2025, 1, 15), False, "2025-01-15T00:00"),
        (date(2025, 1, 15), True, "2025-01-16T00:00"),
    ],
)
def test_filter_datetimes_are_utc_to_the_minute(value, round_up, expected):
    assert format_filter_datetime(value, round_up=round_up) == expected


def test_a_wrong_filter_type_is_refused_before_any_request(make_client):
    with pytest.raises(TypeError):
        next(iter(make_client().iter_message_pages(email_account_id="12")))
    with pytest.raises(TypeError):
        next(iter(make_client().iter_message_pages(updated_from="2025-01-01")))
