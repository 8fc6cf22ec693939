"""The Nexudus client against a Nexudus faked at the HTTP level (``responses``): faults and protocol.

Throttling, retries, authentication and paging are exercised request by request; the client's
``sleep`` is a list's ``append`` so waits are asserted, not slept.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from django.test import override_settings

from inbox.nexudus import (
    NexudusAuthError,
    NexudusClient,
    NexudusError,
    NexudusNotFound,
    NexudusUnavailable,
    format_filter_datetime,
    parse_retry_after,
    totp_code,
)
from inbox.nexudus.ratelimit import RedisRateLimiter

pytestmark = pytest.mark.timeout(30)

BASE = "https://nexudus.test"
TOKEN_URL = f"{BASE}/api/token"
MESSAGES_URL = f"{BASE}/api/spaces/coworkermessages"
ACCOUNTS_URL = f"{BASE}/api/crm/emailaccounts"
BUSINESSES_URL = f"{BASE}/api/sys/businesses"
USERNAME = "api-user@example.com"
PASSWORD = "s3cret-Pa55word!"
ACCESS_1, REFRESH_1 = "access-token-one-XYZ", "refresh-token-one-XYZ"
ACCESS_2, REFRESH_2 = "access-token-two-XYZ", "refresh-token-two-XYZ"
SECRETS = (PASSWORD, ACCESS_1, REFRESH_1, ACCESS_2, REFRESH_2)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingLimiter:
    def __init__(self) -> None:
        self.acquired = 0

    def acquire(self) -> float:
        self.acquired += 1
        return 0.0


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_client(sleeps, clock):
    def make(**overrides) -> NexudusClient:
        options = dict(
            base_url=BASE, username=USERNAME, password=PASSWORD, page_size=50, sleep=sleeps.append,
            connect_timeout=3, read_timeout=30, max_attempts=4, backoff_base=0.5, backoff_max=4.0,
            max_retry_after=10.0, clock=clock,
        )
        options.update(overrides)
        return NexudusClient(**options)

    return make


def token_ok(rsps, access=ACCESS_1, refresh=REFRESH_1, expires_in=3600):
    return rsps.post(TOKEN_URL, json={"access_token": access, "token_type": "bearer",
                                      "expires_in": expires_in, "refresh_token": refresh})


def page(records, *, page=1, size=50, has_next=False, **extra):
    body = {"Records": records, "CurrentPage": page, "CurrentPageSize": size, "HasNextPage": has_next,
            "CurrentOrderField": "Id", "CurrentSortDirection": 1}
    body.update(extra)
    return {key: value for key, value in body.items() if value is not ...}


def msg(i, **fields):
    return {"Id": i, "Subject": f"Subject {i}", "CreatedOn": "2025-01-10T08:00:00Z", **fields}


def query(call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query, keep_blank_values=True)


def form(call) -> dict[str, list[str]]:
    return parse_qs(call.request.body)


def api_calls(rsps):
    return [c for c in rsps.calls if "/api/token" not in c.request.url]


def token_calls(rsps):
    return [c for c in rsps.calls if "/api/token" in c.request.url]


def first_page(client):
    return next(iter(client.iter_message_pages()))


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# --- Authentication -------------------------------------------------------------------------


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


# --- Throttling and retries -----------------------------------------------------------------


@pytest.mark.parametrize("status", [409, 429])
def test_throttled_answer_waits_retry_after_then_retries(rsps, make_client, sleeps, status):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=status, headers={"Retry-After": "3"}, body="")
    rsps.get(MESSAGES_URL, json=page([msg(1)]))
    client = make_client()

    result = first_page(client)

    assert [r.id for r in result.records] == [1]
    assert sleeps == [3.0]
    assert client.requests_made == 3


def test_huge_retry_after_is_capped(rsps, make_client, sleeps):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=409, headers={"Retry-After": "86400"})
    rsps.get(MESSAGES_URL, json=page([]))

    first_page(make_client(max_retry_after=10.0))

    assert sleeps == [10.0]


def test_retry_after_as_http_date(rsps, make_client, sleeps):
    token_ok(rsps)
    when = datetime.now(timezone.utc) + timedelta(seconds=5)
    rsps.get(MESSAGES_URL, status=409,
             headers={"Retry-After": when.strftime("%a, %d %b %Y %H:%M:%S GMT")})
    rsps.get(MESSAGES_URL, json=page([]))

    first_page(make_client())

    assert len(sleeps) == 1 and 3.0 <= sleeps[0] <= 5.0


def test_409_without_retry_after_backs_off(rsps, make_client, sleeps):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=409)
    rsps.get(MESSAGES_URL, json=page([]))

    first_page(make_client(backoff_base=0.5))

    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.5


@pytest.mark.parametrize(
    "value, expected",
    [("3", 3.0), (" 1 ", 1.0), ("0.5", 0.5), ("-4", 0.0), ("", None), (None, None), ("soon", None),
     ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_server_errors_are_retried_with_growing_jittered_backoff(rsps, make_client, sleeps):
    token_ok(rsps)
    for status in (500, 502, 503):
        rsps.get(MESSAGES_URL, status=status, body="<html>oops</html>")
    rsps.get(MESSAGES_URL, json=page([msg(1)]))
    client = make_client(max_attempts=4, backoff_base=0.5, backoff_max=4.0)

    result = first_page(client)

    assert [r.id for r in result.records] == [1]
    assert len(sleeps) == 3
    for attempt, slept in enumerate(sleeps, start=1):
        assert 0 <= slept <= 0.5 * 2 ** (attempt - 1)
    assert client.requests_made == 5


def test_backoff_never_exceeds_its_maximum(make_client):
    client = make_client(backoff_base=1.0, backoff_max=2.0)

    assert all(client._delay(attempt, None) <= 2.0 for attempt in range(1, 30))


@pytest.mark.parametrize(
    "fault",
    [requests.exceptions.ConnectTimeout("connect timed out"),
     requests.exceptions.ReadTimeout("read timed out"),
     requests.exceptions.ConnectionError("Connection reset by peer"),
     requests.exceptions.ChunkedEncodingError("IncompleteRead")],
    ids=["connect-timeout", "read-timeout", "connection-reset", "cut-body"],
)
def test_network_faults_are_retried_then_succeed(rsps, make_client, sleeps, fault):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, body=fault)
    rsps.get(MESSAGES_URL, body=fault)
    rsps.get(MESSAGES_URL, json=page([msg(1)]))
    client = make_client()

    assert [r.id for r in first_page(client).records] == [1]
    assert len(sleeps) == 2
    assert client.requests_made == 4


@pytest.mark.parametrize("body", ['{"Records": [{"Id": 1}, {"Id"', "", "<html>proxy error</html>"],
                         ids=["truncated", "empty", "html"])
def test_bad_json_in_a_200_is_retried(rsps, make_client, sleeps, body):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, body=body, content_type="application/json")
    rsps.get(MESSAGES_URL, json=page([msg(1)]))

    assert [r.id for r in first_page(make_client()).records] == [1]
    assert len(sleeps) == 1


def test_exhausted_retries_raise_unavailable_with_a_clear_message(rsps, make_client, sleeps):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=503)  # responses repeats the last match
    client = make_client(max_attempts=4)

    with pytest.raises(NexudusUnavailable) as caught:
        list(client.iter_message_pages(updated_from=datetime(2025, 1, 1, tzinfo=timezone.utc)))

    message = str(caught.value)
    assert "4 attempts" in message and "HTTP 503" in message
    assert "/api/spaces/coworkermessages" in message
    assert "?" not in message and "page=" not in message  # the path, never the query
    assert caught.value.attempts == 4 and caught.value.path == "/api/spaces/coworkermessages"
    assert len(sleeps) == 3
    assert client.requests_made == 1 + 4


def test_exhausted_timeouts_say_so(rsps, make_client):
    token_ok(rsps)
    rsps.get(f"{MESSAGES_URL}/5", body=requests.exceptions.ReadTimeout("slow"))
    rsps.get(f"{MESSAGES_URL}/5", body=requests.exceptions.ReadTimeout("slow"))

    with pytest.raises(NexudusUnavailable, match="after 2 attempts; the last failure was the answer timed out"):
        make_client(max_attempts=2).get_message(5)


def test_throttling_without_end_is_unavailable_after_the_throttle_budget(rsps, make_client, sleeps):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=409, headers={"Retry-After": "1"})

    with pytest.raises(NexudusUnavailable, match=r"kept throttling GET /api/spaces/coworkermessages \(HTTP 409"):
        first_page(make_client(max_attempts=3, max_throttle_wait=4.5))
    assert sleeps == [1.0] * 4  # more than max_attempts: waits asked for are not failed attempts


def test_throttled_waits_do_not_count_as_attempts(rsps, make_client, sleeps):
    """A third of the answers throttled (the operator's 32 %) still ends in success."""
    token_ok(rsps)
    for _ in range(6):
        rsps.get(MESSAGES_URL, status=409, headers={"Retry-After": "2"})
    rsps.get(MESSAGES_URL, status=503)
    rsps.get(MESSAGES_URL, json=page([msg(1)]))
    client = make_client(max_attempts=2)

    assert [r.id for r in first_page(client).records] == [1]
    assert sleeps[:6] == [2.0] * 6 and len(sleeps) == 7
    assert client.requests_made == 1 + 8


def test_409_without_retry_after_counts_as_an_attempt(rsps, make_client, sleeps):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=409)

    with pytest.raises(NexudusUnavailable, match="after 2 attempts; the last failure was HTTP 409"):
        first_page(make_client(max_attempts=2))


