"""Throttling, retries and the server's clock, request by request, against a faked Nexudus.

The client's ``sleep`` is a list's ``append``: waits are asserted, not slept.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
import requests

from inbox.nexudus import (
    NexudusAuthError,
    NexudusError,
    NexudusNotFound,
    NexudusUnavailable,
    parse_retry_after,
)
from tests.nexudus.fake_api import (
    ACCESS_2,
    MESSAGES_URL,
    REFRESH_2,
    TOKEN_URL,
    CoolingLimiter,
    CountingLimiter,
    assert_no_secret,
    first_page,
    msg,
    page,
    token_ok,
)

pytestmark = pytest.mark.timeout(30)


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

    assert all(client.transport.retry.delay(attempt, None) <= 2.0 for attempt in range(1, 30))


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

    with pytest.raises(NexudusUnavailable, match=r"kept asking the help desk to wait \(throttling GET /api/spaces/coworkermessages\): .* \(the last was an answer asking to wait \(HTTP 409"):
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

    with pytest.raises(NexudusUnavailable, match=r"after 2 attempts; the last failure was an answer asking to wait \(HTTP 409, throttled\)"):
        first_page(make_client(max_attempts=2))


def test_a_retry_after_of_zero_cannot_throttle_forever(rsps, make_client, sleeps):
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=429, headers={"Retry-After": "0"})

    with pytest.raises(NexudusUnavailable, match="kept asking the help desk to wait"):
        first_page(make_client(max_throttle_wait=5))
    assert len(sleeps) == 5  # each throttled answer counts at least a second against the budget


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
    assert_no_secret(repr(client.auth._tokens.tokens))


def test_every_request_goes_through_the_rate_limiter(rsps, make_client):
    limiter = CountingLimiter()
    token_ok(rsps)
    rsps.get(MESSAGES_URL, status=500)
    rsps.get(MESSAGES_URL, json=page([]))
    client = make_client(rate_limiter=limiter)

    first_page(client)

    assert limiter.acquired == client.requests_made == 3


def test_json_body_is_parsed_from_bytes_in_any_utf(rsps, make_client):
    token_ok(rsps)
    body = json.dumps(page([msg(1, Subject="Réservation 会议室 🎉")]), ensure_ascii=False).encode("utf-8")
    rsps.get(MESSAGES_URL, body=body, content_type="application/json")

    assert first_page(make_client()).records[0].subject == "Réservation 会议室 🎉"


# --- The server's clock -----------------------------------------------------------------------


def answers_dated(rsps, *dates):
    """A token, then one page per further date, each answer carrying its HTTP ``Date``."""
    rsps.post(TOKEN_URL, json={"access_token": "a", "expires_in": 3600}, headers={"Date": dates[0]})
    for date in dates[1:]:
        rsps.get(MESSAGES_URL, json=page([msg(1)]), headers={"Date": date})


def test_the_server_clock_is_the_date_of_its_last_answer(rsps, make_client):
    answers_dated(rsps, "Mon, 30 Jun 2025 12:00:00 GMT", "Mon, 30 Jun 2025 12:00:07 GMT")
    client = make_client()
    assert client.server_date is None  # no answer yet

    first_page(client)

    assert client.server_date == datetime(2025, 6, 30, 12, 0, 7, tzinfo=timezone.utc)


def test_a_watch_keeps_the_first_answer_after_it_began(rsps, make_client):
    answers_dated(rsps, "Mon, 30 Jun 2025 12:00:00 GMT", "Mon, 30 Jun 2025 12:00:05 GMT",
                  "Mon, 30 Jun 2025 12:00:09 GMT", "Mon, 30 Jun 2025 12:00:12 GMT")
    client = make_client()
    first_page(client)  # the token and a page, before the watch

    watch = client.watch_server_date()
    assert watch.at is None
    first_page(client)
    first_page(client)
    watch.close()

    assert watch.at == datetime(2025, 6, 30, 12, 0, 9, tzinfo=timezone.utc)


def test_a_closed_watch_and_an_unreadable_date_change_nothing(rsps, make_client):
    answers_dated(rsps, "not a date", "Mon, 30 Jun 2025 12:00:05 GMT", "Mon, 30 Jun 2025 12:00:09 GMT")
    client = make_client()

    with client.watch_server_date() as watch:
        first_page(client)  # the token's Date cannot be read: the page's is the first
    first_page(client)

    assert watch.at == datetime(2025, 6, 30, 12, 0, 5, tzinfo=timezone.utc)
    assert client.server_date == datetime(2025, 6, 30, 12, 0, 9, tzinfo=timezone.utc)
