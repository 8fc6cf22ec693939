"""A sync that cannot be queued says why in its own words: Redis down is not a missing package."""

from __future__ import annotations

import socket

import pytest
from celery import Celery
from django.core.exceptions import ImproperlyConfigured
from kombu.exceptions import EncodeError

from inbox.models import SyncRun
from inbox.sync import tasks
from inbox.sync.queueing import queue_failure
from inbox.sync.services import request_sync


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def error_from_a_broker_nobody_listens_on() -> BaseException:
    app = Celery("probe", broker=f"redis://127.0.0.1:{free_port()}/0")
    app.conf.broker_connection_retry = False
    app.conf.broker_connection_max_retries = 0
    app.conf.broker_transport_options = {"max_retries": 0, "socket_connect_timeout": 0.5}
    try:
        app.send_task("probe.nothing", retry=False)
    except Exception as exc:  # whatever kombu raises for a refused connection
        return exc
    finally:
        app.close()
    raise AssertionError("queueing to a closed port did not fail")


def test_a_broker_that_does_not_answer_is_named_as_such():
    kind, text = queue_failure(error_from_a_broker_nobody_listens_on())

    assert kind == "unavailable"
    assert "the Celery broker (Redis) did not answer" in text


def test_a_missing_package_is_named_with_the_fix():
    try:
        import packaging_that_is_not_installed  # noqa: F401
    except ImportError as exc:
        kind, text = queue_failure(exc)

    assert kind == "setup"
    assert "packaging_that_is_not_installed" in text and "requirements.txt" in text
    assert "did not answer" not in text


def test_a_missing_package_raised_inside_the_transport_is_found_in_the_chain():
    try:
        try:
            raise ModuleNotFoundError("No module named 'packaging'", name="packaging")
        except ImportError as inner:
            raise RuntimeError("could not load transport") from inner
    except RuntimeError as exc:
        kind, text = queue_failure(exc)

    assert kind == "setup" and "(packaging)" in text and "did not answer" not in text


def test_a_serialisation_error_is_named():
    kind, text = queue_failure(EncodeError(TypeError("Object of type set is not JSON serializable")))

    assert kind == "error" and "could not be serialised" in text and "JSON serializable" in text


def test_a_misconfiguration_is_named():
    kind, text = queue_failure(ImproperlyConfigured("Redis URL must specify a scheme"))

    assert kind == "setup" and "REDIS_URL" in text and "did not answer" not in text


@pytest.mark.django_db(transaction=True)
def test_the_run_records_the_real_cause(monkeypatch):
    def broken_apply_async(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'packaging'", name="packaging")

    monkeypatch.setattr(tasks.sync_messages, "apply_async", broken_apply_async)

    run, created = request_sync(resource="messages", mode="incremental", trigger="admin")

    run.refresh_from_db()
    assert created and run.status == SyncRun.Status.FAILED
    assert run.error_kind == "setup"
    assert run.error.startswith("The sync could not be queued: a Python package is missing (packaging)")
