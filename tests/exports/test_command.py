"""``manage.py export_messages``: the same filters, rows and bytes as ``/export.csv``."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from inbox.models import CoworkerMessage, MessageMark
from tests.exports.fixtures import read_csv, response_bytes
from tests.factories import make_account, make_mixed_messages

ROOT = Path(settings.BASE_DIR)


def run_command(*args: str) -> tuple[bytes, str]:
    """Run the command in this process; (stdout bytes, stderr text)."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    call_command("export_messages", *args, stdout=out, stderr=err)
    out.flush()
    return out.buffer.getvalue(), err.getvalue()


@pytest.fixture
def mailbox(staff_user):
    make_account(id=11, display_name="Account 11")
    make_account(id=12, display_name="Account 12")
    messages = make_mixed_messages(150, start=dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC))  # the days asked below
    for message in messages[:40]:
        MessageMark.objects.create(user=staff_user, message=message, is_read=message.pk % 2 == 0)
    return messages


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "query"),
    [
        ([], ""),
        (["--unread"], "unread=1"),
        (["--direction", "incoming", "--account", "11"], "direction=incoming&account=11"),
        (["--account", "none", "--q", "invoice"], "account=none&q=invoice"),
        (["--customer", "103", "--since", "2026-11-04", "--until", "2026-11-15"], "customer=103&since=2026-11-04&until=2026-11-15"),
    ],
)
def test_the_command_writes_what_the_view_serves(staff_client, mailbox, options, query):
    view = response_bytes(staff_client.get("/export.csv?" + query))
    out, _ = run_command(*options, "--user", "staff", "-v", "0")
    assert out == view
    assert len(read_csv(out)) > 2


@pytest.mark.django_db
def test_without_a_user_unread_is_nexudus_flag(staff_user, mailbox):
    out, _ = run_command("-v", "0")
    rows = read_csv(out)[1:]
    flags = dict(CoworkerMessage.objects.values_list("id", "is_new_message"))
    assert {int(r[0]): r[4] == "yes" for r in rows} == {int(r[0]): flags[int(r[0])] for r in rows}
    # ... while staff's marks change it for them
    mine, _ = run_command("-v", "0", "--user", "staff")
    assert [r[4] for r in read_csv(mine)[1:]] != [r[4] for r in rows]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--since", "2026-02-30"], "--since"),
        (["--direction", "up"], "--direction"),
        (["--account", "front"], "--account"),
        (["--customer", "0"], "--customer"),
        (["--since", "2026-03-01", "--until", "2026-02-01"], "--until"),
    ],
)
def test_a_bad_filter_is_an_error_naming_it(options, named):
    with pytest.raises(CommandError) as raised:
        run_command(*options)
    assert named in str(raised.value)
    assert "ignored" not in str(raised.value)


@pytest.mark.django_db
def test_an_unknown_user_is_an_error():
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        run_command("--user", "nobody")


@pytest.mark.django_db
def test_output_file_is_complete_and_progress_goes_to_stderr(tmp_path, mailbox):
    target = tmp_path / "out.csv"
    out, err = run_command("-o", str(target), "--direction", "outgoing")
    assert out == b""
    rows = read_csv(target.read_bytes())
    expected = CoworkerMessage.objects.filter(deleted_at__isnull=True, incoming=False).count()
    assert len(rows) == expected + 1
    assert not (tmp_path / "out.csv.part").exists()
    assert f"Exported {expected} messages" in err


@pytest.mark.django_db
def test_an_unwritable_output_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="--output: cannot write"):
        run_command("-o", str(tmp_path / "missing-dir" / "out.csv"))


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_the_real_command_line_streams_csv_on_stdout_and_a_bar_on_stderr(mailbox):
    """A separate process, as cron or a person runs it: stdout is the CSV, stderr the progress."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DATABASE_URL": _database_url(),
        "PYTHONIOENCODING": "utf-8",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "export_messages", "--direction", "incoming"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    rows = read_csv(result.stdout)
    expected = CoworkerMessage.objects.filter(deleted_at__isnull=True, incoming=True).count()
    assert len(rows) == expected + 1
    stderr = result.stderr.decode()
    assert f"{expected}/{expected}" in stderr  # tqdm's final "n/total"
    assert "Exported" in stderr

    bad = subprocess.run(
        [sys.executable, "manage.py", "export_messages", "--since", "soon"],
        cwd=ROOT, env=env, capture_output=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode != 0
    assert b"--since" in bad.stderr and bad.stdout == b""
