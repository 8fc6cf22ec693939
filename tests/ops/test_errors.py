"""The database gone for a while: /healthz says 503 in JSON (session cookie or not), pages answer a
calm 503 page, nothing is half-written, and the mirror equals the source once it is back.

On PostgreSQL the connection goes through a TCP proxy that the test starts and cuts (every open
connection dropped, new ones refused), as a network partition or a database restart does. On
SQLite the database file's folder goes away (the path no longer opens).
"""

from __future__ import annotations

import random
import select
import socket
import threading
from contextlib import contextmanager

import pytest
import requests
from django.db import DatabaseError, connection, connections
from django.test import Client

from inbox.models import CoworkerMessage
from inbox.sync.services import sync_messages
from sandbox import live
from tests.sync.fixtures import *  # noqa: F403
from tests.sync.fixtures import assert_mirror_equals_source

pytestmark = [pytest.mark.timeout(120), pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])]


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``cut()`` drops every connection and refuses new ones."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = _free_port()
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def resume(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked on it (Linux)
            except OSError:
                pass
            listener.close()
            for thread in self._threads:
                thread.join(timeout=5)
            self._threads = []
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            thread = threading.Thread(target=self._pump, args=(client, upstream), daemon=True)
            thread.start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                try:
                    sock.close()
                except OSError:
                    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _drop_connections() -> None:
    for alias in ("default",):
        connections[alias].close()


@contextmanager
def database_that_can_be_cut():
    """Yields (cut, restore): the default database goes away and comes back."""
    settings_dict = connection.settings_dict
    original = dict(settings_dict)
    proxy = None
    if connection.vendor == "postgresql":
        proxy = TcpProxy((original["HOST"] or "127.0.0.1", int(original["PORT"] or 5432)))
        proxy.resume()
        settings_dict.update(HOST="127.0.0.1", PORT=str(proxy.port))

        def cut():
            proxy.cut()

        def restore():
            proxy.resume()
            _drop_connections()  # as a worker does between tasks
    else:
        def cut():
            settings_dict["NAME"] = "/nonexistent-folder/helpdesk.sqlite3"
            _drop_connections()

        def restore():
            settings_dict["NAME"] = original["NAME"]
            _drop_connections()
    _drop_connections()
    try:
        yield cut, restore
    finally:
        if proxy is not None:
            proxy.cut()
        settings_dict.clear()
        settings_dict.update(original)
        _drop_connections()


def test_an_outage_is_503_then_recovered_from(seeded, live_server, staff_user, settings):
    """Pages are asked of the live server over HTTP, so each request runs as in production (its own
    thread, connections checked at the request's start and end)."""
    base = live_server.url
    signed_in = Client()
    signed_in.force_login(staff_user)
    browser = requests.Session()  # holds a session cookie, as a person or a monitor may
    browser.cookies.set(settings.SESSION_COOKIE_NAME, signed_in.cookies[settings.SESSION_COOKIE_NAME].value)
    with database_that_can_be_cut() as (cut, restore):
        sync_messages(mode="full")
        assert_mirror_equals_source(accounts=False)
        assert browser.get(f"{base}/", timeout=10).status_code == 200

        cut()
        for caller in (browser, requests):
            health = caller.get(f"{base}/healthz", timeout=10)
            assert health.status_code == 503 and health.headers["Content-Type"] == "application/json"
            assert health.json()["database"] == {"ok": False, "error": "unreachable"}

        page = browser.get(f"{base}/", timeout=10)
        assert page.status_code == 503 and page.headers["Retry-After"] == "30"
        assert "The database does not answer just now" in page.text and "Something went wrong" not in page.text
        assert browser.get(f"{base}/export.csv", timeout=10).status_code == 503
        assert browser.get(f"{base}/messages/1/", timeout=10).status_code == 503

        # New mail reaches Nexudus meanwhile; a sync during the outage writes nothing.
        live.tick(random.Random(5))
        with pytest.raises(DatabaseError):
            sync_messages(mode="incremental")

        restore()
        assert browser.get(f"{base}/healthz", timeout=10).json()["database"]["ok"] is True
        assert browser.get(f"{base}/", timeout=10).status_code == 200
        sync_messages(mode="incremental")
        assert_mirror_equals_source(accounts=False)
        assert CoworkerMessage.objects.filter(deleted_at__isnull=True).count() > 420


def test_other_errors_stay_a_500_page(rf):
    from django.db import OperationalError

    from inbox.ops.errors import server_error

    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(rf.get("/"))
    assert response.status_code == 500 and b"Something went wrong" in response.content
    try:
        try:
            raise OperationalError("connection refused")
        except OperationalError as exc:
            raise RuntimeError("while rendering") from exc
    except RuntimeError:
        response = server_error(rf.get("/"))
    assert response.status_code == 503
