"""Who may call the sandbox: the token endpoint's grants, and Bearer / Basic checks on the API.

Users (all with password ``settings.SANDBOX_PASSWORD``):

- ``settings.SANDBOX_USERNAME``: the API user (asks for a TOTP too when ``Config.require_two_factor``);
- ``TWO_FACTOR_USERNAME``: always has two-factor authentication on (TOTP ``SANDBOX_TOTP``);
- ``RESET_USERNAME``: must reset their password before the API lets them in.

Errors follow the documented OAuth shape ``{"error", "error_description"}`` with HTTP 400. A value
the sandbox could not store or look up (longer than ``MAX_VALUE_LENGTH``, or holding a NUL character,
which PostgreSQL refuses) is ``invalid_request``, as OAuth 2.0 names a malformed request
(RFC 6749, section 5.2), before anything reaches the database.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from sandbox.models import Config, Token

TWO_FACTOR_USERNAME = "2fa@example.com"
RESET_USERNAME = "reset@example.com"
SANDBOX_TOTP = "123456"
# Every string of a token request, capped at the widest the Token table stores (client_id, username).
MAX_VALUE_LENGTH = max(Token._meta.get_field("client_id").max_length, Token._meta.get_field("username").max_length)


class GrantError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def as_json(self) -> dict:
        return {"error": self.error, "error_description": self.description}


def check_values(values: dict[str, str]) -> None:
    """Refuse, as ``invalid_request``, a token-request value the sandbox cannot store or look up."""
    for name, value in values.items():
        if len(value) > MAX_VALUE_LENGTH:
            raise GrantError("invalid_request", f"{name} is longer than {MAX_VALUE_LENGTH} characters.")
        if "\x00" in value:
            raise GrantError("invalid_request", f"{name} cannot contain a NUL character.")


def password_grant(username: str, password: str, totp: str, client_id: str, config: Config) -> dict:
    known = {settings.SANDBOX_USERNAME, TWO_FACTOR_USERNAME, RESET_USERNAME}
    if username not in known or not secrets.compare_digest(password.encode(), settings.SANDBOX_PASSWORD.encode()):
        raise GrantError("invalid_grant", "The user name or password is incorrect.")
    if username == RESET_USERNAME:
        raise GrantError("must_reset_password", "You must reset your password before you can sign in.")
    needs_totp = username == TWO_FACTOR_USERNAME or config.require_two_factor
    if needs_totp and not totp:
        raise GrantError(
            "two_factor_auth_check",
            "This user has two-factor authentication enabled: send the 6-digit code as totp.",
        )
    if needs_totp and totp != SANDBOX_TOTP:
        raise GrantError("invalid_grant", "The two-factor authentication code is incorrect.")
    return issue(username, client_id or username, config)


def refresh_grant(refresh_token: str, client_id: str, config: Config) -> dict:
    now = timezone.now()
    token = Token.objects.filter(key=refresh_token, kind=Token.REFRESH).first()
    if token is None or token.revoked or token.expires_at <= now:
        raise GrantError("invalid_grant", "The refresh token is invalid, expired or already used.")
    if client_id and client_id != token.client_id:
        raise GrantError("invalid_grant", "The refresh token was issued to another client_id.")
    # Refreshing invalidates every earlier refresh token of this client_id (not its access tokens).
    Token.objects.filter(kind=Token.REFRESH, client_id=token.client_id).update(revoked=True)
    return issue(token.username, token.client_id, config)


def issue(username: str, client_id: str, config: Config) -> dict:
    now = timezone.now()
    Token.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    access = Token.objects.create(
        key=secrets.token_urlsafe(32),
        kind=Token.ACCESS,
        username=username,
        client_id=client_id,
        expires_at=now + timedelta(seconds=config.token_expires_in),
    )
    refresh = Token.objects.create(
        key=secrets.token_urlsafe(32),
        kind=Token.REFRESH,
        username=username,
        client_id=client_id,
        expires_at=now + timedelta(seconds=config.refresh_expires_in),
    )
    return {
        "access_token": access.key,
        "token_type": "bearer",
        "expires_in": config.token_expires_in,
        "refresh_token": refresh.key,
    }


def authorized(header: str) -> bool:
    """An ``Authorization`` header the API accepts: a live Bearer token, or Basic as the API user."""
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        if len(value) > Token._meta.get_field("key").max_length or "\x00" in value:
            return False  # no such token, and PostgreSQL could not even look it up
        return Token.objects.filter(
            key=value, kind=Token.ACCESS, revoked=False, expires_at__gt=timezone.now()
        ).exists()
    if scheme.lower() == "basic" and value:
        try:
            username, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return username == settings.SANDBOX_USERNAME and secrets.compare_digest(
            password.encode(), settings.SANDBOX_PASSWORD.encode()
        )
    return False
