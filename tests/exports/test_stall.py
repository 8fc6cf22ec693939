"""One person cannot stall the site with downloads: a real gunicorn with the documented settings,
16 export readers that read the headers and stop reading, and / and /healthz keep answering."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from inbox.models import CoworkerMessage
from tests.factories import build_message

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.timeout(180), pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    d = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{d['NAME']}"
    return f"postgres://{d['USER']}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


def big_mirror(n: int = 12_000) -> None:
    """About 13 MB of CSV: more than the socket buffers on both sides hold."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 18
    CoworkerMessage.objects.bulk_create(
        [
            build_message(
                pk=i, created_on=start + dt.timedelta(minutes=i), updated_on=start, incoming=True,
                coworker_id=1, coworker_full_name="Customer", subject=f"Subject {i} {filler[:80]}",
                body_text=filler, body=filler,
            )
            for i in range(1, n + 1)
        ],
        batch_size=2000,
    )


def stalled_reader(port: int, cookie: str) -> tuple[socket.socket, int]:
    """Asks for the export, reads the status line, then never reads again (a tiny receive window)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(20)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        f"GET /export.csv HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {settings.SESSION_COOKIE_NAME}={cookie}\r\n\r\n".encode()
    )
    head = sock.recv(2048)
    return sock, int(head.split(b" ", 2)[1])


def timed_get(url: str, **kwargs) -> tuple[int, float]:
    started = time.monotonic()
    response = requests.get(url, timeout=10, **kwargs)
    return response.status_code, time.monotonic() - started


def test_sixteen_stalled_exports_leave_the_site_answering(tmp_path):
    big_mirror()
    users = get_user_model().objects
    staff = users.create_user(username="exporter", password="x-pass-123456")
    other = users.create_user(username="colleague", password="y-pass-123456")
    cookies = {}
    for user in (staff, other):
        client = Client()
        client.force_login(user)
        cookies[user.username] = client.cookies[settings.SESSION_COOKIE_NAME].value

    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "EXPORT_SEND_TIMEOUT": "8",
    }
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:helpdesk.gunicorn_conf", "helpdesk.wsgi"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    readers = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code in (200, 503):
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline and server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.3)

        readers = [stalled_reader(port, cookies["exporter"]) for _ in range(16)]
        statuses = sorted(status for _, status in readers)
        allowed = min(16, settings.EXPORT_MAX_PER_USER, settings.EXPORT_MAX_TOTAL)
        assert statuses.count(200) == allowed and statuses.count(429) == 16 - allowed

        # Everyone else's pages answer at once while those hold their threads.
        signed_in = {"cookies": {settings.SESSION_COOKIE_NAME: cookies["colleague"]}}
        for _ in range(5):
            for url in (f"{base}/healthz", f"{base}/"):
                status, took = timed_get(url, **signed_in)
                assert status in (200, 503) and took < 1.0, (url, status, took)
        # A colleague may still export (the total is not reached by one person).
        with requests.get(f"{base}/export.csv", stream=True, timeout=10, **signed_in) as colleague:
            assert colleague.status_code == 200
            assert next(colleague.iter_content(1024))

        # The stalled readers are dropped after EXPORT_SEND_TIMEOUT, freeing the person's slots.
        time.sleep(12)
        with requests.get(f"{base}/export.csv", stream=True, timeout=10, **{
            "cookies": {settings.SESSION_COOKIE_NAME: cookies["exporter"]}
        }) as again:
            assert again.status_code == 200
    finally:
        for sock, _ in readers:
            sock.close()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
        log.close()