def test_a_retry_after_of_zero_cannot_throttle_forever(rsps, make_client, sleeps):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=429, headers={"Retry-After": "0"})

    with pytest.raises(NexudusUnavailable, match="kept throttling"):
        first_page(make_client(max_throttle_wait=5))
    assert len(sleeps) == 5  # each throttled answer counts at least a second against the budget


class CoolingLimiter(CountingLimiter):
    def __init__(self) -> None:
        super().__init__()
        self.cool_downs: list[float] = []

    def cool_down(self, seconds: float) -> None:
        self.cool_downs.append(seconds)


def test_a_throttled_answer_cools_every_worker_down(rsps, make_client, sleeps):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=409, headers={"Retry-After": "3"})
    rsps.get(MESSAGES_URL, status=429)  # no Retry-After: the backoff's wait is shared too
    rsps.get(MESSAGES_URL, json=page([]))
    limiter = CoolingLimiter()

    first_page(make_client(rate_limiter=limiter, backoff_base=0.5))

    assert limiter.cool_downs[0] == 3.0 and len(limiter.cool_downs) == 2
    assert 0 <= limiter.cool_downs[1] <= 0.5


@pytest.mark.parametrize("status", [400, 405, 410, 422])
def test_other_client_errors_fail_at_once(rsps, make_client, sleeps, status):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=status, json={"Message": "Bad filter value"})
    client = make_client()

    with pytest.raises(NexudusError) as caught:
        first_page(client)

    assert not isinstance(caught.value, (NexudusUnavailable, NexudusAuthError, NexudusNotFound))
    assert f"HTTP {status}" in str(caught.value) and "Bad filter value" in str(caught.value)
    assert sleeps == [] and client.requests_made == 2


