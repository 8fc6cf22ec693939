"""Sessions are Django's database sessions, read by a precompiled query (inbox.auth.sessions):
the same rows, the same answers, one query, and an expired or forged session is nobody's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.backends import db as django_db
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.auth import sessions

pytestmark = pytest.mark.django_db


def test_it_is_the_engine_in_use():
    assert settings.SESSION_ENGINE == "inbox.auth.sessions"


def test_a_session_written_by_either_engine_is_read_by_both():
    ours = sessions.SessionStore()
    ours.update({"a": 1, "who": "Zoë"})
    ours.save()
    theirs = django_db.SessionStore()
    theirs["b"] = [1, 2]
    theirs.save()
    assert django_db.SessionStore(ours.session_key).load() == {"a": 1, "who": "Zoë"}
    assert sessions.SessionStore(theirs.session_key).load() == {"b": [1, 2]}
    assert dict(sessions.SessionStore(ours.session_key).items()) == {"a": 1, "who": "Zoë"}


def test_reading_a_session_is_one_query():
    store = sessions.SessionStore()
    store["a"] = 1
    store.save()
    with CaptureQueriesContext(connection) as queries:
        assert sessions.SessionStore(store.session_key)["a"] == 1
    assert len(queries) == 1 and "django_session" in queries[0]["sql"]


def test_an_expired_an_unknown_or_a_tampered_session_is_empty():
    store = sessions.SessionStore()
    store["a"] = 1
    store.save()
    key = store.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    expired = sessions.SessionStore(key)
    assert expired.load() == {} and expired.session_key is None  # as Django's engine: a new key next
    assert sessions.SessionStore("x" * 32).load() == {}
    fresh = sessions.SessionStore()
    fresh["a"] = 1
    fresh.save()
    Session.objects.filter(session_key=fresh.session_key).update(session_data="e30:forged:signature")
    assert sessions.SessionStore(fresh.session_key).load() == {}


def test_a_session_just_before_and_just_after_its_expiry(monkeypatch):
    store = sessions.SessionStore()
    store["a"] = 1
    store.save()
    expiry = Session.objects.get(session_key=store.session_key).expire_date
    monkeypatch.setattr(sessions.timezone, "now", lambda: expiry - dt.timedelta(microseconds=1))
    assert sessions.SessionStore(store.session_key).load() == {"a": 1}
    monkeypatch.setattr(sessions.timezone, "now", lambda: expiry)
    assert sessions.SessionStore(store.session_key).load() == {}


def test_signing_in_and_out_through_the_pages(client, staff_user):
    response = client.post("/login/", {"username": "staff", "password": "staff-pass-123"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert sessions.SessionStore(key).load()["_auth_user_id"] == str(staff_user.pk)
    client.post("/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get("/").status_code == 302  # to the sign-in page
