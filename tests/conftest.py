"""Fixtures shared by the whole suite: real Redis, real database, signed-in users."""

from __future__ import annotations

import pytest
import redis as redis_lib
from django.conf import settings


@pytest.fixture(scope="session", autouse=True)
def _embedded_redis():
    """The suite talks to a real Redis: REDIS_URL's, or the embedded one started here (and stopped
    at the end, so a later run with another var/ and so another password finds the port free)."""
    from helpdesk.embedded_redis import ensure_from_settings, stop_from_settings

    started = ensure_from_settings()
    yield
    if started:
        stop_from_settings()


@pytest.fixture(scope="session", autouse=True)
def _partials_tell_the_test_client():
    """Django's test client learns a response's templates and context from the ``template_rendered``
    signal, which the test environment makes every Template send; a named partial
    (``"page.html#name"``, django-template-partials) is rendered by its own class, so it is taught
    the same (https://docs.djangoproject.com/en/5.2/topics/testing/tools/#django.test.Response.context)."""
    from django.test.utils import instrumented_test_render
    from template_partials.templatetags.partials import TemplateProxy

    original = TemplateProxy._render
    TemplateProxy._render = instrumented_test_render
    yield
    TemplateProxy._render = original


@pytest.fixture(autouse=True)
def _cache_breakers_closed():
    """A test that stops Redis trips the "cache is down, skip it for a while" breakers; each test
    starts with them closed, so no test depends on what ran before it."""
    from inbox.platform import cache

    cache.reset()
    yield
    cache.reset()


@pytest.fixture(autouse=True)
def _export_slots_free():
    """Tests that don't read a download to its end leave its slot held (a real server always
    closes the response); each test starts with every export slot free."""
    yield
    from inbox.exports.slots import KEY_PREFIX
    from inbox.platform.locks import redis_client

    client = redis_client()
    keys = list(client.scan_iter(f"{KEY_PREFIX}*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_client():
    client = redis_lib.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(username="staff", password="staff-pass-123")


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser(
        username="admin", email="admin@example.com", password="admin-pass-123"
    )


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client