def test_no_secret_in_logs_through_retries_and_renewals(rsps, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    rsps.post(TOKEN_URL, status=503)
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=409, headers={"Retry-After": "1"})
    rsps.get(MESSAGES_URL, status=401)
    token_ok(rsps, access=ACCESS_2, refresh=REFRESH_2)
    rsps.get(MESSAGES_URL, status=502)
    rsps.get(MESSAGES_URL, json=page([]))
    client = make_client(max_attempts=5)

    first_page(client)

    assert "retrying" in caplog.text
    assert_no_secret(caplog.text)
    assert_no_secret(repr(client))
    assert_no_secret(repr(client._tokens.tokens))


def test_every_request_goes_through_the_rate_limiter(rsps, make_client):
    limiter = CountingLimiter()
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=500)
    rsps.get(MESSAGES_URL, json=page([]))
    client = make_client(rate_limiter=limiter)

    first_page(client)

    assert limiter.acquired == client.requests_made == 3


# --- Paging and sorting ---------------------------------------------------------------------


def test_paging_follows_has_next_page_and_reads_the_granted_size(rsps, make_client):
    token_ok(rsps)
    # Asked for 5 a page; the server grants 2.
    rsps.get(MESSAGES_URL, json=page([msg(1), msg(2)], page=1, size=2, has_next=True, TotalItems=5))
    rsps.get(MESSAGES_URL, json=page([msg(3), msg(4)], page=2, size=2, has_next=True, TotalItems=5))
    rsps.get(MESSAGES_URL, json=page([msg(5)], page=3, size=2, has_next=False, TotalItems=5))
    client = make_client()

    pages = list(client.iter_message_pages(page_size=5))

    assert [[r.id for r in p.records] for p in pages] == [[1, 2], [3, 4], [5]]
    assert [p.page_size for p in pages] == [2, 2, 2] and pages[0].total_items == 5
    asked = [(query(c)["page"], query(c)["size"]) for c in api_calls(rsps)]
    assert asked == [(["1"], ["5"]), (["2"], ["2"]), (["3"], ["2"])]
    assert client.requests_made == 4


