"""Signing in to Nexudus: bearer tokens, their refresh, and two-factor codes.

As https://developers.nexudus.com/rest-api/authentication describes it: ``POST /api/token``,
form-encoded, ``grant_type=password`` (plus ``totp`` for a user with two-factor authentication),
gives an access token and a refresh token; ``grant_type=refresh_token`` with the ``client_id``
header gives new ones. A token is renewed a little before it expires, and once more when a request
is answered 401. Tokens live in this process's memory only; clients that opt in share them, so a
sync every minute does not sign in every minute.

Secrets: neither the password, nor the TOTP, nor any token is ever logged or put in an exception's
text; text the server sends back is scrubbed of them (:meth:`Authenticator.server_says`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pyotp
import requests
import requests.auth

from inbox.nexudus import errors
from inbox.nexudus.transport import Transport, json_or_none
from inbox.nexudus.values import parse_int

logger = logging.getLogger(__name__)

TOKEN_PATH = "/api/token"


class _AnySecretTOTP(pyotp.TOTP):
    # pyotp refuses secrets under 112 bits (NIST SP 800-63B). The secret is whatever the API user's
    # two-factor set-up gave, and 80-bit ones (16 base32 characters) are common: any non-empty one works.
    min_secret_length_bits = 1


def totp_code(secret: str, *, at: float | None = None, digits: int = 6, step: int = 30) -> str:
    """The RFC 6238 code (HMAC-SHA1, 30 s steps) of a base32 secret at time ``at`` (default now)."""
    cleaned = secret.strip().replace(" ", "")
    if not cleaned:
        raise ValueError("an empty secret")
    try:
        totp = _AnySecretTOTP(cleaned, digits=digits, interval=step)
    except ValueError:  # binascii.Error is one
        raise ValueError("not a base32 secret") from None
    return totp.at(time.time() if at is None else at)


class BearerAuth(requests.auth.AuthBase):
    """The bearer header, as an auth object: requests then never swaps in ``~/.netrc`` credentials."""

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


@dataclass
class Token:
    access_token: str
    refresh_token: str | None
    expires_at: float | None  # on the client's clock; None: the server did not say

    def __repr__(self) -> str:  # never print a token, even in a debugger or a traceback
        return f"Token(expires_at={self.expires_at!r})"


class TokenCache:
    """Tokens kept in this process's memory (never stored), shared by clients that opt in."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tokens: dict[tuple[str, str], Token] = {}


_SHARED_TOKENS = TokenCache()


def clear_shared_tokens() -> None:
    """Forget the tokens shared by clients made with ``share_tokens`` (tests, credential changes)."""
    with _SHARED_TOKENS.lock:
        _SHARED_TOKENS.tokens.clear()


class Authenticator:
    """Gives a valid bearer token for one API user, signing in or refreshing as needed."""

    def __init__(
        self,
        transport: Transport,
        *,
        username: str,
        password: str,
        totp: str | None = None,
        client_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        share_tokens: bool = False,
    ):
        if not username or not password:
            raise errors.missing_credentials()
        self.transport = transport
        self.username = username
        self._password = password
        # NEXUDUS_TOTP: a code (digits, good once) or the authenticator's base32 secret, from which
        # a fresh code is made at each sign-in.
        self._totp = (totp or "").strip().replace(" ", "") or None
        if self._totp and not self._totp.isdigit():
            try:
                totp_code(self._totp)
            except ValueError:
                raise errors.unusable_totp() from None
        self.client_id = client_id or username  # the documented default client_id
        self.clock = clock
        self._tokens = _SHARED_TOKENS if share_tokens else TokenCache()
        self._key = (transport.base_url, self.client_id)

    def token(self) -> Token:
        """A token that is not about to expire: the one held, refreshed, or a new sign-in."""
        with self._tokens.lock:
            token = self._tokens.tokens.get(self._key)
            if token is not None and not self._expires_soon(token):
                return token
            if token is not None and token.refresh_token:
                try:
                    return self._refresh(token)
                except errors.NexudusUnavailable:
                    raise
                except errors.NexudusError as exc:
                    logger.info("Refreshing the Nexudus token failed (%s); signing in again.", exc)
            return self._login()

    def renew_after_401(self, rejected: Token) -> None:
        """Nexudus refused ``rejected``: refresh it (or sign in), unless another client already did."""
        with self._tokens.lock:
            current = self._tokens.tokens.get(self._key)
            if current is not None and current is not rejected:
                return  # another client in this process already renewed it
            self._tokens.tokens.pop(self._key, None)
            if rejected.refresh_token:
                try:
                    self._refresh(rejected)
                    return
                except errors.NexudusUnavailable:
                    raise
                except errors.NexudusError as exc:
                    logger.info("Refreshing the Nexudus token failed (%s); signing in again.", exc)
            self._login()

    def server_says(self, response: requests.Response) -> str:
        """``; Nexudus says: ...`` from an error body, scrubbed of secrets, or an empty string."""
        body = json_or_none(response.content)
        text = None
        if isinstance(body, Mapping):
            for key in ("error_description", "Message", "message"):
                if isinstance(body.get(key), str) and body[key].strip():
                    text = body[key].strip()
                    break
        if not text:
            return ""
        # The callers end the sentence with a full stop: don't leave two.
        return f"; Nexudus says: {self._scrub(text[:300]).rstrip('.')}"

    # --- The token endpoint ---------------------------------------------------------------

    def _expires_soon(self, token: Token) -> bool:
        return token.expires_at is not None and self.clock() >= token.expires_at

    def _login(self) -> Token:
        form = {"grant_type": "password", "username": self.username, "password": self._password}
        if self._totp:
            form["totp"] = self._totp if self._totp.isdigit() else totp_code(self._totp)
        return self._token_request(form, headers=None, refreshing=False)

    def _refresh(self, token: Token) -> Token:
        form = {"grant_type": "refresh_token", "refresh_token": token.refresh_token or ""}
        return self._token_request(form, headers={"client_id": self.client_id}, refreshing=True)

    def _token_request(self, form: dict[str, str], *, headers: dict[str, str] | None, refreshing: bool) -> Token:
        response, data = self.transport.request("POST", TOKEN_PATH, data=form, headers=headers)
        status = response.status_code
        if status != 200:
            body = json_or_none(response.content)
            error = body.get("error") if isinstance(body, Mapping) else None
            raise errors.token_refused(
                status=status, error=error.strip().lower() if isinstance(error, str) else "",
                username=self.username, refreshing=refreshing, says=self.server_says(response),
                path=TOKEN_PATH, base_url=self.transport.base_url,
            )
        access = data.get("access_token") if isinstance(data, Mapping) else None
        if not isinstance(access, str) or not access:
            raise errors.no_access_token(refreshing=refreshing, status=status, path=TOKEN_PATH)
        refresh = data.get("refresh_token")
        token = Token(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            expires_at=self._expiry(parse_int(data.get("expires_in"))),
        )
        self._tokens.tokens[self._key] = token
        return token

    def _expiry(self, expires_in: int | None) -> float | None:
        if expires_in is None or expires_in <= 0:
            return None
        # Renew a little early: a tenth of the lifetime, at most five minutes.
        return self.clock() + expires_in - min(300.0, expires_in * 0.1)

    def _scrub(self, text: str) -> str:
        secrets = [self._password, self._totp]
        token = self._tokens.tokens.get(self._key)
        if token is not None:
            secrets += [token.access_token, token.refresh_token]
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return text
