"""One HTTP exchange with Nexudus, sent again until it has a definite answer.

The transport owns the ``requests.Session`` (timeouts, no redirects followed, the User-Agent) and
decides what is worth sending again:

- throttling (HTTP 409, Nexudus's "for legacy reasons" code, and 429) with ``Retry-After``: Nexudus
  pacing us, not failing (https://developers.nexudus.com/reference/api-limitations). The wait it
  asks for is honoured up to ``max_retry_after``, shared with every worker through the rate
  limiter's cool-down, and not counted as an attempt; the request gives up once such waits reach
  ``max_throttle_wait`` seconds in all;
- 5xx, timeouts, connection resets, cut bodies and truncated JSON: exponential backoff with full
  jitter, at most ``max_attempts`` attempts, then :class:`NexudusUnavailable` saying what failed;
- anything else (2xx, 3xx, 4xx) is an answer, returned for the caller to read.

It also keeps the server's clock: the HTTP ``Date`` of its answers (RFC 9110 §6.6.1).

The retry loop is written out rather than built with tenacity: its two budgets (failed attempts,
and throttled waits that are not failures) would become stop and wait callbacks sharing state.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NamedTuple, Protocol

import requests
import requests.auth

from inbox.nexudus import errors

logger = logging.getLogger(__name__)

USER_AGENT = f"nexudus-helpdesk-inbox/1.0 (help-desk inbox dashboard; python-requests/{requests.__version__})"

MISSING = object()


def json_or_missing(body: bytes) -> Any:
    """The parsed JSON of a body, or :data:`MISSING` when it is empty, cut short or not JSON."""
    if not body:
        return MISSING
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return MISSING


def json_or_none(body: bytes) -> Any:
    parsed = json_or_missing(body)
    return None if parsed is MISSING else parsed


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        when = _http_date(text)
        if when is None:
            return None
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


def _http_date(text: str) -> datetime | None:
    if not text:
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


class RateLimiter(Protocol):
    def acquire(self) -> Any: ...

    # Optional: ``cool_down(seconds)``, called when Nexudus throttled a request, so that every
    # process sharing the limiter waits too (``inbox.nexudus.ratelimit.RedisRateLimiter.cool_down``).


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying: ``max_attempts`` failures, ``max_throttle_wait`` s of throttling."""

    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 60.0
    max_throttle_wait: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1.")

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """The wait before sending again: what Nexudus asked (capped), else the jittered backoff."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        # Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter").
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return random.uniform(0, ceiling)


class _Outcome(NamedTuple):
    """One request: an answer (``failure`` None), or a failure worth sending again."""

    response: requests.Response | None = None
    data: Any = None
    failure: str | None = None
    throttled: bool = False
    retry_after: float | None = None


class ServerDateWatch:
    """The server's clock at its first answer after the watch began (``at``; None until then)."""

    def __init__(self, transport: Transport):
        self._transport = transport
        self.at: datetime | None = None

    def close(self) -> None:
        """Stop watching (``at`` stays readable)."""
        self._transport._unwatch(self)

    def __enter__(self) -> ServerDateWatch:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class Transport:
    """Sends requests to one Nexudus address; see the module's docstring for what is retried."""

    def __init__(
        self,
        *,
        base_url: str,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5, 60),
        retry: RetryPolicy = RetryPolicy(),
        rate_limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        self.timeout = timeout
        self.retry = retry
        self.rate_limiter = rate_limiter
        self.sleep = sleep
        self.requests_made = 0
        #: The server's clock at its last answer (its HTTP ``Date``); None before any answer.
        self.server_date: datetime | None = None
        self._watches: list[ServerDateWatch] = []
        self._watch_lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    # --- The server's clock ---------------------------------------------------------------

    def watch_server_date(self) -> ServerDateWatch:
        """Remember the server's clock at its first answer from now on (``watch.at``)."""
        watch = ServerDateWatch(self)
        with self._watch_lock:
            self._watches.append(watch)
        return watch

    def _unwatch(self, watch: ServerDateWatch) -> None:
        with self._watch_lock:
            if watch in self._watches:
                self._watches.remove(watch)

    def _note_date(self, response: requests.Response) -> None:
        moment = _http_date(response.headers.get("Date") or "")
        if moment is None:
            return
        self.server_date = moment
        if self._watches:
            with self._watch_lock:
                for watch in self._watches:
                    if watch.at is None:
                        watch.at = moment

    # --- Sending --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: requests.auth.AuthBase | None = None,
    ) -> tuple[requests.Response, Any]:
        """Send until a definite answer: the response and, for a 200, its parsed JSON."""
        url = self.base_url + path
        attempt = 0  # failed attempts: throttled answers with Retry-After are not counted
        sent = throttled = 0
        throttled_wait = 0.0
        while True:
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            self.requests_made += 1
            sent += 1
            outcome = self._send(method, url, params=params, data=data, headers=headers, auth=auth)
            if outcome.failure is None:
                return outcome.response, outcome.data
            failure = outcome.failure
            if outcome.retry_after is not None:  # Nexudus pacing us: a wait, not a failed attempt
                delay = self.retry.delay(attempt, outcome.retry_after)
                self._cool_down(delay)
                counted = max(delay, 1.0)  # a "Retry-After: 0" storm still ends
                if throttled_wait + counted > self.retry.max_throttle_wait:
                    raise errors.kept_throttling(
                        method=method, path=path, failure=failure, waited=throttled_wait, sent=sent,
                        limit=self.retry.max_throttle_wait,
                    )
                throttled += 1
                throttled_wait += counted
                logger.info("Nexudus %s %s: %s; waiting %.2f s as it asks.", method, path, failure, delay)
                self.sleep(delay)
                continue
            attempt += 1
            if attempt >= self.retry.max_attempts:
                raise errors.gave_up(
                    method=method, path=path, failure=failure, attempts=attempt, throttled=throttled, sent=sent,
                )
            delay = self.retry.delay(attempt, None)
            if outcome.throttled:
                self._cool_down(delay)
            logger.warning(
                "Nexudus %s %s: %s (attempt %d of %d); retrying in %.2f s.",
                method, path, failure, attempt, self.retry.max_attempts, delay,
            )
            self.sleep(delay)

    def _send(self, method: str, url: str, **kwargs: Any) -> _Outcome:
        """One request, classified: an answer, or the failure to retry (and the wait asked for)."""
        try:
            response = self.session.request(
                method, url, timeout=self.timeout, allow_redirects=False, **kwargs,
            )
            self._note_date(response)
            body = response.content  # read fully: a cut connection raises here, not later
        except requests.exceptions.ConnectTimeout:
            return _Outcome(failure="the connection timed out")
        except requests.exceptions.ReadTimeout:
            return _Outcome(failure="the answer timed out")
        except requests.exceptions.SSLError as exc:
            return _Outcome(failure=f"TLS failed ({type(exc).__name__})")
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            return _Outcome(failure=f"the connection failed ({type(exc).__name__})")
        status = response.status_code
        if status in (409, 429):
            return _Outcome(failure=f"an answer asking to wait (HTTP {status}, throttled)", throttled=True,
                            retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if status >= 500:
            return _Outcome(failure=f"a server error (HTTP {status})")
        if status != 200:
            return _Outcome(response=response)
        parsed = json_or_missing(body)
        if parsed is MISSING:
            return _Outcome(failure="a truncated or invalid JSON body")
        return _Outcome(response=response, data=parsed)

    def _cool_down(self, seconds: float) -> None:
        """Tell every worker sharing the rate limiter to hold back too (if the limiter can)."""
        cool_down = getattr(self.rate_limiter, "cool_down", None)
        if cool_down is not None and seconds > 0:
            cool_down(seconds)