def test_start_page(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(7)], page=4, size=10, has_next=False))

    pages = list(make_client().iter_message_pages(start_page=4, page_size=10))

    assert pages[0].page == 4 and query(api_calls(rsps)[0])["page"] == ["4"]


@pytest.mark.parametrize(
    "first, expect_second",
    [
        ({"TotalPages": 2}, True),
        ({"TotalPages": 1}, False),
        ({"TotalItems": 3}, True),
        ({"TotalItems": 2}, False),
        ({}, True),  # a full page and nothing else said: ask for the next one
    ],
)
def test_missing_has_next_page_is_inferred(rsps, make_client, first, expect_second):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json={"Records": [msg(1), msg(2)], "CurrentPage": 1, "CurrentPageSize": 2, **first})
    if expect_second:
        rsps.get(MESSAGES_URL, json={"Records": [msg(3)], "CurrentPage": 2, "CurrentPageSize": 2})

    pages = list(make_client().iter_message_pages(page_size=2))

    assert len(pages) == (2 if expect_second else 1)


def test_envelope_with_almost_nothing_is_tolerated(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json={"Records": [msg(1)]})

    pages = list(make_client().iter_message_pages(page_size=10))

    assert len(pages) == 1 and pages[0].page == 1 and pages[0].page_size == 10 and not pages[0].has_next


def test_has_next_page_with_no_records_stops_with_an_error(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([], has_next=True))

    with pytest.raises(NexudusError, match="no records"):
        list(make_client().iter_message_pages())


def test_a_server_that_ignores_the_page_parameter_is_stopped(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json={"Records": [msg(1), msg(2)], "HasNextPage": True})

    with pytest.raises(NexudusError, match="same page"):
        list(make_client().iter_message_pages(page_size=2))
    assert len(api_calls(rsps)) == 2


def test_a_server_that_answers_another_page_is_stopped(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1)], page=1, size=1, has_next=True))
    rsps.get(MESSAGES_URL, json=page([msg(1)], page=1, size=1, has_next=True))

    with pytest.raises(NexudusError, match="answered page 1 .* page 2 was asked"):
        list(make_client().iter_message_pages(page_size=1))


def test_entries_without_id_are_skipped_and_counted(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1), {"Subject": "no id"}, None, msg(2)]))

    result = first_page(make_client())

    assert [r.id for r in result.records] == [1, 2] and result.skipped == 2


def test_a_bare_array_where_a_page_was_expected_is_tolerated(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=[msg(1), msg(2)])

    result = first_page(make_client())

    assert [r.id for r in result.records] == [1, 2] and not result.has_next


@pytest.mark.parametrize("body", ["text", 42, {"Records": "nope"}])
def test_a_page_that_is_not_an_envelope_is_an_error(rsps, make_client, body):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=body)

    with pytest.raises(NexudusError, match="list page|not a list"):
        first_page(make_client())


