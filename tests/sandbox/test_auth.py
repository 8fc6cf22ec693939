"""The sandbox's token endpoint, API authentication, throttling and injected faults."""

from __future__ import annotations

import json
import time

import pytest
from django.conf import settings

from sandbox import auth, services
from sandbox.models import Token
from tests.sandbox.fixtures import basic_header

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

TOKEN_URL = "/sandbox/api/token"
LIST_URL = "/sandbox/api/spaces/coworkermessages"


def password_grant(client, username=None, password=None, **extra):
    data = {
        "grant_type": "password",
        "username": username or settings.SANDBOX_USERNAME,
        "password": password or settings.SANDBOX_PASSWORD,
        **extra,
    }
    return client.post(TOKEN_URL, data)


class TestToken:
    def test_password_grant(self, client):
        response = password_grant(client)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
        assert body["token_type"] == "bearer" and body["expires_in"] == 604799
        assert response["Cache-Control"] == "no-store"

    def test_form_urlencoded_body(self, client):
        body = f"grant_type=password&username={settings.SANDBOX_USERNAME}&password={settings.SANDBOX_PASSWORD}"
        response = client.post(TOKEN_URL, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200

    def test_json_body_is_refused_as_nexudus_does(self, client):
        payload = {"grant_type": "password", "username": settings.SANDBOX_USERNAME, "password": settings.SANDBOX_PASSWORD}
        response = client.post(TOKEN_URL, json.dumps(payload), content_type="application/json")
        assert response.status_code == 400
        assert response.json()["error"] == "unsupported_grant_type"
        assert response.json()["error_description"]

    def test_unknown_grant_type(self, client):
        response = client.post(TOKEN_URL, {"grant_type": "client_credentials"})
        assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"

    @pytest.mark.parametrize("username,password", [("sandbox@example.com", "wrong"), ("nobody@example.com", "sandbox"), ("", "")])
    def test_bad_credentials(self, client, username, password):
        response = client.post(TOKEN_URL, {"grant_type": "password", "username": username, "password": password})
        assert response.status_code == 400
        assert response.json() == {"error": "invalid_grant", "error_description": "The user name or password is incorrect."}

    def test_two_factor_user_without_code(self, client):
        response = password_grant(client, username=auth.TWO_FACTOR_USERNAME)
        assert response.status_code == 400 and response.json()["error"] == "two_factor_auth_check"

    def test_two_factor_user_with_wrong_and_right_code(self, client):
        assert password_grant(client, username=auth.TWO_FACTOR_USERNAME, totp="000000").json()["error"] == "invalid_grant"
        assert password_grant(client, username=auth.TWO_FACTOR_USERNAME, totp=auth.SANDBOX_TOTP).status_code == 200

    def test_two_factor_switched_on_for_the_api_user(self, client):
        services.configure(require_two_factor=True)
        assert password_grant(client).json()["error"] == "two_factor_auth_check"

    def test_must_reset_password(self, client):
        response = password_grant(client, username=auth.RESET_USERNAME)
        assert response.status_code == 400 and response.json()["error"] == "must_reset_password"

    def test_refresh_gives_new_tokens_and_invalidates_the_old_refresh_token(self, client):
        first = password_grant(client).json()
        response = client.post(TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
        assert response.status_code == 200
        second = response.json()
        assert second["access_token"] != first["access_token"]
        assert second["refresh_token"] != first["refresh_token"]
        again = client.post(TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        # The earlier access token stays valid until it expires (documented).
        assert client.get(LIST_URL, HTTP_AUTHORIZATION=f"Bearer {first['access_token']}").status_code == 200
        assert client.get(LIST_URL, HTTP_AUTHORIZATION=f"Bearer {second['access_token']}").status_code == 200

    def test_refresh_with_another_client_id_is_refused(self, client):
        first = password_grant(client).json()
        response = client.post(
            TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, HTTP_CLIENT_ID="someone-else"
        )
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"

    def test_unknown_refresh_token(self, client):
        response = client.post(TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": "nope"})
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"

    def test_short_lived_tokens_expire(self, client):
        services.configure(token_expires_in=1)
        body = password_grant(client).json()
        assert body["expires_in"] == 1
        header = f"Bearer {body['access_token']}"
        assert client.get(LIST_URL, HTTP_AUTHORIZATION=header).status_code == 200
        time.sleep(1.1)
        assert client.get(LIST_URL, HTTP_AUTHORIZATION=header).status_code == 401
        refreshed = client.post(TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]})
        assert client.get(LIST_URL, HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access_token']}").status_code == 200

    def test_expire_tokens_service(self, client, api_token):
        services.expire_tokens()
        assert client.get(LIST_URL, HTTP_AUTHORIZATION=f"Bearer {api_token}").status_code == 401

    def test_get_is_not_allowed(self, client):
        assert client.get(TOKEN_URL).status_code == 405


LONG = "x" * 10_000


class TestTokenCaps:
    """Every string a token request carries is capped at what the Token table stores (320)."""

    @pytest.mark.parametrize("name", ["client_id", "username", "password", "totp", "grant_type"])
    def test_overlong_password_grant_values_are_invalid_request(self, client, name):
        response = password_grant(client, **{name: LONG})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        assert name in response.json()["error_description"] and "320" in response.json()["error_description"]
        assert not Token.objects.exists()

    def test_overlong_client_id_header(self, client):
        data = {"grant_type": "password", "username": settings.SANDBOX_USERNAME, "password": settings.SANDBOX_PASSWORD}
        response = client.post(TOKEN_URL, data, HTTP_CLIENT_ID=LONG)
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"
        assert not Token.objects.exists()

    def test_overlong_refresh_token_and_client_id_on_refresh(self, client):
        first = password_grant(client).json()
        response = client.post(TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": LONG})
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"
        response = client.post(
            TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, HTTP_CLIENT_ID=LONG
        )
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"
        # Nothing was revoked by the refused request: the refresh token still works.
        response = client.post(TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
        assert response.status_code == 200

    @pytest.mark.parametrize("name", ["client_id", "username", "refresh_token"])
    def test_nul_characters_are_invalid_request(self, client, name):
        response = password_grant(client, **{name: "sandbox\x00"})
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"

    def test_a_client_id_of_exactly_the_cap_is_stored(self, client):
        client_id = "c" * auth.MAX_VALUE_LENGTH
        assert auth.MAX_VALUE_LENGTH == 320
        body = password_grant(client, client_id=client_id).json()
        assert Token.objects.get(key=body["access_token"]).client_id == client_id
        refreshed = client.post(
            TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}, HTTP_CLIENT_ID=client_id
        )
        assert refreshed.status_code == 200
        assert client_id + "c" not in Token.objects.values_list("client_id", flat=True)

    @pytest.mark.parametrize("header", [f"Bearer {LONG}", "Bearer abc\x00", f"Basic {LONG}"])
    def test_hostile_authorization_headers_are_refused(self, client, header):
        assert client.get(LIST_URL, HTTP_AUTHORIZATION=header).status_code == 401


class TestApiAuth:
    @pytest.mark.parametrize(
        "header",
        [None, "Bearer", "Bearer not-a-token", "Basic !!!", "Token abc", basic_header("sandbox@example.com", "wrong")],
    )
    def test_refused(self, client, header):
        extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
        for path in ("spaces/coworkermessages", "spaces/coworkermessages/1", "crm/emailaccounts", "sys/businesses"):
            response = client.get(f"/sandbox/api/{path}", **extra)
            assert response.status_code == 401, path
            assert response.json()["Message"]

    def test_refresh_token_is_not_an_access_token(self, client):
        refresh = password_grant(client).json()["refresh_token"]
        assert client.get(LIST_URL, HTTP_AUTHORIZATION=f"Bearer {refresh}").status_code == 401

    def test_basic_auth_with_the_sandbox_credentials(self, client, sandbox_data):
        header = basic_header(settings.SANDBOX_USERNAME, settings.SANDBOX_PASSWORD)
        response = client.get(LIST_URL, HTTP_AUTHORIZATION=header)
        assert response.status_code == 200 and response.json()["TotalItems"] == 400

    def test_no_session_or_csrf_needed_and_writes_refused(self, client, api_token):
        response = client.post(LIST_URL, {}, HTTP_AUTHORIZATION=f"Bearer {api_token}")
        assert response.status_code == 405


def fresh_second() -> None:
    """The sandbox counts requests per wall-clock second: start at the top of one."""
    time.sleep(1.01 - time.time() % 1)


class TestThrottling:
    def test_409_with_retry_after_past_the_rate(self, client, api_token):
        services.configure(rate_per_second=3)
        header = f"Bearer {api_token}"
        statuses = []
        fresh_second()
        for _ in range(10):
            response = client.get(LIST_URL, HTTP_AUTHORIZATION=header)
            statuses.append(response.status_code)
            if response.status_code == 409:
                assert response["Retry-After"] == "1"
                assert response.content == b""
        assert 409 in statuses and 200 in statuses
        time.sleep(1.05)
        assert client.get(LIST_URL, HTTP_AUTHORIZATION=header).status_code == 200

    def test_token_endpoint_is_throttled_too(self, client):
        services.configure(rate_per_second=2)
        fresh_second()
        statuses = [password_grant(client).status_code for _ in range(8)]
        assert 409 in statuses


class TestFaults:
    def test_failures(self, client, api_token):
        services.set_faults(failure_rate=1.0)
        statuses = {client.get(LIST_URL, HTTP_AUTHORIZATION=f"Bearer {api_token}").status_code for _ in range(30)}
        assert statuses <= {500, 502, 503} and len(statuses) >= 2

    def test_partial_failure_rate(self, client, api_token):
        services.set_faults(failure_rate=0.5)
        statuses = [client.get(LIST_URL, HTTP_AUTHORIZATION=f"Bearer {api_token}").status_code for _ in range(60)]
        assert 200 in statuses and any(s >= 500 for s in statuses)

    def test_truncated_json(self, client, api_token, sandbox_data):
        services.set_faults(truncate_rate=1.0)
        response = client.get(LIST_URL, HTTP_AUTHORIZATION=f"Bearer {api_token}")
        assert response.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)

    def test_latency(self, client, api_token):
        services.set_faults(latency_ms=300)
        started = time.perf_counter()
        assert client.get(LIST_URL, HTTP_AUTHORIZATION=f"Bearer {api_token}").status_code == 200
        assert time.perf_counter() - started >= 0.3

    def test_faults_leave_the_token_endpoint_alone(self, client):
        services.set_faults(failure_rate=1.0)
        assert password_grant(client).status_code == 200

    def test_reset_clears_faults_and_tokens(self, client, api_token):
        services.set_faults(failure_rate=1.0)
        services.reset()
        assert not Token.objects.exists()
        assert client.get(LIST_URL, HTTP_AUTHORIZATION=f"Bearer {api_token}").status_code == 401
        token = password_grant(client).json()["access_token"]
        assert client.get(LIST_URL, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    @pytest.mark.parametrize("kwargs", [{"failure_rate": 1.5}, {"truncate_rate": -0.1}, {"latency_ms": -1}])
    def test_bad_fault_settings(self, kwargs):
        with pytest.raises(ValueError):
            services.set_faults(**kwargs)
