"""Fixtures and checks for the sync's tests: the sandbox served over real HTTP, and "mirror == source".

Import the fixtures into a test module (``from tests.sync.fixtures import *``).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from django.db import connections

from inbox.models import Business, CoworkerMessage, EmailAccount
from inbox.nexudus import NexudusClient, clear_shared_tokens
from inbox.sync.text import body_to_text
from sandbox import models as sbx
from sandbox import services as sandbox

__all__ = [
    "BOTH_DBS",
    "NOW",
    "PAGE_SIZE",
    "HookedClient",
    "assert_mirror_equals_source",
    "server_errors",
    "nexudus_sandbox",
    "seeded",
]

BOTH_DBS = ["default", "sandbox"]
# Generated data is dated up to this moment; later changes carry the real clock.
NOW = datetime(2025, 6, 30, 12, 0, tzinfo=timezone.utc)
# Small pages, so a few hundred messages make a walk of many pages.
PAGE_SIZE = 50


@pytest.fixture
def nexudus_sandbox(live_server, settings):
    """The app's Nexudus is the sandbox, served by a live server over real HTTP."""
    settings.NEXUDUS_API_URL = live_server.url + "/sandbox"
    settings.NEXUDUS_USERNAME = settings.SANDBOX_USERNAME
    settings.NEXUDUS_PASSWORD = settings.SANDBOX_PASSWORD
    settings.NEXUDUS_PAGE_SIZE = PAGE_SIZE
    clear_shared_tokens()  # tokens of an earlier test's sandbox are not valid here
    yield live_server
    clear_shared_tokens()


@pytest.fixture
def seeded(nexudus_sandbox):
    """A generated source: 16 accounts in every health state, 40 customers, 420 messages."""
    return sandbox.seed(accounts=16, customers=40, messages=420, seed=7, now=NOW)


@contextmanager
def server_errors():
    """Count the 5xx answers the live server gives (Django logs each on ``django.request``)."""
    seen: list[logging.LogRecord] = []

    class Counter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if getattr(record, "status_code", 0) >= 500:
                seen.append(record)

    handler = Counter(level=logging.ERROR)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)


class HookedClient(NexudusClient):
    """The real client, calling ``between_pages(n)`` after page ``n`` of a message walk.

    With the sync's prefetching, the hook runs before page ``n + 1`` is requested: a change made
    there happens, deterministically, while the sync is in the middle of its walk.
    """

    between_pages = None

    def iter_message_pages(self, **kwargs):
        for number, page in enumerate(super().iter_message_pages(**kwargs), start=1):
            yield page
            if self.between_pages is not None:
                try:
                    self.between_pages(number)
                finally:
                    connections.close_all()  # this runs in the sync's fetching thread


def _second(value):
    return value.replace(microsecond=0) if value is not None else None


MESSAGE_FIELDS = [
    "unique_id", "coworker_id", "coworker_full_name", "coworker_email", "coworker_billing_name",
    "coworker_company_name", "email_account_id", "email_account_display_name",
    "email_account_email_address", "subject", "body", "is_new_message", "incoming", "message_id",
    "reminder_unique_id", "created_on", "updated_on", "updated_by", "is_new", "system_id",
]
ACCOUNT_FIELDS = [
    "unique_id", "business_id", "display_name", "email_address", "active",
    "send_notification_on_new_messages", "notification_email_address", "incoming_server",
    "incoming_server_type", "incoming_server_port", "incoming_server_ssl", "incoming_server_username",
    "delete_message_settings", "outgoing_server", "outgoing_server_port", "outgoing_server_ssl",
    "outgoing_server_username", "reply_to_email", "last_check_time", "last_message_id", "error_count",
    "created_on", "updated_on", "updated_by", "is_new", "system_id",
]
DATETIMES = {"created_on", "updated_on", "last_check_time"}


def _expected(row: dict, fields: list[str]) -> dict:
    return {f: (_second(row[f]) if f in DATETIMES else row[f]) for f in fields}


def expected_messages() -> dict[int, dict]:
    """What the mirror must hold for each source message: every field, as the API serves it."""
    out = {}
    for row in sbx.CoworkerMessage.objects.values("id", *MESSAGE_FIELDS):
        record = _expected(row, MESSAGE_FIELDS)
        record["to_string_text"] = (row["subject"] or "")[:500]  # the API's ToStringText
        record["body_text"] = body_to_text(row["body"])
        out[row["id"]] = record
    return out


def expected_accounts() -> dict[int, dict]:
    out = {}
    for row in sbx.EmailAccount.objects.values(
        "id", "google_access_token", "office365_access_token", *ACCOUNT_FIELDS
    ):
        record = _expected(row, ACCOUNT_FIELDS)
        record["to_string_text"] = row["display_name"] or row["email_address"] or ""
        record["has_google_token"] = bool(row["google_access_token"])
        record["has_office365_token"] = bool(row["office365_access_token"])
        out[row["id"]] = record
    return out


def _mirror(model, fields: list[str]) -> dict[int, dict]:
    return {row.pop("id"): row for row in model.objects.filter(deleted_at__isnull=True).values("id", *fields)}


def assert_mirror_equals_source(*, messages: bool = True, accounts: bool = True) -> None:
    """Every live mirror row equals its source record field by field, and no source record is missing."""
    if messages:
        expected = expected_messages()
        fields = [*MESSAGE_FIELDS, "to_string_text", "body_text"]
        actual = _mirror(CoworkerMessage, fields)
        assert sorted(actual) == sorted(expected), (
            f"missing {sorted(set(expected) - set(actual))[:10]}, extra {sorted(set(actual) - set(expected))[:10]}"
        )
        for pk, record in expected.items():
            assert actual[pk] == record, f"message {pk} differs"
        # Rows gone from the source are kept, marked deleted; none is live.
        assert not CoworkerMessage.objects.exclude(pk__in=list(expected)).filter(deleted_at__isnull=True).exists()
    if accounts:
        expected = expected_accounts()
        fields = [*ACCOUNT_FIELDS, "to_string_text", "has_google_token", "has_office365_token"]
        actual = _mirror(EmailAccount, fields)
        assert sorted(actual) == sorted(expected)
        for pk, record in expected.items():
            assert actual[pk] == record, f"account {pk} differs"
        source_businesses = dict(sbx.Business.objects.values_list("id", "name"))
        mirrored = dict(Business.objects.values_list("id", "name"))
        assert mirrored == {pk: name or "" for pk, name in source_businesses.items()}, (mirrored, source_businesses)