def test_order_by_and_dir_are_always_sent(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([], CurrentOrderField="UpdatedOn"))
    rsps.get(ACCOUNTS_URL, json=page([]))
    rsps.get(BUSINESSES_URL, json=page([]))
    client = make_client()

    list(client.iter_message_pages(order_by="UpdatedOn"))
    list(client.iter_account_pages())
    list(client.iter_business_pages())

    sent = [(query(c)["orderBy"], query(c)["dir"]) for c in api_calls(rsps)]
    assert sent == [(["UpdatedOn"], ["1"]), (["Id"], ["1"]), (["Id"], ["1"])]


@pytest.mark.parametrize("direction", [1, 0, "ASC", "Ascending", None])
def test_ascending_echoes_are_accepted(rsps, make_client, direction):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1), msg(2)], CurrentSortDirection=direction))

    assert len(first_page(make_client()).records) == 2


def learn_convention_server(rsps, records, *, echo="int", **extra):
    """A server of the learn.nexudus.com convention: dir=0 ascending, dir=1 descending."""
    def answer(request):
        direction = query_of(request.url).get("dir", ["0"])[0]
        ordered = records if direction == "0" else list(reversed(records))
        echoed = {"int": int(direction), "word": "Ascending" if direction == "0" else "Descending",
                  "none": ...}[echo]
        return 200, {}, json.dumps(page(ordered, CurrentSortDirection=echoed, **extra))

    rsps.add_callback(responses.GET, MESSAGES_URL, callback=answer)


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


@pytest.mark.parametrize("echo", ["int", "word", "none"])
def test_a_page_answered_descending_is_asked_again_with_the_other_dir(rsps, make_client, echo, caplog):
    token_ok(rsps)
    learn_convention_server(rsps, [msg(1), msg(2), msg(3)], echo=echo)
    client = make_client()

    with caplog.at_level(logging.INFO, logger="inbox.nexudus.sort"):
        result = first_page(client)

    assert [r.id for r in result.records] == [1, 2, 3]
    assert [query(c)["dir"] for c in api_calls(rsps)] == [["1"], ["0"]]
    assert client.ascending_dir == 0
    assert [r.getMessage() for r in caplog.records if "sorts dir=0 ascending" in r.getMessage()] != []


def test_the_learnt_dir_is_sent_first_from_then_on(rsps, make_client):
    token_ok(rsps)
    learn_convention_server(rsps, [msg(1), msg(2)])
    client = make_client()
    first_page(client)
    first_page(client)

    assert [query(c)["dir"] for c in api_calls(rsps)] == [["1"], ["0"], ["0"]]


def test_a_single_record_with_a_descending_word_switches_too(rsps, make_client):
    token_ok(rsps)
    learn_convention_server(rsps, [msg(1)], echo="word")

    assert [r.id for r in first_page(make_client()).records] == [1]
    assert [query(c)["dir"] for c in api_calls(rsps)] == [["1"], ["0"]]


def test_a_developers_convention_server_is_confirmed_and_kept(rsps, make_client, caplog):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1), msg(2)]))
    client = make_client()

    with caplog.at_level(logging.INFO, logger="inbox.nexudus.sort"):
        first_page(client)

    assert client.sort_memory.get(BASE) == 1
    assert any("sorts dir=1 ascending" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("direction", [-1, "DESC", "descending"])
def test_descending_for_both_dir_values_is_an_error(rsps, make_client, direction):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1)], CurrentSortDirection=direction))

    with pytest.raises(NexudusError, match="descending order for both dir=1 and dir=0"):
        first_page(make_client())
    assert [query(c)["dir"] for c in api_calls(rsps)] == [["1"], ["0"]]


def test_an_override_that_is_answered_descending_says_to_unset_it(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(3), msg(2), msg(1)]))

    with pytest.raises(NexudusError, match="NEXUDUS_SORT_ASCENDING_DIR=1 is set .* unset it"):
        first_page(make_client(ascending_dir=1))
    assert len(api_calls(rsps)) == 1


def test_other_order_field_echo_is_an_error(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1)], CurrentOrderField="Id"))

    with pytest.raises(NexudusError, match="sorted .* by 'Id' although orderBy='UpdatedOn'"):
        next(iter(make_client().iter_message_pages(order_by="UpdatedOn")))


