"""Signing in: the token request, its reuse and refresh, 401s, TOTP, and errors without secrets.

The client's ``sleep`` is a list's ``append``: waits are asserted, not slept.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import struct
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inbox.nexudus import NexudusAuthError, NexudusClient, NexudusError, totp_code
from tests.nexudus.fake_api import (
    ACCESS_1,
    ACCESS_2,
    ACCOUNTS_URL,
    BASE,
    MESSAGES_URL,
    PASSWORD,
    REFRESH_1,
    REFRESH_2,
    TOKEN_URL,
    USERNAME,
    api_calls,
    assert_no_secret,
    first_page,
    form,
    msg,
    page,
    token_calls,
    token_ok,
)

pytestmark = pytest.mark.timeout(30)


def test_token_is_requested_form_encoded_and_used_as_bearer(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1)]))
    client = make_client()

    result = first_page(client)

    assert [r.id for r in result.records] == [1]
    token_call, api_call = rsps.calls
    assert token_call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(token_call) == {"grant_type": ["password"], "username": [USERNAME], "password": [PASSWORD]}
    assert api_call.request.headers["Authorization"] == f"Bearer {ACCESS_1}"
    for call in rsps.calls:
        assert "helpdesk" in call.request.headers["User-Agent"]
        assert call.request.req_kwargs["timeout"] == (3, 30)
    assert client.requests_made == 2


def test_totp_is_sent_when_configured(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([]))

    first_page(make_client(totp="123456"))

    assert form(rsps.calls[0])["totp"] == ["123456"]


def test_totp_secret_makes_a_fresh_code_at_sign_in(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([]))
    secret = "JBSWY3DPEHPK3PXP"

    first_page(make_client(totp=secret))

    sent = form(rsps.calls[0])["totp"][0]
    assert sent.isdigit() and len(sent) == 6
    assert sent in {totp_code(secret, at=time.time() + drift) for drift in (-30, 0)}


@pytest.mark.parametrize("at, expected", [(59, "287082"), (1111111109, "081804"), (2000000000, "279037")])
def test_totp_code_matches_rfc_6238(at, expected):
    # RFC 6238 appendix B, SHA-1 secret "12345678901234567890" (the low 6 of its 8-digit codes).
    assert totp_code("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", at=at) == expected


def _rfc6238_reference(secret: str, *, at: float, digits: int = 6, step: int = 30) -> str:
    """The client's own TOTP before pyotp took over, kept as the reference pyotp must agree with."""
    cleaned = secret.strip().replace(" ", "").upper()
    key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    counter = int(at // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


@given(key=st.binary(min_size=10, max_size=40), at=st.floats(min_value=0, max_value=4_102_444_800),
       lower=st.booleans())
def test_pyotp_codes_equal_the_former_implementation(key, at, lower):
    secret = base64.b32encode(key).decode().rstrip("=")
    secret = secret.lower() if lower else secret

    assert totp_code(secret, at=at) == _rfc6238_reference(secret, at=at)


def test_a_short_authenticator_secret_is_accepted():
    # 80 bits, as many authenticator set-ups give: under pyotp's 112-bit default, accepted as before.
    assert totp_code("JBSWY3DPEHPK3PXP", at=59) == _rfc6238_reference("JBSWY3DPEHPK3PXP", at=59)
    with pytest.raises(ValueError):
        totp_code("   ")


def test_a_totp_that_is_neither_code_nor_secret_is_refused_at_once():
    with pytest.raises(NexudusAuthError, match="NEXUDUS_TOTP is neither") as caught:
        NexudusClient(base_url=BASE, username=USERNAME, password=PASSWORD, totp="not-base32!")
    assert caught.value.kind == "two_factor_required" and "not-base32!" not in str(caught.value)


def test_token_is_reused_across_requests(rsps, make_client):
    token_ok(rsps)
    rsps.get(f"{MESSAGES_URL}/1", json=msg(1))
    rsps.get(f"{MESSAGES_URL}/2", json=msg(2))
    client = make_client()

    client.get_message(1)
    client.get_message(2)

    assert len(token_calls(rsps)) == 1


def test_token_is_refreshed_shortly_before_expiry(rsps, make_client, clock):
    token_ok(rsps, expires_in=100)
    rsps.get(f"{MESSAGES_URL}/1", json=msg(1))
    client = make_client()
    client.get_message(1)

    clock.now += 85  # still valid, not yet in the renewal margin (10% of the lifetime)
    client.get_message(1)
    assert len(token_calls(rsps)) == 1

    token_ok(rsps, access=ACCESS_2, refresh=REFRESH_2, expires_in=100)
    clock.now += 6  # inside the margin: renew before the server would refuse the token
    client.get_message(1)

    refresh = token_calls(rsps)[1]
    assert form(refresh) == {"grant_type": ["refresh_token"], "refresh_token": [REFRESH_1]}
    assert refresh.request.headers["client_id"] == USERNAME
    assert api_calls(rsps)[-1].request.headers["Authorization"] == f"Bearer {ACCESS_2}"
    assert all(c.response.status_code == 200 for c in rsps.calls)  # no 401 was needed


def test_expired_token_whose_refresh_is_refused_signs_in_again(rsps, make_client, clock):
    token_ok(rsps, expires_in=100)
    rsps.get(f"{MESSAGES_URL}/1", json=msg(1))
    client = make_client()
    client.get_message(1)
    clock.now += 200
    rsps.post(TOKEN_URL, status=400, json={"error": "invalid_grant", "error_description": "expired"})
    token_ok(rsps, access=ACCESS_2)

    client.get_message(1)

    grants = [form(c)["grant_type"][0] for c in token_calls(rsps)]
    assert grants == ["password", "refresh_token", "password"]
    assert api_calls(rsps)[-1].request.headers["Authorization"] == f"Bearer {ACCESS_2}"


def test_401_refreshes_the_token_exactly_once_then_retries(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=401)
    token_ok(rsps, access=ACCESS_2, refresh=REFRESH_2)
    rsps.get(MESSAGES_URL, json=page([msg(1)]))
    client = make_client()

    result = first_page(client)

    assert [r.id for r in result.records] == [1]
    grants = [form(c)["grant_type"][0] for c in token_calls(rsps)]
    assert grants == ["password", "refresh_token"]
    assert form(token_calls(rsps)[1])["refresh_token"] == [REFRESH_1]
    assert [c.request.headers["Authorization"] for c in api_calls(rsps)] == [
        f"Bearer {ACCESS_1}", f"Bearer {ACCESS_2}"]
    assert client.requests_made == 4


def test_401_when_refresh_fails_signs_in_again(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=401)
    rsps.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})
    token_ok(rsps, access=ACCESS_2)
    rsps.get(MESSAGES_URL, json=page([]))

    first_page(make_client())

    assert [form(c)["grant_type"][0] for c in token_calls(rsps)] == ["password", "refresh_token", "password"]


