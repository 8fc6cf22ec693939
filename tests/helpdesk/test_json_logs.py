"""LOG_FORMAT=json: one JSON object a line, one line per sync run, and never a token, a password or
a message body, in a whole full sync run as a separate process (the sync_nexudus command)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from sandbox import models as sbx
from tests.sync.fixtures import nexudus_sandbox, seeded  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.timeout(180), pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])]
PASSWORD = "Pa55-only-in-this-test-9f3b"


def database_url() -> str:
    d = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{d['NAME']}"
    return f"postgres://{d['USER']}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


def test_a_full_sync_logs_json_lines_without_secrets(seeded, settings):
    settings.SANDBOX_PASSWORD = PASSWORD  # what the sandbox (served by this test) accepts
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",  # the most the app ever says
        "NEXUDUS_API_URL": settings.NEXUDUS_API_URL,
        "NEXUDUS_USERNAME": settings.SANDBOX_USERNAME,
        "NEXUDUS_PASSWORD": PASSWORD,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "sync_nexudus", "--full"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=150,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    lines = [line for line in result.stderr.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    runs = [r for r in records if r.get("event") == "sync_run"]
    assert sorted(r["resource"] for r in runs) == ["accounts", "messages"]
    messages_run = next(r for r in runs if r["resource"] == "messages")
    assert messages_run["status"] == "success" and messages_run["records_seen"] == sbx.CoworkerMessage.objects.count()

    everything = result.stdout + result.stderr
    secrets = [PASSWORD, *sbx.Token.objects.values_list("key", flat=True)]
    assert len(secrets) > 1  # the run signed in: its tokens are known
    bodies = [b for b in sbx.CoworkerMessage.objects.values_list("body", flat=True) if b and len(b) >= 40]
    leaked = [s for s in secrets if s in everything] + [b[:40] for b in bodies if b[:40] in everything]
    assert not leaked