def test_records_in_descending_order_are_detected_even_with_an_ambiguous_echo(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(3), msg(2), msg(1)], CurrentSortDirection=1))
    rsps.get(MESSAGES_URL, json=page([msg(1), msg(2), msg(3)], CurrentSortDirection=0))

    assert [r.id for r in first_page(make_client()).records] == [1, 2, 3]
    assert [query(c)["dir"] for c in api_calls(rsps)] == [["1"], ["0"]]


def test_updated_on_order_is_checked_on_the_records(rsps, make_client):
    token_ok(rsps)
    newer, older = msg(1, UpdatedOn="2025-01-02T00:00:00Z"), msg(2, UpdatedOn="2025-01-01T00:00:00Z")
    rsps.get(MESSAGES_URL, json=page([newer, older], CurrentOrderField="UpdatedOn"))
    rsps.get(MESSAGES_URL, json=page([older, newer], CurrentOrderField="UpdatedOn"))

    result = next(iter(make_client().iter_message_pages(order_by="UpdatedOn")))

    assert [r.id for r in result.records] == [2, 1]


def test_a_server_that_turns_descending_mid_walk_stops_the_walk_and_forgets(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([msg(1), msg(2)], has_next=True, size=2))
    rsps.get(MESSAGES_URL, json=page([msg(4), msg(3)], page=2, size=2))
    client = make_client()
    pages = client.iter_message_pages(page_size=2)

    assert [r.id for r in next(pages).records] == [1, 2]
    with pytest.raises(NexudusError, match="in the middle of a walk"):
        next(pages)
    assert client.sort_memory.get(BASE) is None


def test_the_convention_is_shared_through_redis(rsps, make_client, redis_client, caplog):
    from inbox.nexudus.sort import RedisSortMemory

    redis_client.delete("test:dir:" + BASE)
    token_ok(rsps)
    learn_convention_server(rsps, [msg(1), msg(2)])
    first = make_client(sort_memory=RedisSortMemory(redis_client, prefix="test:dir:"))
    second = make_client(sort_memory=RedisSortMemory(redis_client, prefix="test:dir:"))

    with caplog.at_level(logging.INFO, logger="inbox.nexudus.sort"):
        first_page(first)
        first_page(second)

    assert [query(c)["dir"] for c in api_calls(rsps)] == [["1"], ["0"], ["0"]]
    assert len([r for r in caplog.records if "sorts dir=0" in r.getMessage()]) == 1
    redis_client.delete("test:dir:" + BASE)


def test_configured_ascending_dir_is_sent(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([]))

    first_page(make_client(ascending_dir=0))

    assert query(api_calls(rsps)[0])["dir"] == ["0"]


# --- Filters ----------------------------------------------------------------------------------


def test_message_filters_are_encoded_exactly(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([], CurrentOrderField="UpdatedOn"))
    plus_two = timezone(timedelta(hours=2))

    list(make_client().iter_message_pages(
        order_by="UpdatedOn", page_size=100,
        is_new_message=True, incoming=False, email_account_id=12, coworker_id=345,
        created_from=datetime(2025, 1, 1, 0, 0, tzinfo=timezone.utc),
        created_to=date(2025, 1, 31),
        updated_from=datetime(2025, 1, 15, 12, 30, 59, 999999, tzinfo=plus_two),
        updated_to=datetime(2025, 1, 15, 12, 45, 1, tzinfo=plus_two),
    ))

    url = api_calls(rsps)[0].request.url
    assert url == (
        f"{MESSAGES_URL}?CoworkerMessage_IsNewMessage=true&CoworkerMessage_Incoming=false"
        "&CoworkerMessage_EmailAccount=12&CoworkerMessage_Coworker=345"
        "&from_CoworkerMessage_CreatedOn=2025-01-01T00%3A00&to_CoworkerMessage_CreatedOn=2025-02-01T00%3A00"
        "&from_CoworkerMessage_UpdatedOn=2025-01-15T10%3A30&to_CoworkerMessage_UpdatedOn=2025-01-15T10%3A46"
        "&page=1&size=100&orderBy=UpdatedOn&dir=1"
    )


