"""What can go wrong talking to Nexudus, and the sentences that tell a person what to do about it.

Every message is a sentence a person can act on (which setting to check, which role to give the API
user), built from fixed text: never the password, the TOTP or a token. Text the server sent comes in
only as ``says``, which :meth:`inbox.nexudus.auth.Authenticator.server_says` has scrubbed of those.
Sentences about a broken protocol (a page that is not a page, a sort order that cannot be trusted)
are written where the check is made, in :mod:`inbox.nexudus.paging` and :mod:`inbox.nexudus.sort`.
"""

from __future__ import annotations

from typing import Any

#: The roles the dashboard's API user needs (read-only), named in permission errors.
REQUIRED_ROLES = (
    "CoworkerMessage-List, CoworkerMessage-Read, EmailAccount-List, EmailAccount-Read, Business-List"
)


class NexudusError(Exception):
    """Something went wrong talking to Nexudus; ``str()`` is a sentence a person can act on."""

    def __init__(self, message: str, *, status: int | None = None, path: str | None = None):
        super().__init__(message)
        self.status = status
        self.path = path


class NexudusAuthError(NexudusError):
    """Nexudus refused the credentials or the API user's permissions.

    ``kind`` is one of ``invalid_credentials``, ``two_factor_required``, ``must_reset_password``,
    ``forbidden``, ``unauthorized``.
    """

    def __init__(self, message: str, *, kind: str, status: int | None = None, path: str | None = None):
        super().__init__(message, status=status, path=path)
        self.kind = kind


class NexudusNotFound(NexudusError):
    """The record asked for by id does not exist (HTTP 404)."""