def test_second_401_is_an_auth_error_naming_the_roles(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=401)
    token_ok(rsps, access=ACCESS_2)
    rsps.get(MESSAGES_URL, status=401)
    client = make_client()

    with pytest.raises(NexudusAuthError) as caught:
        first_page(client)

    assert caught.value.kind == "unauthorized"
    assert "CoworkerMessage-List" in str(caught.value) and USERNAME in str(caught.value)
    assert_no_secret(str(caught.value))
    assert len(token_calls(rsps)) == 2  # one renewal, not a loop


def test_403_is_forbidden_naming_the_roles(rsps, make_client):
    token_ok(rsps)
    rsps.get(ACCOUNTS_URL, status=403)

    with pytest.raises(NexudusAuthError) as caught:
        next(iter(make_client().iter_account_pages()))

    assert caught.value.kind == "forbidden"
    for role in ("CoworkerMessage-List", "CoworkerMessage-Read", "EmailAccount-List",
                 "EmailAccount-Read", "Business-List"):
        assert role in str(caught.value)


@pytest.mark.parametrize(
    "body, kind, hint",
    [
        ({"error": "invalid_grant", "error_description": "The user name or password is incorrect."},
         "invalid_credentials", "NEXUDUS_PASSWORD"),
        ({"error": "two_factor_auth_check", "error_description": "2FA code required"},
         "two_factor_required", "NEXUDUS_TOTP"),
        ({"error": "must_reset_password"}, "must_reset_password", "NEXUDUS_PASSWORD"),
    ],
)
def test_refused_credentials_give_a_clear_error_without_secrets(rsps, make_client, body, kind, hint, caplog):
    caplog.set_level(logging.DEBUG)
    rsps.post(TOKEN_URL, status=400, json=body)
    client = make_client()

    with pytest.raises(NexudusAuthError) as caught:
        first_page(client)

    message = str(caught.value)
    assert caught.value.kind == kind
    assert hint in message and USERNAME in message
    assert ".." not in message  # the server's own full stop is not doubled
    assert_no_secret(message)
    assert_no_secret(caplog.text)
    assert client.requests_made == 1  # a refusal is not retried