def test_filters_left_out_are_not_sent(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([]))

    first_page(make_client())

    assert set(query(api_calls(rsps)[0])) == {"page", "size", "orderBy", "dir"}


def test_account_filters_are_encoded_exactly(rsps, make_client):
    token_ok(rsps)
    rsps.get(ACCOUNTS_URL, json=page([]))

    list(make_client().iter_account_pages(
        active=True, business_id=9, updated_from=datetime(2025, 3, 1, 9, 5, 30),  # naive: UTC
        updated_to=datetime(2025, 3, 2, 9, 5, tzinfo=timezone.utc)))

    assert query(api_calls(rsps)[0]) == {
        "EmailAccount_Active": ["true"], "EmailAccount_Business": ["9"],
        "from_EmailAccount_UpdatedOn": ["2025-03-01T09:05"], "to_EmailAccount_UpdatedOn": ["2025-03-02T09:05"],
        "page": ["1"], "size": ["50"], "orderBy": ["Id"], "dir": ["1"],
    }


@pytest.mark.parametrize(
    "value, round_up, expected",
    [
        (datetime(2025, 1, 15, 10, 30, 0, tzinfo=timezone.utc), False, "2025-01-15T10:30"),
        (datetime(2025, 1, 15, 10, 30, 59, tzinfo=timezone.utc), False, "2025-01-15T10:30"),
        (datetime(2025, 1, 15, 10, 30, 0, tzinfo=timezone.utc), True, "2025-01-15T10:30"),
        (datetime(2025, 1, 15, 10, 30, 0, 1, tzinfo=timezone.utc), True, "2025-01-15T10:31"),
        (datetime(2025, 12, 31, 23, 59, 30, tzinfo=timezone.utc), True, "2026-01-01T00:00"),
        (datetime(2025, 1, 15, 1, 30, tzinfo=timezone(timedelta(hours=5))), False, "2025-01-14T20:30"),
        (date(2025, 1, 15), False, "2025-01-15T00:00"),
        (date(2025, 1, 15), True, "2025-01-16T00:00"),
    ],
)
def test_filter_datetimes_are_utc_to_the_minute(value, round_up, expected):
    assert format_filter_datetime(value, round_up=round_up) == expected


def test_a_wrong_filter_type_is_refused_before_any_request(make_client):
    with pytest.raises(TypeError):
        next(iter(make_client().iter_message_pages(email_account_id="12")))
    with pytest.raises(TypeError):
        next(iter(make_client().iter_message_pages(updated_from="2025-01-01")))


# --- Get one, batch -------------------------------------------------------------------------


def test_get_one_and_its_404(rsps, make_client, sleeps):
    token_ok(rsps)
    rsps.get(f"{MESSAGES_URL}/42", json=msg(42, Body="<p>Hi</p>"))
    rsps.get(f"{ACCOUNTS_URL}/7", json={"Id": 7, "DisplayName": "Front desk", "GoogleAccessToken": "tok"})
    rsps.get(f"{MESSAGES_URL}/43", status=404)
    client = make_client()

    assert client.get_message(42).body == "<p>Hi</p>"
    account = client.get_account(7)
    assert account.display_name == "Front desk" and account.has_google_token
    with pytest.raises(NexudusNotFound, match="CoworkerMessage 43"):
        client.get_message(43)
    assert sleeps == []  # a 404 is an answer, not a fault


def test_list_404_points_at_the_base_url(rsps, make_client):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=404)

    with pytest.raises(NexudusError, match="NEXUDUS_API_URL") as caught:
        first_page(make_client())
    assert not isinstance(caught.value, NexudusNotFound)


def test_batch_get_chunks_and_returns_only_existing(rsps, make_client):
    token_ok(rsps)
    ids = list(range(1, 251)) + [5, 6]  # duplicates asked once
    for chunk in (range(1, 101), range(101, 201), range(201, 251)):
        rsps.get(f"{MESSAGES_URL}/", json=[msg(i) for i in chunk if i % 3])  # some do not exist
    client = make_client()

    found = client.get_messages(ids)

    assert [r.id for r in found] == [i for i in range(1, 251) if i % 3]
    calls = api_calls(rsps)
    assert len(calls) == 3
    assert query(calls[0])["id"] == ["[" + ",".join(map(str, range(1, 101))) + "]"]
    assert query(calls[2])["id"] == ["[" + ",".join(map(str, range(201, 251))) + "]"]
    assert calls[0].request.url.startswith(f"{MESSAGES_URL}/?id=%5B1%2C2%2C3%2C")


