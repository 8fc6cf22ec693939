"""Signing in through the real form, from a chosen address, and letting the cool-off pass."""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from django.utils import timezone

HOME = "203.0.113.10"
ELSEWHERE = "198.51.100.20"


def sign_in(client, username: str, password: str, *, ip: str = HOME, url: str = "/login/"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail(client, username: str, times: int, **kwargs) -> list:
    return [sign_in(client, username, "not-the-password", **kwargs) for _ in range(times)]


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def cool_off_passes(minutes: float = 15) -> None:
    """Move every recorded failure back past the cool-off, as time passing would."""
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=minutes, seconds=1))