def test_invalid_credentials_message_names_both_settings(rsps, make_client):
    rsps.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})

    with pytest.raises(NexudusAuthError) as caught:
        first_page(make_client())

    assert "NEXUDUS_USERNAME" in str(caught.value) and "NEXUDUS_PASSWORD" in str(caught.value)


def test_server_text_echoing_the_password_is_scrubbed(rsps, make_client):
    rsps.post(TOKEN_URL, status=400,
              json={"error": "invalid_grant", "error_description": f"bad password {PASSWORD} for you"})

    with pytest.raises(NexudusAuthError) as caught:
        first_page(make_client())

    assert PASSWORD not in str(caught.value) and "bad password *** for you" in str(caught.value)


def test_token_answer_without_access_token_is_an_error(rsps, make_client):
    rsps.post(TOKEN_URL, json={"token_type": "bearer"})

    with pytest.raises(NexudusError, match="without an access token"):
        first_page(make_client())


def test_token_request_is_retried_when_throttled(rsps, make_client, sleeps):
    rsps.post(TOKEN_URL, status=409, headers={"Retry-After": "2"})
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([]))

    first_page(make_client())

    assert sleeps == [2.0]


def test_missing_credentials_are_refused_before_any_request():
    with pytest.raises(NexudusAuthError, match="NEXUDUS_USERNAME and NEXUDUS_PASSWORD"):
        NexudusClient(base_url=BASE, username="", password="")


def test_netrc_credentials_never_replace_the_bearer_token(rsps, make_client, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine nexudus.test login someone password other-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([]))

    first_page(make_client())

    assert api_calls(rsps)[0].request.headers["Authorization"] == f"Bearer {ACCESS_1}"


def test_no_api_at_the_address_is_said_as_such_not_as_a_refused_sign_in(rsps, make_client):
    """A 404 from the token endpoint: nothing there answers as Nexudus (a wrong NEXUDUS_API_URL,
    or a command run without NEXUDUS_USERNAME, aimed at the sandbox's address)."""
    rsps.post(TOKEN_URL, status=404, body="<h1>Not Found</h1>", content_type="text/html")
    client = make_client()

    with pytest.raises(NexudusError) as caught:
        first_page(client)

    message = str(caught.value)
    assert not isinstance(caught.value, NexudusAuthError)  # nothing to do with the credentials
    assert message.startswith(f"No Nexudus API answers at {client.base_url}: its /api/token is not found (HTTP 404).")
    assert "NEXUDUS_API_URL" in message and "refused" not in message
    assert_no_secret(message)