def test_batch_get_of_nothing_sends_nothing(rsps, make_client):
    assert make_client().get_messages([]) == []
    assert len(rsps.calls) == 0


def test_batch_accounts_tolerates_an_envelope(rsps, make_client):
    token_ok(rsps)
    rsps.get(f"{ACCOUNTS_URL}/", json={"Records": [{"Id": 1}, {"Id": 2}]})

    assert [a.id for a in make_client().get_accounts([1, 2, 3])] == [1, 2]


def test_businesses(rsps, make_client):
    token_ok(rsps)
    rsps.get(BUSINESSES_URL, json=page([{"Id": 1, "Name": "Dublin"}, {"Id": 2, "Name": None}]))

    [result] = list(make_client().iter_business_pages())

    assert [(b.id, b.name) for b in result.records] == [(1, "Dublin"), (2, None)]


# --- Configuration --------------------------------------------------------------------------


@override_settings(
    NEXUDUS_API_URL="https://example.nexudus.test/", NEXUDUS_USERNAME="u@example.com",
    NEXUDUS_PASSWORD="pw", NEXUDUS_PAGE_SIZE=321, NEXUDUS_CONNECT_TIMEOUT=2.5, NEXUDUS_READ_TIMEOUT=40.0,
    NEXUDUS_MAX_ATTEMPTS=3, NEXUDUS_MAX_RETRY_AFTER=7.0, NEXUDUS_RATE_PER_SECOND=4, NEXUDUS_RATE_PER_MINUTE=100,
    NEXUDUS_MAX_THROTTLE_WAIT=120.0, NEXUDUS_RATE_WINDOW_MARGIN=3.0,
)
def test_from_settings():
    client = NexudusClient.from_settings()

    assert client.base_url == "https://example.nexudus.test"
    assert (client.username, client.page_size, client.timeout) == ("u@example.com", 321, (2.5, 40.0))
    assert (client.max_attempts, client.max_retry_after, client.max_throttle_wait) == (3, 7.0, 120.0)
    assert isinstance(client.rate_limiter, RedisRateLimiter)
    assert (client.rate_limiter.per_second, client.rate_limiter.per_minute) == (4, 100)
    assert client.rate_limiter.window_margin == 3.0
    assert client.rate_limiter.key == "nexudus:ratelimit:nexudus"


def test_json_body_is_parsed_from_bytes_in_any_utf(rsps, make_client):
    token_ok(rsps)
    body = json.dumps(page([msg(1, Subject="Réservation 会议室 🎉")]), ensure_ascii=False).encode("utf-8")
    rsps.get(MESSAGES_URL, body=body, content_type="application/json")

    assert first_page(make_client()).records[0].subject == "Réservation 会议室 🎉"


def test_netrc_credentials_never_replace_the_bearer_token(rsps, make_client, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine nexudus.test login someone password other-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    token_ok(rsps)
    rsps.get(MESSAGES_URL, json=page([]))

    first_page(make_client())

    assert api_calls(rsps)[0].request.headers["Authorization"] == f"Bearer {ACCESS_1}"


@override_settings(NEXUDUS_SORT_ASCENDING_DIR=0)
def test_from_settings_reads_the_ascending_dir():
    assert NexudusClient.from_settings(rate_limiter=None).ascending_dir_override == 0


@override_settings(NEXUDUS_SORT_ASCENDING_DIR=None)
def test_from_settings_finds_the_dir_by_itself_and_shares_it_in_redis():
    from inbox.nexudus.sort import RedisSortMemory

    client = NexudusClient.from_settings(rate_limiter=None)
    assert client.ascending_dir_override is None
    assert isinstance(client.sort_memory, RedisSortMemory)
