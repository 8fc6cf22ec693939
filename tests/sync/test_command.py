"""``manage.py sync_nexudus``: summary lines, progress bar, exit status (in-process and as a subprocess)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from inbox.models import CoworkerMessage, SyncRun
from sandbox import services as sandbox
from tests.sync.fixtures import BOTH_DBS, assert_mirror_equals_source, nexudus_sandbox, seeded  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH_DBS)

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(
    r"^(?P<resource>messages|accounts): (?P<seen>\d+) seen, (?P<created>\d+) created, (?P<updated>\d+) updated, "
    r"(?P<deleted>\d+) deleted in \d+\.\d s, (?P<requests>\d+) requests?$",
    re.MULTILINE,
)


def run_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("sync_nexudus", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_summary_line_per_resource(seeded):
    out, _ = run_command()
    lines = {m["resource"]: m.groupdict() for m in SUMMARY.finditer(out)}
    assert set(lines) == {"accounts", "messages"}
    # First, which Nexudus (a command run without the server's environment would read another one).
    from django.conf import settings

    assert out.splitlines()[0].startswith("Nexudus source: ") and settings.NEXUDUS_API_URL in out.splitlines()[0]
    assert lines["messages"]["seen"] == lines["messages"]["created"] == "420"
    assert lines["accounts"]["created"] == "16"
    assert_mirror_equals_source()
    ids = list(CoworkerMessage.objects.order_by("pk").values_list("pk", flat=True))
    sandbox.delete_messages(ids[:4])
    out, _ = run_command("--full", "--resource", "messages")
    (line,) = SUMMARY.finditer(out)
    assert line["resource"] == "messages" and line["deleted"] == "4" and line["seen"] == "416"
    assert SyncRun.objects.filter(trigger="command").count() == 3


def test_progress_bar_on_stderr(seeded):
    _, err = run_command("--resource", "messages", "--progress")
    assert "messages:" in err and "9/9" in err and "page" in err
    # While it walks: what was written so far; at the end, how many Nexudus listed too.
    assert "written=50" in err and "seen=420, written=420" in err
    _, err = run_command("--resource", "messages", "--no-progress")
    assert err == ""


def test_failure_raises_with_the_error_text(seeded, settings):
    settings.NEXUDUS_PASSWORD = "definitely-wrong"
    from inbox.nexudus import clear_shared_tokens

    clear_shared_tokens()
    with pytest.raises(CommandError, match="NEXUDUS_PASSWORD") as error:
        run_command("--resource", "messages")
    assert "definitely-wrong" not in str(error.value)
    assert SyncRun.objects.get().error_kind == "credentials"


def _subprocess_env(live_server, **extra) -> dict:
    db = connections["default"].settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        database_url = f"sqlite:///{db['NAME']}"
    else:
        database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url,  # the test database the live server also uses
        "NEXUDUS_API_URL": live_server.url + "/sandbox",
        "NEXUDUS_PAGE_SIZE": "100",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("NEXUDUS_USERNAME", None)
    env.pop("NEXUDUS_PASSWORD", None)
    env.update(extra)
    return env


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "sync_nexudus", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def test_exit_status_as_a_subprocess(seeded, live_server):
    done = _manage(_subprocess_env(live_server))
    assert done.returncode == 0, done.stderr
    assert {m["resource"] for m in SUMMARY.finditer(done.stdout)} == {"accounts", "messages"}
    assert CoworkerMessage.objects.count() == 420

    refused = _manage(
        _subprocess_env(live_server, NEXUDUS_USERNAME="someone@example.com", NEXUDUS_PASSWORD="nope-not-it"),
        "--resource", "messages",
    )
    assert refused.returncode != 0
    assert "NEXUDUS_USERNAME" in refused.stderr and "nope-not-it" not in refused.stderr + refused.stdout
    assert "Traceback" not in refused.stderr
