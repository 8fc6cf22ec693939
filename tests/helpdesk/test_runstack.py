"""The README's run command, for real: the whole stack on the embedded default, in subprocesses.

Starts `manage.py runstack` as a new user would (SQLite, embedded Redis, Celery worker and beat,
gunicorn, the sandbox as the source), signs in over HTTP, and waits for the mirror to fill.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def count(db: Path, table: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:
        return -1


@pytest.mark.worker
def test_run_command_brings_up_the_stack_and_fills_the_mirror(tmp_path):
    web_port, redis_port = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SANDBOX_DATABASE_URL", "DJANGO_SETTINGS_MODULE",
                     "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}
        and not k.startswith(("NEXUDUS_", "SANDBOX_"))
    }
    env.update(
        HELPDESK_VAR_DIR=str(tmp_path),
        EMBEDDED_REDIS_PORT=str(redis_port),
        PORT=str(web_port),
        DJANGO_SETTINGS_MODULE="helpdesk.settings",
    )
    log = (tmp_path / "runstack.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runstack", "--no-live", "--sandbox-messages", "800"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{web_port}"
    try:
        output = lambda: (tmp_path / "runstack.log").read_text()  # noqa: E731
        wait_for(lambda: "in your browser" in output() or proc.poll() is not None, 180, "the banner")
        assert proc.poll() is None, output()
        password = re.search(r"Sign in as admin: username 'admin', password '([^']+)'", output()).group(1)

        def healthz_answers():
            try:
                return requests.get(f"{base}/healthz", timeout=5).status_code in (200, 503)
            except requests.RequestException:
                return False

        wait_for(healthz_answers, 60, "the web server")
        # The first sync was queued at start-up: within a minute the mirror equals the sandbox.
        mirror, source = tmp_path / "db.sqlite3", tmp_path / "sandbox.sqlite3"
        expected = count(source, "sandbox_coworkermessage")
        assert expected >= 800
        wait_for(lambda: count(mirror, "inbox_coworkermessage") == expected, 60, "the mirror to fill")
        accounts = count(source, "sandbox_emailaccount")
        assert accounts > 0
        # Both syncs are queued at start-up and run side by side: either may finish first.
        wait_for(lambda: count(mirror, "inbox_emailaccount") == accounts, 30, "the accounts to fill")

        session = requests.Session()
        login = session.get(f"{base}/login/", timeout=10)
        token = session.cookies["csrftoken"]
        response = session.post(
            f"{base}/login/",
            data={"username": "admin", "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/login/"},
            timeout=10,
        )
        assert login.status_code == 200 and response.status_code == 200
        assert response.url.rstrip("/") == base  # signed in, landed on the inbox
        assert session.get(f"{base}/healthz", timeout=10).status_code == 200

        # DEBUG is off under the run command: the app's own 404 page, no list of URL patterns,
        # and the collected static files are served (hashed names, by WhiteNoise).
        missing = session.get(f"{base}/no-such-page/", timeout=10)
        assert missing.status_code == 404
        assert "Not found · Help desk" in missing.text and "URLconf" not in missing.text
        stylesheets = re.findall(r'<link rel="stylesheet" href="(/static/[^"]+)"', login.text)
        assert stylesheets and all(re.search(r"\.[0-9a-f]{12}\.css$", href) for href in stylesheets)
        for href in stylesheets:
            css = session.get(f"{base}{href}", timeout=10)
            assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
        # var/ and what the stack wrote in it are the owner's alone.
        assert tmp_path.stat().st_mode & 0o777 == 0o700
        for name in ("db.sqlite3", "secret-key", "redis/password"):
            assert (tmp_path / name).stat().st_mode & 0o077 == 0, name
        # One line per sync run on the console, not one per request or poll.
        console = output()
        assert "GET /" not in console and "Task inbox.tasks" not in console
        assert re.search(r"messages sync #\d+ \(full, startup\): \d+ seen", console)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            status = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        log.close()
    assert status == 0, (tmp_path / "runstack.log").read_text()[-3000:]
    from helpdesk import embedded_redis

    assert not embedded_redis.is_running(redis_port)


@pytest.mark.django_db
def test_against_a_real_tenant_no_demo_logins_and_the_banner_says_how_to_sign_in(settings, tmp_path):
    """With NEXUDUS_USERNAME set the mirror holds a real tenant's customer mail: no well-known
    demo usernames whose passwords sit in the console; the banner says how to make the first admin
    and who gets the alerts."""
    from io import StringIO

    from django.contrib.auth import get_user_model

    from inbox.management.commands.runstack import Command

    User = get_user_model()
    settings.VAR_DIR, settings.HELPDESK_ALERT_EMAILS = tmp_path, []
    settings.NEXUDUS_USES_SANDBOX = False

    def banner() -> str:
        out = StringIO()
        Command(stdout=out).banner(host="127.0.0.1", port=8000, logins=[])
        return out.getvalue()

    assert Command().ensure_demo_users() == [] and not User.objects.exists()
    assert not list(tmp_path.glob("demo-*"))
    text = banner()
    assert "No one can sign in yet" in text and "manage.py createsuperuser" in text
    assert "go to no one yet: set HELPDESK_ALERT_EMAILS" in text
    User.objects.create_superuser("boss", "boss@tenant.example", "a long enough password")
    text = banner()
    assert "No one can sign in" not in text and "Alerts of failing mail accounts go to: boss@tenant.example" in text

    settings.NEXUDUS_USES_SANDBOX = True  # the demo: its two logins, made once
    logins = Command().ensure_demo_users()
    assert [(role, name) for role, name, _ in logins] == [("admin", "admin"), ("staff", "staff")]
    assert "No one can sign in" not in banner()
