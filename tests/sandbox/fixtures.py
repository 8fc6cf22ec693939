"""Fixtures for the sandbox's own tests (``conftest.py`` beside this file offers them to every test
here), and the fixed clock and the Basic header the tests build on."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest
from django.conf import settings

from sandbox import services

# A fixed clock for generated data, so dates in assertions are known.
NOW = datetime(2025, 6, 30, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def sandbox_data(db):
    """A small generated sandbox: every account state, hostile bodies, tricky subjects."""
    return services.seed(accounts=16, customers=40, messages=400, seed=7, now=NOW)


@pytest.fixture
def api_token(client) -> str:
    response = client.post(
        "/sandbox/api/token",
        {"grant_type": "password", "username": settings.SANDBOX_USERNAME, "password": settings.SANDBOX_PASSWORD},
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


@pytest.fixture
def api(client, api_token):
    """``api(path, **params)`` → response, authenticated with a Bearer token."""

    def get(path: str, **params):
        return client.get(f"/sandbox/api/{path}", params, HTTP_AUTHORIZATION=f"Bearer {api_token}")

    return get


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
