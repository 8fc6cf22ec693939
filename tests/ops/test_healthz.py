"""``/healthz``: database, Redis (a real server, stopped in the test) and the age of the syncs."""

from __future__ import annotations

import json
import socket
import time
from datetime import timedelta
from unittest import mock

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from django.conf import settings
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from helpdesk import embedded_redis
from tests.factories import make_success

pytestmark = pytest.mark.django_db

URL = "/healthz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(port: int) -> bool:
    client = redis.Redis(port=port, socket_connect_timeout=0.2, socket_timeout=0.5, retry=Retry(NoBackoff(), 0))
    try:
        return bool(client.ping())
    except redis.AuthenticationError:
        return True  # it answers, asking for its password
    except redis.RedisError:
        return False
    finally:
        client.close()


@pytest.fixture
def synced():
    now = timezone.now()
    make_success("messages", now - timedelta(seconds=30))
    make_success("accounts", now - timedelta(seconds=90))


def get(client):
    response = client.get(URL)
    return response, json.loads(response.content)


def test_url_name_is_the_contract():
    assert reverse("healthz") == URL


def test_healthy_is_200_without_signing_in(client, synced):
    response, body = get(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True and body["database"]["latency_ms"] >= 0
    assert body["redis"]["ok"] is True and body["redis"]["latency_ms"] >= 0
    messages = body["sync"]["messages"]
    assert messages["ok"] is True and 29 <= messages["age_seconds"] <= 60
    assert timezone.datetime.fromisoformat(messages["last_success"])
    assert body["sync"]["accounts"]["ok"] is True


def test_says_nothing_secret(client, synced):
    text = get(client)[0].content.decode()
    for secret in (settings.SECRET_KEY, settings.REDIS_URL, settings.NEXUDUS_PASSWORD, settings.NEXUDUS_USERNAME,
                   str(settings.DATABASES["default"]["NAME"]), "127.0.0.1", "redis://"):
        assert secret not in text


def test_never_synced_is_503(client):
    response, body = get(client)
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["sync"]["messages"] == {
        "ok": False, "last_success": None, "age_seconds": None, "backoff": None, "credentials_refused": False,
    }


def test_a_message_sync_older_than_the_threshold_is_503(client, settings):
    settings.HEALTHZ_MAX_SYNC_AGE = 600
    now = timezone.now()
    make_success("messages", now - timedelta(seconds=610))
    make_success("accounts", now - timedelta(seconds=10))
    response, body = get(client)
    assert response.status_code == 503
    assert body["sync"]["messages"]["ok"] is False
    assert body["sync"]["accounts"]["ok"] is True


def test_only_successes_count(client, synced, settings):
    from inbox.models import SyncRun

    settings.HEALTHZ_MAX_SYNC_AGE = 60
    SyncRun.objects.filter(resource="messages").update(finished_at=timezone.now() - timedelta(hours=1))
    SyncRun.objects.create(resource="messages", mode="incremental", status="failed", finished_at=timezone.now())
    assert get(client)[0].status_code == 503


def test_credentials_refused_since_the_last_success_fail_at_once(client, synced):
    """Not after HEALTHZ_MAX_SYNC_AGE: a wrong password does not fix itself, a monitor should page now."""
    from inbox.models import SyncRun

    response, body = get(client)
    assert response.status_code == 200 and body["sync"]["messages"]["credentials_refused"] is False
    now = timezone.now()
    SyncRun.objects.create(resource="messages", mode="incremental", status="failed", error_kind="credentials",
                           started_at=now, finished_at=now)
    response, body = get(client)
    assert response.status_code == 503
    assert body["sync"]["messages"]["ok"] is False and body["sync"]["messages"]["credentials_refused"] is True
    assert body["sync"]["accounts"]["ok"] is True  # its own runs
    make_success("messages", timezone.now() + timedelta(seconds=1))  # changed, and a run worked again
    assert get(client)[0].status_code == 200


def test_accounts_have_their_own_larger_threshold(client, settings):
    settings.HEALTHZ_MAX_SYNC_AGE = 600
    settings.HEALTHZ_MAX_ACCOUNTS_SYNC_AGE = 1800
    now = timezone.now()
    make_success("messages", now - timedelta(seconds=10))
    make_success("accounts", now - timedelta(seconds=1200))
    assert get(client)[0].status_code == 200
    settings.HEALTHZ_MAX_ACCOUNTS_SYNC_AGE = 1000
    response, body = get(client)
    assert response.status_code == 503 and body["sync"]["accounts"]["ok"] is False


def test_redis_stopped_is_503_within_two_seconds(client, synced, settings, tmp_path):
    port, directory = free_port(), tmp_path / "redis"
    embedded_redis.ensure(port, directory)
    try:
        settings.REDIS_URL = embedded_redis.url(port, directory)
        assert get(client)[0].status_code == 200
        embedded_redis.stop(port, directory)
        started = time.monotonic()
        response, body = get(client)
        assert time.monotonic() - started < 2
        assert response.status_code == 503
        assert body["status"] == "fail"
        assert body["redis"] == {"ok": False, "error": "unreachable"}
        assert body["database"]["ok"] is True
    finally:
        if alive(port):  # redis-py's default retries make stop() on a dead server take seconds
            embedded_redis.stop(port, directory)


def test_a_redis_that_hangs_fails_fast(client, synced, settings):
    # A socket that accepts connections (the kernel does, into the backlog) but never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        settings.REDIS_URL = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        started = time.monotonic()
        response, body = get(client)
        assert time.monotonic() - started < 2.5
    assert response.status_code == 503
    assert body["redis"]["ok"] is False


def test_an_unreachable_database_is_503(client):
    broken = mock.MagicMock()
    broken.cursor.side_effect = OperationalError("could not connect to server")
    with mock.patch("inbox.ops.healthz.connection", broken):
        response, body = get(client)
    assert response.status_code == 503
    assert body["database"] == {"ok": False, "error": "unreachable"}
    assert body["sync"]["messages"]["ok"] is False
    assert "could not connect" not in response.content.decode()


def test_only_get(client):
    assert client.post(URL).status_code == 405


def test_healthz_is_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/login/").status_code == 301


def test_the_favicon_is_the_sites_icon_for_anyone(client):
    """Asked by browsers on answers that name no icon (this JSON): not a 404 logged each time."""
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].startswith("/static/favicon") and response["Location"].endswith(".svg")
