"""``/healthz``: is the database answering, is Redis answering, is the sync keeping up?

200 when all three are fine, 503 otherwise, with JSON saying which. A resource's sync is not fine
when its last success is too old, when its runs have kept failing (Nexudus unavailable) for
longer than ``HEALTHZ_MAX_SYNC_FAILING`` (its ``backoff`` says how many times since when, and when
beat tries next), or at once when Nexudus refused the credentials since the last success
(``credentials_refused``: that needs someone to change them, waiting does not help). No sign-in (load balancers and monitors call it), so it says nothing secret: no
URLs, hosts or settings values, only states, latencies and ages. Redis is asked with short
timeouts (the shared client of the current ``REDIS_URL``), so a Redis that hangs costs at most
about a second.
"""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from inbox.models import SyncRun
from inbox.platform.redis import client as shared_client
from inbox.sync.runs.backoff import backoff_for

log = logging.getLogger(__name__)

REDIS_TIMEOUT = 1.0  # seconds: the check must answer quickly even when Redis does not


def check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        log.warning("healthz: database unreachable: %s", error)
        return {"ok": False, "error": "unreachable"}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def check_redis() -> dict:
    timeout = min(REDIS_TIMEOUT, settings.REDIS_SOCKET_CONNECT_TIMEOUT, settings.REDIS_SOCKET_TIMEOUT)
    # One immediate retry (a pooled connection gone stale after a Redis restart), no backoff:
    # redis-py's default (three, with backoff: about 4 s) is too long for a health check.
    client = shared_client(connect_timeout=timeout, socket_timeout=timeout, retries=1)
    started = time.perf_counter()
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        log.warning("healthz: Redis unreachable: %s", error.__class__.__name__)
        return {"ok": False, "error": "unreachable"}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def check_sync(resource: str, *, max_age: int, now) -> dict:
    run = SyncRun.objects.last_success(resource)
    last = run.finished_at if run is not None else None
    backoff = backoff_for(resource)
    failing_too_long = (
        backoff is not None and (now - backoff.since).total_seconds() > settings.HEALTHZ_MAX_SYNC_FAILING
    )
    refused = SyncRun.objects.filter(resource=resource, status=SyncRun.Status.FAILED, error_kind="credentials")
    if last is not None:
        refused = refused.filter(finished_at__gt=last)
    state = {"backoff": backoff.as_json() if backoff is not None else None, "credentials_refused": refused.exists()}
    if last is None:
        return {"ok": False, "last_success": None, "age_seconds": None, **state}
    age = max(int((now - last).total_seconds()), 0)
    ok = age <= max_age and not failing_too_long and not state["credentials_refused"]
    return {"ok": ok, "last_success": last.isoformat(), "age_seconds": age, **state}


@login_not_required
@never_cache
@require_GET
def healthz(request):
    now = timezone.now()
    database, redis_state = check_database(), check_redis()
    if database["ok"]:
        sync = {
            SyncRun.Resource.MESSAGES.value: check_sync("messages", max_age=settings.HEALTHZ_MAX_SYNC_AGE, now=now),
            SyncRun.Resource.ACCOUNTS.value: check_sync(
                "accounts", max_age=settings.HEALTHZ_MAX_ACCOUNTS_SYNC_AGE, now=now
            ),
        }
    else:
        sync = {r: {"ok": False, "error": "database unreachable"} for r in ("messages", "accounts")}
    healthy = database["ok"] and redis_state["ok"] and all(s["ok"] for s in sync.values())
    body = {
        "status": "ok" if healthy else "fail",
        "checked_at": now.isoformat(),
        "database": database,
        "redis": redis_state,
        "sync": sync,
    }
    return JsonResponse(body, status=200 if healthy else 503)


urlpatterns = [
    path("healthz", healthz, name="healthz"),
]
