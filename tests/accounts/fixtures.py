"""Factories for the health tests: mirror rows in each state, and messages at chosen times."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from inbox.models import Business, CoworkerMessage, EmailAccount, SyncRun

_ids = itertools.count(10_000)


def healthy_fields(now: datetime | None = None) -> dict:
    now = now or timezone.now()
    return dict(
        active=True,
        display_name="Front desk",
        email_address="hello@example.com",
        incoming_server="imap.example.com",
        incoming_server_type=1,
        incoming_server_port=993,
        incoming_server_ssl=True,
        outgoing_server="smtp.example.com",
        outgoing_server_port=587,
        outgoing_server_ssl=True,
        last_check_time=now - timedelta(minutes=5),
        error_count=0,
        created_on=now - timedelta(days=200),
        business_id=1,
    )


def make_account(**fields) -> EmailAccount:
    values = {**healthy_fields(), **fields}
    values.setdefault("id", next(_ids))
    return EmailAccount.objects.create(**values)


def make_business(id: int, name: str) -> Business:
    return Business.objects.create(id=id, name=name)


def make_messages(account: EmailAccount | None, times, *, incoming: bool = True, **fields) -> list[CoworkerMessage]:
    messages = [
        CoworkerMessage(
            id=next(_ids),
            email_account=account,
            incoming=incoming,
            created_on=at,
            subject=fields.get("subject", f"Message at {at:%d %b %H:%M}"),
            coworker_full_name=fields.get("coworker_full_name", "Ada Customer"),
            deleted_at=fields.get("deleted_at"),
        )
        for at in times
    ]
    return CoworkerMessage.objects.bulk_create(messages)


def make_success(resource: str, finished_at: datetime, **fields) -> SyncRun:
    return SyncRun.objects.create(
        resource=resource,
        mode=fields.pop("mode", SyncRun.Mode.INCREMENTAL),
        status=SyncRun.Status.SUCCESS,
        started_at=finished_at - timedelta(seconds=3),
        finished_at=finished_at,
        **fields,
    )


# Accounts in every state, by name: (fields, expected status, expected reason codes)
STATES = {
    "healthy": ({}, "healthy", set()),
    "inactive": ({"active": False}, "inactive", {"inactive"}),
    "erroring": ({"error_count": 2}, "warning", {"errors"}),
    "failing": ({"error_count": 12}, "failing", {"errors"}),
    "stale": ({"last_check_time_ago": timedelta(minutes=50)}, "warning", {"stale"}),
    "very stale": ({"last_check_time_ago": timedelta(hours=5)}, "failing", {"stale"}),
    "never checked": ({"last_check_time": None}, "failing", {"never_checked"}),
    "insecure": ({"incoming_server_ssl": False, "outgoing_server_ssl": False}, "warning",
                 {"insecure_incoming", "insecure_outgoing"}),
    "no server": ({"incoming_server": None}, "failing", {"no_incoming_server"}),
    "port zero": ({"incoming_server_port": 0}, "failing", {"no_incoming_port"}),
    "unknown type": ({"incoming_server_type": 3}, "failing", {"unknown_server_type"}),
}


def make_state(name: str, now: datetime, **extra) -> EmailAccount:
    fields, _, _ = STATES[name]
    fields = dict(fields)
    if "last_check_time_ago" in fields:
        fields["last_check_time"] = now - fields.pop("last_check_time_ago")
    names = {"display_name": name.capitalize(), "email_address": f"{name.replace(' ', '-')}@example.com"}
    return make_account(**{**healthy_fields(now), **names, **fields, **extra})


# --- A real Celery worker, and the sandbox served over a live server -------------------------


@pytest.fixture
def sync_worker():
    """A real Celery worker in this process (the sync area's ``tests.workers.celery_worker``)."""
    from tests.workers import celery_worker

    with celery_worker() as worker:
        yield worker


@pytest.fixture
def sandbox_source(live_server, settings):
    """The sandbox, served by the live server, as the Nexudus every sync in this test talks to."""
    settings.NEXUDUS_API_URL = f"{live_server.url}/sandbox"
    settings.NEXUDUS_USERNAME = settings.SANDBOX_USERNAME
    settings.NEXUDUS_PASSWORD = settings.SANDBOX_PASSWORD
    return live_server


def sandbox_client(**overrides):
    from inbox.nexudus.configured import nexudus_client

    return nexudus_client(**overrides)
