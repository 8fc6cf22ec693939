"""Accounts in each health state (built by tests/factories.py), a real Celery worker, and the
sandbox served over a live server."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from inbox.models import EmailAccount
from tests.factories import make_account

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
    return make_account(now=now, **{**names, **fields, **extra})


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