class NexudusUnavailable(NexudusError):
    """Nexudus did not answer properly within the allowed attempts (5xx, timeouts, 409s, bad JSON)."""

    def __init__(self, message: str, *, attempts: int, last_failure: str, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.attempts = attempts
        self.last_failure = last_failure


# --- Configuration ----------------------------------------------------------------------------


def missing_credentials() -> NexudusAuthError:
    return NexudusAuthError(
        "Nexudus credentials are missing: set NEXUDUS_USERNAME and NEXUDUS_PASSWORD.",
        kind="invalid_credentials",
    )


def unusable_totp() -> NexudusAuthError:
    return NexudusAuthError(
        "NEXUDUS_TOTP is neither a code of digits nor a base32 TOTP secret: set it to the "
        "secret shown when two-factor authentication was set up for the API user.",
        kind="two_factor_required",
    )


# --- The token endpoint -----------------------------------------------------------------------


def _purpose(refreshing: bool) -> str:
    return "refresh the token" if refreshing else "sign in"


def token_refused(
    *, status: int, error: str, username: str, refreshing: bool, says: str, path: str, base_url: str = ""
) -> NexudusError:
    """A refused ``POST /api/token``; ``error`` is the OAuth ``error`` code, lower case ("" if none)."""
    if status == 404 and not error:
        # Not a refusal: nothing at that address answers as Nexudus (a wrong NEXUDUS_API_URL, or the
        # sandbox's address when NEXUDUS_USERNAME was not set for this command).
        return NexudusError(
            f"No Nexudus API answers at {base_url or 'the configured address'}: its {path} is not "
            f"found (HTTP 404). Check NEXUDUS_API_URL, and that NEXUDUS_USERNAME is set wherever the "
            f"help desk runs (without it, the built-in sandbox is the source){says}.",
            status=status, path=path,
        )
    if "two_factor" in error:
        return NexudusAuthError(
            f"Nexudus requires a two-factor code for {username}. Use a dedicated API user "
            f"without two-factor authentication, or set NEXUDUS_TOTP to the user's TOTP secret "
            f"(base32, from the authenticator set-up){says}.",
            kind="two_factor_required", status=status, path=path,
        )
    if error == "must_reset_password":
        return NexudusAuthError(
            f"Nexudus requires the user {username} to reset its password before the API can "
            f"sign in: sign in once at Nexudus, choose a new password, and update NEXUDUS_PASSWORD{says}.",
            kind="must_reset_password", status=status, path=path,
        )
    if error == "invalid_grant" or status == 401:
        if refreshing:
            message = f"Nexudus refused to refresh the token for {username}{says}."
        else:
            message = (
                f"Nexudus refused to sign in as {username}: check NEXUDUS_USERNAME and "
                f"NEXUDUS_PASSWORD (the user may also be suspended){says}."
            )
        return NexudusAuthError(message, kind="invalid_credentials", status=status, path=path)
    if status == 403:
        return NexudusAuthError(
            f"Nexudus forbids the user {username} to use the API (HTTP 403): give it the roles "
            f"{REQUIRED_ROLES}{says}.",
            kind="forbidden", status=status, path=path,
        )
    return NexudusError(
        f"Nexudus refused to {_purpose(refreshing)} with HTTP {status}{' (' + error + ')' if error else ''}{says}.",
        status=status, path=path,
    )


def no_access_token(*, refreshing: bool, status: int, path: str) -> NexudusError:
    return NexudusError(
        f"Nexudus answered the request to {_purpose(refreshing)} without an access token.",
        status=status, path=path,
    )


# --- Reading ----------------------------------------------------------------------------------


def get_refused(
    *, status: int, path: str, username: str, base_url: str, what: str | None, says: str
) -> NexudusError:
    """A ``GET`` answered with something else than 200, once the token was renewed after a 401.

    ``what`` names the record asked for by id ("CoworkerMessage 42"): its 404 means it does not exist.
    """
    if status == 401:
        return NexudusAuthError(
            f"Nexudus refused the API user {username} on GET {path} even with a fresh "
            f"token (HTTP 401). Nexudus also answers 401 when a role is missing: the user needs "
            f"{REQUIRED_ROLES}.",
            kind="unauthorized", status=401, path=path,
        )
    if status == 403:
        return NexudusAuthError(
            f"Nexudus forbids the API user {username} to GET {path} (HTTP 403): give it the "
            f"roles {REQUIRED_ROLES}, or make it a full administrator.",
            kind="forbidden", status=403, path=path,
        )
    if status == 404:
        if what:
            return NexudusNotFound(f"Nexudus has no {what} (HTTP 404).", status=404, path=path)
        return NexudusError(
            f"Nexudus answered 404 for {path}: check NEXUDUS_API_URL ({base_url}).",
            status=404, path=path,
        )
    hint = f" (a redirect: check NEXUDUS_API_URL, now {base_url})" if 300 <= status < 400 else ""
    return NexudusError(
        f"Nexudus refused GET {path} with HTTP {status}{hint}{says}.",
        status=status, path=path,
    )


# --- Giving up --------------------------------------------------------------------------------


def kept_throttling(
    *, method: str, path: str, failure: str, waited: float, sent: int, limit: float
) -> NexudusUnavailable:
    return NexudusUnavailable(
        f"Nexudus kept asking the help desk to wait (throttling {method} {path}): {waited:.0f} s of "
        f"waiting as it asked, over {sent} requests, and it still asked for more (the last was {failure}; "
        f"the limit is {limit:.0f} s, NEXUDUS_MAX_THROTTLE_WAIT). "
        "Nexudus may be overloaded, or other clients of this account use its budget; "
        "the next sync will try again.",
        attempts=sent, last_failure=failure, path=path,
    )


def gave_up(
    *, method: str, path: str, failure: str, attempts: int, throttled: int, sent: int
) -> NexudusUnavailable:
    besides = f" (and {throttled} throttled)" if throttled else ""
    return NexudusUnavailable(
        f"Nexudus did not answer {method} {path} properly after {attempts} attempts{besides}; "
        f"the last failure was {failure}. Nexudus may be down or overloaded; the next "
        "sync will try again.",
        attempts=sent, last_failure=failure, path=path,
    )
