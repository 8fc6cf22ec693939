"""The Nexudus client: the only code in this project that speaks HTTP to Nexudus.

It owns one ``requests.Session`` and gives back plain records (``inbox.records``), never ORM objects.
What it handles, following ``../shared/nexudus-api.md``:

- authentication (§4): a bearer token from ``POST /api/token`` (form-encoded, ``grant_type=password``,
  plus ``totp``: a code, or one made from ``NEXUDUS_TOTP`` when it is the authenticator's secret),
  refreshed with ``grant_type=refresh_token`` shortly before it expires, and once more on a 401;
  clients made by ``from_settings`` share the token within a process (memory only), so a sync
  every minute does not sign in every minute;
- paging (§1): ``page``/``size`` following ``HasNextPage``, reading ``CurrentPageSize`` back (the
  server may grant less than asked), always sending ``orderBy`` and ``dir`` and checking that the
  server sorted the way it was asked (the echo, and the records' own order). The meaning of ``dir``
  differs between documentation generations, so a page answered in descending order is asked
  again with the other value, and the answer is remembered per server (``inbox.sort_convention``);
  ``NEXUDUS_SORT_ASCENDING_DIR`` overrides it;
- throttling (§5): HTTP 409 (and 429) with ``Retry-After``, honoured up to a cap and shared with
  every worker through the rate limiter's cool-down. Throttling is not failure: those waits do not
  count as attempts; a request gives up after ``max_throttle_wait`` seconds of them in all;
- exponential backoff with full jitter on 5xx, timeouts, connection resets and truncated JSON; a
  bounded number of attempts, then :class:`NexudusUnavailable` saying what failed;
- a rate limiter shared by every worker (``inbox.ratelimit``), consulted before every request.

Secrets: neither the password, nor the TOTP, nor any token is ever logged or put in an exception's
text (messages are built from fixed sentences, and server-supplied text is scrubbed of them).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import hmac
import json
import logging
import math
import random
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Protocol, TypeVar

import requests
import requests.auth

from inbox.nexudus.records import (
    BusinessRecord,
    CoworkerMessageRecord,
    EmailAccountRecord,
    Page,
    RecordError,
    parse_account,
    parse_business,
    parse_datetime,
    parse_int,
    parse_message,
)
from inbox.nexudus.sort import (
    FIRST_GUESS,
    ProcessSortMemory,
    RedisSortMemory,
    SortMemory,
    announce,
    other_ascending_dir,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT = f"nexudus-helpdesk-inbox/1.0 (help-desk inbox dashboard; python-requests/{requests.__version__})"

MESSAGES_PATH = "/api/spaces/coworkermessages"
ACCOUNTS_PATH = "/api/crm/emailaccounts"
BUSINESSES_PATH = "/api/sys/businesses"
TOKEN_PATH = "/api/token"

#: The roles the dashboard's API user needs (read-only), named in permission errors.
REQUIRED_ROLES = (
    "CoworkerMessage-List, CoworkerMessage-Read, EmailAccount-List, EmailAccount-Read, Business-List"
)
#: Ids per batch request (``?id=[...]``): keeps URLs well under common 8 KB limits.
BATCH_SIZE = 100

_SORTED_FIELDS = {  # fields whose order on a page the client can check itself
    "id": lambda record: record.id,
    "createdon": lambda record: getattr(record, "created_on", None),
    "updatedon": lambda record: getattr(record, "updated_on", None),
}


# --- Errors ---------------------------------------------------------------------------------


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


class RateLimiter(Protocol):
    def acquire(self) -> Any: ...

    # Optional: ``cool_down(seconds)``, called when Nexudus throttled a request, so that every
    # process sharing the limiter waits too (``inbox.ratelimit.RedisRateLimiter.cool_down``).


# --- Tokens ---------------------------------------------------------------------------------


class _BearerAuth(requests.auth.AuthBase):
    """The bearer header, as an auth object: requests then never swaps in ``~/.netrc`` credentials."""

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "_BearerAuth(***)"


@dataclass
class _Token:
    access_token: str
    refresh_token: str | None
    expires_at: float | None  # on the client's clock; None: the server did not say

    def __repr__(self) -> str:  # never print a token, even in a debugger or a traceback
        return f"_Token(expires_at={self.expires_at!r})"


class _TokenCache:
    """Tokens kept in this process's memory (never stored), shared by clients that opt in."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tokens: dict[tuple[str, str], _Token] = {}


_SHARED_TOKENS = _TokenCache()


def clear_shared_tokens() -> None:
    """Forget the tokens shared by clients made with ``from_settings`` (tests, credential changes)."""
    with _SHARED_TOKENS.lock:
        _SHARED_TOKENS.tokens.clear()


# --- Filter formatting ----------------------------------------------------------------------


def format_filter_datetime(value: datetime | date, *, round_up: bool = False) -> str:
    """``YYYY-MM-DDTHH:mm`` in UTC, the range filters' minute precision.

    ``from_`` bounds round down and ``to_`` bounds round up, so nothing at the edge is skipped.
    A naive datetime is read as UTC; a date means its midnight (``to_``: the next midnight).
    """
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(timezone.utc)
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
        if round_up:
            moment += timedelta(days=1)
    else:
        raise TypeError(f"A date filter needs a datetime or a date, not {type(value).__name__}.")
    floored = moment.replace(second=0, microsecond=0)
    if round_up and floored != moment:
        floored += timedelta(minutes=1)
    return floored.strftime("%Y-%m-%dT%H:%M")


def _format_bool(value: bool) -> str:
    return "true" if value else "false"


def _put(params: dict[str, str], name: str, value: Any, kind: str) -> None:
    if value is None:
        return
    if kind == "bool":
        params[name] = _format_bool(bool(value))
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"The filter {name} needs a whole number, not {value!r}.")
        params[name] = str(value)
    elif kind == "from":
        params[name] = format_filter_datetime(value)
    elif kind == "to":
        params[name] = format_filter_datetime(value, round_up=True)
    else:  # pragma: no cover - programming error
        raise ValueError(kind)


# --- Two-factor codes -----------------------------------------------------------------------


def totp_code(secret: str, *, at: float | None = None, digits: int = 6, step: int = 30) -> str:
    """The RFC 6238 code (HMAC-SHA1, 30 s steps) of a base32 secret at time ``at`` (default now)."""
    cleaned = secret.strip().replace(" ", "").upper()
    try:
        key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError):
        raise ValueError("not a base32 secret") from None
    if not key:
        raise ValueError("an empty secret")
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


# --- Retry-After ----------------------------------------------------------------------------


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
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


# --- The client -----------------------------------------------------------------------------


class NexudusClient:
    """A read-only Nexudus REST client. Not thread-safe for concurrent calls: one per sync run."""

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: str,
        totp: str | None = None,
        page_size: int = 1000,
        session: requests.Session | None = None,
        rate_limiter: RateLimiter | None = None,
        connect_timeout: float = 5,
        read_timeout: float = 60,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 60.0,
        max_throttle_wait: float = 300.0,
        client_id: str | None = None,
        ascending_dir: int | None = None,
        sort_memory: SortMemory | None = None,
        clock: Callable[[], float] = time.monotonic,
        share_tokens: bool = False,
    ):
        if not base_url:
            raise ValueError("NEXUDUS_API_URL is empty: set it to the Nexudus address.")
        if not username or not password:
            raise NexudusAuthError(
                "Nexudus credentials are missing: set NEXUDUS_USERNAME and NEXUDUS_PASSWORD.",
                kind="invalid_credentials",
            )
        if page_size < 1:
            raise ValueError("The page size must be at least 1.")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1.")
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        # NEXUDUS_TOTP: a code (digits, good once) or the authenticator's base32 secret, from which
        # a fresh code is made at each sign-in (a "managed TOTP secret", nexudus-api.md §4).
        self._totp = (totp or "").strip().replace(" ", "") or None
        if self._totp and not self._totp.isdigit():
            try:
                totp_code(self._totp)
            except ValueError:
                raise NexudusAuthError(
                    "NEXUDUS_TOTP is neither a code of digits nor a base32 TOTP secret: set it to the "
                    "secret shown when two-factor authentication was set up for the API user.",
                    kind="two_factor_required",
                ) from None
        self.client_id = client_id or username  # the documented default client_id
        self.page_size = page_size
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        self.rate_limiter = rate_limiter
        self.timeout = (connect_timeout, read_timeout)
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.max_throttle_wait = max_throttle_wait
        if ascending_dir not in (None, 0, 1):
            raise ValueError("ascending_dir must be 1, 0 or None (find out from the answers).")
        # None: found out from the server's answers and kept in sort_memory.
        self.ascending_dir_override = ascending_dir
        self.sort_memory: SortMemory = sort_memory or ProcessSortMemory()
        self._remembered_dir: int | None = None
        self.clock = clock
        self.requests_made = 0
        self._tokens = _SHARED_TOKENS if share_tokens else _TokenCache()
        self._token_key = (self.base_url, self.client_id)

    def __repr__(self) -> str:
        return f"NexudusClient(base_url={self.base_url!r}, username={self.username!r})"

    @classmethod
    def from_settings(cls, **overrides: Any) -> NexudusClient:
        """A client configured from ``settings.NEXUDUS_*``, limited by the Redis rate limiter."""
        from django.conf import settings

        from inbox.platform.locks import redis_client
        from inbox.nexudus.ratelimit import RedisRateLimiter

        options: dict[str, Any] = dict(
            base_url=settings.NEXUDUS_API_URL,
            username=settings.NEXUDUS_USERNAME,
            password=settings.NEXUDUS_PASSWORD,
            totp=getattr(settings, "NEXUDUS_TOTP", None),
            page_size=settings.NEXUDUS_PAGE_SIZE,
            connect_timeout=settings.NEXUDUS_CONNECT_TIMEOUT,
            read_timeout=settings.NEXUDUS_READ_TIMEOUT,
            max_attempts=settings.NEXUDUS_MAX_ATTEMPTS,
            backoff_base=settings.NEXUDUS_BACKOFF_BASE,
            backoff_max=settings.NEXUDUS_BACKOFF_MAX,
            max_retry_after=settings.NEXUDUS_MAX_RETRY_AFTER,
            max_throttle_wait=settings.NEXUDUS_MAX_THROTTLE_WAIT,
            ascending_dir=settings.NEXUDUS_SORT_ASCENDING_DIR,
            share_tokens=True,
        )
        options.update(overrides)
        if "rate_limiter" not in options:
            options["rate_limiter"] = RedisRateLimiter.from_settings()
        if "sort_memory" not in options:
            options["sort_memory"] = RedisSortMemory(redis_client())
        return cls(**options)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> NexudusClient:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # --- Public API: messages -----------------------------------------------------------

    def iter_message_pages(
        self,
        *,
        order_by: str = "Id",
        page_size: int | None = None,
        start_page: int = 1,
        is_new_message: bool | None = None,
        incoming: bool | None = None,
        email_account_id: int | None = None,
        coworker_id: int | None = None,
        created_from: datetime | date | None = None,
        created_to: datetime | date | None = None,
        updated_from: datetime | date | None = None,
        updated_to: datetime | date | None = None,
    ) -> Iterator[Page[CoworkerMessageRecord]]:
        """Pages of CoworkerMessages, lazily, one request each, following ``HasNextPage``."""
        params: dict[str, str] = {}
        _put(params, "CoworkerMessage_IsNewMessage", is_new_message, "bool")
        _put(params, "CoworkerMessage_Incoming", incoming, "bool")
        _put(params, "CoworkerMessage_EmailAccount", email_account_id, "int")
        _put(params, "CoworkerMessage_Coworker", coworker_id, "int")
        _put(params, "from_CoworkerMessage_CreatedOn", created_from, "from")
        _put(params, "to_CoworkerMessage_CreatedOn", created_to, "to")
        _put(params, "from_CoworkerMessage_UpdatedOn", updated_from, "from")
        _put(params, "to_CoworkerMessage_UpdatedOn", updated_to, "to")
        return self._iter_pages(
            MESSAGES_PATH, parse_message, params,
            order_by=order_by, page_size=page_size, start_page=start_page,
        )

    def get_message(self, id: int) -> CoworkerMessageRecord:
        """One CoworkerMessage by Id; :class:`NexudusNotFound` if it does not exist."""
        return self._get_one(MESSAGES_PATH, id, parse_message, "CoworkerMessage")

    def get_messages(self, ids: Iterable[int]) -> list[CoworkerMessageRecord]:
        """The CoworkerMessages that exist among ``ids`` (batch ``?id=[...]``, 100 per request)."""
        return self._get_batch(MESSAGES_PATH, ids, parse_message)

    # --- Public API: accounts and businesses --------------------------------------------

    def iter_account_pages(
        self,
        *,
        order_by: str = "Id",
        page_size: int | None = None,
        start_page: int = 1,
        active: bool | None = None,
        business_id: int | None = None,
        updated_from: datetime | date | None = None,
        updated_to: datetime | date | None = None,
    ) -> Iterator[Page[EmailAccountRecord]]:
        params: dict[str, str] = {}
        _put(params, "EmailAccount_Active", active, "bool")
        _put(params, "EmailAccount_Business", business_id, "int")
        _put(params, "from_EmailAccount_UpdatedOn", updated_from, "from")
        _put(params, "to_EmailAccount_UpdatedOn", updated_to, "to")
        return self._iter_pages(
            ACCOUNTS_PATH, parse_account, params,
            order_by=order_by, page_size=page_size, start_page=start_page,
        )

    def get_account(self, id: int) -> EmailAccountRecord:
        return self._get_one(ACCOUNTS_PATH, id, parse_account, "EmailAccount")

    def get_accounts(self, ids: Iterable[int]) -> list[EmailAccountRecord]:
        """Existing EmailAccounts among ``ids``. Batch records are partial (nexudus-api.md §2)."""
        return self._get_batch(ACCOUNTS_PATH, ids, parse_account)

    def iter_business_pages(
        self, *, order_by: str = "Id", page_size: int | None = None
    ) -> Iterator[Page[BusinessRecord]]:
        return self._iter_pages(BUSINESSES_PATH, parse_business, {}, order_by=order_by, page_size=page_size)

    # --- Paging -------------------------------------------------------------------------

    def _iter_pages(
        self,
        path: str,
        parse: Callable[[Mapping[str, Any]], T],
        filters: Mapping[str, str],
        *,
        order_by: str,
        page_size: int | None,
        start_page: int = 1,
    ) -> Iterator[Page[T]]:
        if not order_by or not isinstance(order_by, str):
            raise ValueError("order_by must name a field, e.g. 'Id' or 'UpdatedOn'.")
        size = page_size or self.page_size
        if size < 1 or start_page < 1:
            raise ValueError("page_size and start_page must be at least 1.")
        page_number = start_page
        previous_first_id: int | None = None
        asked_dirs: list[int] = []  # the dir values tried for the current page
        while True:
            direction = self._ascending_dir()
            params = {**filters, "page": str(page_number), "size": str(size),
                      "orderBy": order_by, "dir": str(direction)}
            envelope = self._get_json(path, params)
            page, verdict, evidence = self._read_page(
                path, envelope, parse, asked_page=page_number, asked_size=size,
                order_by=order_by, page_one=start_page,
            )
            asked_dirs.append(direction)
            if verdict == "descending":
                self._answered_descending(path, direction, evidence, asked_dirs, first_page=page_number == start_page)
                continue  # the same page again, with the other value: nothing was yielded from it
            if verdict == "ascending" and self.ascending_dir_override is None:
                self._learn_ascending_dir(direction, evidence)
            asked_dirs = []
            yield page
            if not page.has_next:
                return
            if not page.records and not page.skipped:
                raise NexudusError(
                    f"Nexudus said page {page.page} of {path} has a next page but sent no records; "
                    "stopping rather than looping forever.",
                    path=path,
                )
            first_id = page.records[0].id if page.records else None
            if first_id is not None and first_id == previous_first_id:
                raise NexudusError(
                    f"Nexudus sent the same page of {path} twice (page {page.page}); it seems to "
                    "ignore the page parameter. Stopping rather than looping forever.",
                    path=path,
                )
            previous_first_id = first_id
            # Page numbers count in the size the server granted (never assume the size asked).
            size = page.page_size
            page_number = page.page + 1

    # --- The dir convention --------------------------------------------------------------

    def _ascending_dir(self) -> int:
        if self.ascending_dir_override is not None:
            return self.ascending_dir_override
        self._remembered_dir = self.sort_memory.get(self.base_url)
        return FIRST_GUESS if self._remembered_dir is None else self._remembered_dir

    @property
    def ascending_dir(self) -> int:
        """The ``dir`` value this client sends for ascending order (override, learnt, or first guess)."""
        return self._ascending_dir()

    def _learn_ascending_dir(self, value: int, evidence: str) -> None:
        if self._remembered_dir == value:  # read from the memory for this very request
            return
        before = self.sort_memory.set(self.base_url, value)
        announce(self.base_url, value, before, evidence)

    def _answered_descending(
        self, path: str, direction: int, evidence: str, asked_dirs: list[int], *, first_page: bool
    ) -> None:
        """A page came back in descending order: switch to the other value (raising when that
        cannot help). Called before the page is yielded, so nothing is lost or applied twice."""
        if self.ascending_dir_override is not None:
            raise NexudusError(
                f"Nexudus sorted {path} in descending order although dir={direction} was sent to ask "
                f"for ascending ({evidence}). NEXUDUS_SORT_ASCENDING_DIR={direction} is set and this "
                "server reads dir the other way: unset it (the client then finds the right value itself).",
                path=path,
            )
        other = other_ascending_dir(direction)
        if other in asked_dirs:
            raise NexudusError(
                f"Nexudus sorted {path} in descending order for both dir=1 and dir=0 ({evidence}); "
                "the client cannot page reliably like that.",
                path=path,
            )
        if not first_page:
            # The server changed its reading of dir in the middle of a walk: the pages before were
            # ascending, so this walk cannot be trusted. Forget the convention; the next run finds it.
            if hasattr(self.sort_memory, "forget"):
                self.sort_memory.forget(self.base_url)
            raise NexudusError(
                f"Nexudus started sorting {path} in descending order in the middle of a walk "
                f"(dir={direction}, {evidence}); the client will find out the convention again on the "
                "next run.",
                path=path,
            )
        before = self.sort_memory.set(self.base_url, other)
        announce(self.base_url, other, before, f"a page sorted descending with dir={direction} ({evidence})")

    def _read_page(
        self,
        path: str,
        envelope: Any,
        parse: Callable[[Mapping[str, Any]], T],
        *,
        asked_page: int,
        asked_size: int,
        order_by: str,
        page_one: int = 1,
    ) -> tuple[Page[T], str | None, str]:
        """The page, and the order it came in: ``"ascending"``, ``"descending"`` or None (cannot
        tell), with the evidence in words."""
        if isinstance(envelope, list):  # tolerate a bare array: one page holding everything sent
            envelope = {"Records": envelope, "HasNextPage": False}
        if not isinstance(envelope, Mapping):
            raise NexudusError(
                f"Nexudus answered {path} with {type(envelope).__name__} instead of a list page.",
                path=path,
            )
        raw_records = envelope.get("Records")
        if raw_records is None:
            raw_records = []
        if not isinstance(raw_records, list):
            raise NexudusError(f"Nexudus answered {path} with Records that are not a list.", path=path)
        records, skipped = _parse_all(raw_records, parse, path)
        verdict, evidence = self._sort_verdict(path, envelope, records, order_by)

        current_page = parse_int(envelope.get("CurrentPage")) or parse_int(envelope.get("PageNumber"))
        current_page = current_page if current_page and current_page > 0 else asked_page
        if current_page != asked_page:
            raise NexudusError(
                f"Nexudus answered page {current_page} of {path} when page {asked_page} was asked for; "
                "the client cannot page reliably like that.",
                path=path,
            )
        granted = parse_int(envelope.get("CurrentPageSize")) or parse_int(envelope.get("PageSize"))
        if not granted or granted < 1:
            granted = asked_size  # not said: assume granted, and a short page is the last one
        if granted != asked_size and asked_page == page_one:
            logger.info("Nexudus granted pages of %d on %s (asked for %d).", granted, path, asked_size)
        total_items = parse_int(envelope.get("TotalItems"))
        total_pages = parse_int(envelope.get("TotalPages"))
        has_next = envelope.get("HasNextPage")
        if isinstance(has_next, bool):
            pass
        elif has_next is not None and isinstance(has_next, (str, int)):
            has_next = str(has_next).strip().lower() in {"true", "1"}
        elif total_pages is not None:
            has_next = current_page < total_pages
        elif total_items is not None:
            has_next = current_page * granted < total_items
        else:
            has_next = len(raw_records) >= granted > 0
        page = Page(
            records=records,
            page=current_page,
            page_size=granted,
            total_items=total_items,
            total_pages=total_pages,
            has_next=has_next,
            skipped=skipped,
        )
        return page, verdict, evidence

    def _sort_verdict(
        self, path: str, envelope: Mapping[str, Any], records: list[Any], order_by: str
    ) -> tuple[str | None, str]:
        echoed_field = envelope.get("CurrentOrderField")
        if isinstance(echoed_field, str) and echoed_field.strip():
            if echoed_field.strip().casefold() != order_by.casefold():
                raise NexudusError(
                    f"Nexudus sorted {path} by {echoed_field!r} although orderBy={order_by!r} was sent; "
                    "the client cannot page reliably like that.",
                    path=path,
                )
        # The records' own order, when the field is one the client parses, is the surest sign.
        key = _SORTED_FIELDS.get(order_by.casefold())
        if key is not None:
            values = [v for v in (key(record) for record in records) if v is not None]
            pairs = list(zip(values, values[1:]))
            if any(b < a for a, b in pairs) and all(b <= a for a, b in pairs):
                return "descending", f"its records came newest/highest {order_by} first"
            if any(b > a for a, b in pairs) and all(b >= a for a, b in pairs):
                return "ascending", f"its records came in ascending {order_by} order"
        # Then the echo: a word or a negative number says it; 0 and 1 mean either, by generation.
        echoed_dir = envelope.get("CurrentSortDirection")
        if _is_descending(echoed_dir):
            return "descending", f"it echoed CurrentSortDirection={echoed_dir!r}"
        if _is_ascending_word(echoed_dir):
            return "ascending", f"it echoed CurrentSortDirection={echoed_dir!r}"
        return None, ""

    # --- Get one, batch -----------------------------------------------------------------

    def _get_one(self, path: str, record_id: int, parse: Callable[[Mapping[str, Any]], T], what: str) -> T:
        record_id = _as_id(record_id)
        data = self._get_json(f"{path}/{record_id}", None, what=f"{what} {record_id}")
        if data is None:
            raise NexudusNotFound(f"Nexudus has no {what} with Id {record_id}.", status=200, path=path)
        try:
            return parse(data)
        except RecordError as exc:
            raise NexudusError(f"{exc} (asked for {what} {record_id})", path=path) from None

    def _get_batch(self, path: str, ids: Iterable[int], parse: Callable[[Mapping[str, Any]], T]) -> list[T]:
        unique = list(dict.fromkeys(_as_id(i) for i in ids))
        found: list[T] = []
        for start in range(0, len(unique), BATCH_SIZE):
            chunk = unique[start:start + BATCH_SIZE]
            # Documented form: ?id=[1,2,3]; requests percent-encodes the brackets and commas.
            data = self._get_json(f"{path}/", {"id": "[" + ",".join(map(str, chunk)) + "]"})
            if isinstance(data, Mapping):  # tolerate an envelope where a bare array is documented
                data = data.get("Records") or []
            if not isinstance(data, list):
                raise NexudusError(f"Nexudus answered the batch {path} with something not a list.", path=path)
            records, _ = _parse_all(data, parse, path)
            wanted = set(chunk)
            found.extend(record for record in records if record.id in wanted)
        return found

    # --- Requests with authentication ---------------------------------------------------

    def _get_json(self, path: str, params: Mapping[str, str] | None, *, what: str | None = None) -> Any:
        """GET ``path`` with the bearer token; one token renewal on a 401; JSON back."""
        renewed = False
        while True:
            token = self._valid_token()
            response, data = self._request("GET", path, params=params, auth=_BearerAuth(token.access_token))
            status = response.status_code
            if status == 200:
                return data
            if status == 401:
                if not renewed:
                    renewed = True
                    logger.info("Nexudus answered 401 on %s; renewing the token once.", path)
                    self._renew_after_401(token)
                    continue
                raise NexudusAuthError(
                    f"Nexudus refused the API user {self.username} on GET {path} even with a fresh "
                    f"token (HTTP 401). Nexudus also answers 401 when a role is missing: the user needs "
                    f"{REQUIRED_ROLES}.",
                    kind="unauthorized", status=401, path=path,
                )
            if status == 403:
                raise NexudusAuthError(
                    f"Nexudus forbids the API user {self.username} to GET {path} (HTTP 403): give it the "
                    f"roles {REQUIRED_ROLES}, or make it a full administrator.",
                    kind="forbidden", status=403, path=path,
                )
            if status == 404:
                if what:
                    raise NexudusNotFound(f"Nexudus has no {what} (HTTP 404).", status=404, path=path)
                raise NexudusError(
                    f"Nexudus answered 404 for {path}: check NEXUDUS_API_URL ({self.base_url}).",
                    status=404, path=path,
                )
            hint = f" (a redirect: check NEXUDUS_API_URL, now {self.base_url})" if 300 <= status < 400 else ""
            raise NexudusError(
                f"Nexudus refused GET {path} with HTTP {status}{hint}{self._server_says(response)}.",
                status=status, path=path,
            )

    def _valid_token(self) -> _Token:
        with self._tokens.lock:
            token = self._tokens.tokens.get(self._token_key)
            if token is not None and not self._expires_soon(token):
                return token
            if token is not None and token.refresh_token:
                try:
                    return self._refresh(token)
                except NexudusUnavailable:
                    raise
                except NexudusError as exc:
                    logger.info("Refreshing the Nexudus token failed (%s); signing in again.", exc)
            return self._login()

    def _expires_soon(self, token: _Token) -> bool:
        return token.expires_at is not None and self.clock() >= token.expires_at

    def _renew_after_401(self, rejected: _Token) -> None:
        with self._tokens.lock:
            current = self._tokens.tokens.get(self._token_key)
            if current is not None and current is not rejected:
                return  # another client in this process already renewed it
            self._tokens.tokens.pop(self._token_key, None)
            if rejected.refresh_token:
                try:
                    self._refresh(rejected)
                    return
                except NexudusUnavailable:
                    raise
                except NexudusError as exc:
                    logger.info("Refreshing the Nexudus token failed (%s); signing in again.", exc)
            self._login()

    def _login(self) -> _Token:
        form = {"grant_type": "password", "username": self.username, "password": self._password}
        if self._totp:
            form["totp"] = self._totp if self._totp.isdigit() else totp_code(self._totp)
        return self._token_request(form, headers=None, refreshing=False)

    def _refresh(self, token: _Token) -> _Token:
        form = {"grant_type": "refresh_token", "refresh_token": token.refresh_token or ""}
        return self._token_request(form, headers={"client_id": self.client_id}, refreshing=True)

    def _token_request(self, form: dict[str, str], *, headers: dict[str, str] | None, refreshing: bool) -> _Token:
        purpose = "refresh the token" if refreshing else "sign in"
        response, data = self._request("POST", TOKEN_PATH, data=form, headers=headers)
        status = response.status_code
        if status == 200:
            access = data.get("access_token") if isinstance(data, Mapping) else None
            if not isinstance(access, str) or not access:
                raise NexudusError(
                    f"Nexudus answered the request to {purpose} without an access token.",
                    status=status, path=TOKEN_PATH,
                )
            expires_in = parse_int(data.get("expires_in"))
            refresh = data.get("refresh_token")
            token = _Token(
                access_token=access,
                refresh_token=refresh if isinstance(refresh, str) and refresh else None,
                expires_at=self._expiry(expires_in),
            )
            self._tokens.tokens[self._token_key] = token
            return token
        raise self._token_error(response, refreshing=refreshing)

    def _expiry(self, expires_in: int | None) -> float | None:
        if expires_in is None or expires_in <= 0:
            return None
        # Renew a little early: a tenth of the lifetime, at most five minutes.
        return self.clock() + expires_in - min(300.0, expires_in * 0.1)

    def _token_error(self, response: requests.Response, *, refreshing: bool) -> NexudusError:
        purpose = "refresh the token" if refreshing else "sign in"
        status = response.status_code
        body = _loads_or_none(response.content)
        error = body.get("error") if isinstance(body, Mapping) else None
        error = error.strip().lower() if isinstance(error, str) else ""
        says = self._server_says(response)
        if "two_factor" in error:
            return NexudusAuthError(
                f"Nexudus requires a two-factor code for {self.username}. Use a dedicated API user "
                f"without two-factor authentication, or set NEXUDUS_TOTP to the user's TOTP secret "
                f"(base32, from the authenticator set-up){says}.",
                kind="two_factor_required", status=status, path=TOKEN_PATH,
            )
        if error == "must_reset_password":
            return NexudusAuthError(
                f"Nexudus requires the user {self.username} to reset its password before the API can "
                f"sign in: sign in once at Nexudus, choose a new password, and update NEXUDUS_PASSWORD{says}.",
                kind="must_reset_password", status=status, path=TOKEN_PATH,
            )
        if error == "invalid_grant" or status == 401:
            if refreshing:
                message = f"Nexudus refused to refresh the token for {self.username}{says}."
            else:
                message = (
                    f"Nexudus refused to sign in as {self.username}: check NEXUDUS_USERNAME and "
                    f"NEXUDUS_PASSWORD (the user may also be suspended){says}."
                )
            return NexudusAuthError(message, kind="invalid_credentials", status=status, path=TOKEN_PATH)
        if status == 403:
            return NexudusAuthError(
                f"Nexudus forbids the user {self.username} to use the API (HTTP 403): give it the roles "
                f"{REQUIRED_ROLES}{says}.",
                kind="forbidden", status=status, path=TOKEN_PATH,
            )
        return NexudusError(
            f"Nexudus refused to {purpose} with HTTP {status}{' (' + error + ')' if error else ''}{says}.",
            status=status, path=TOKEN_PATH,
        )

    def _server_says(self, response: requests.Response) -> str:
        """``; Nexudus says: ...`` from an error body, scrubbed of secrets, or an empty string."""
        body = _loads_or_none(response.content)
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

    def _scrub(self, text: str) -> str:
        secrets = [self._password, self._totp]
        token = self._tokens.tokens.get(self._token_key)
        if token is not None:
            secrets += [token.access_token, token.refresh_token]
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    # --- One HTTP exchange, with retries ------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: requests.auth.AuthBase | None = None,
        json_expected: bool = True,
    ) -> tuple[requests.Response, Any]:
        """Send until a definite answer: retries throttling, 5xx, network faults and bad JSON.

        Returns the response and, for a 200 when ``json_expected``, its parsed JSON. Any other
        status that is not worth retrying is returned for the caller to interpret.

        A 409/429 with ``Retry-After`` is Nexudus pacing us, not failing: its wait is shared with
        every worker (the limiter's cool-down) and does not count as an attempt; the request
        gives up once such waits reach ``max_throttle_wait`` seconds in all.
        """
        url = self.base_url + path
        attempt = 0  # failed attempts: throttled answers with Retry-After are not counted
        sent = throttled = 0
        throttled_wait = 0.0
        while True:
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            self.requests_made += 1
            sent += 1
            retry_after: float | None = None
            try:
                response = self.session.request(
                    method, url, params=params, data=data, headers=headers, auth=auth,
                    timeout=self.timeout, allow_redirects=False,
                )
                status = response.status_code
                body = response.content  # read fully: a cut connection raises here, not later
            except requests.exceptions.ConnectTimeout:
                failure = "the connection timed out"
            except requests.exceptions.ReadTimeout:
                failure = "the answer timed out"
            except requests.exceptions.SSLError as exc:
                failure = f"TLS failed ({type(exc).__name__})"
            except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:
                failure = f"the connection failed ({type(exc).__name__})"
            else:
                if status in (409, 429):
                    failure = f"HTTP {status} (throttled)"
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                elif status >= 500:
                    failure = f"HTTP {status}"
                elif status == 200 and json_expected:
                    parsed = _loads_or_missing(body)
                    if parsed is not _MISSING:
                        return response, parsed
                    failure = "a truncated or invalid JSON body"
                else:
                    return response, None
            if retry_after is not None:
                delay = self._delay(attempt, retry_after)
                self._cool_down(delay)
                if throttled_wait + max(delay, 1.0) > self.max_throttle_wait:
                    raise NexudusUnavailable(
                        f"Nexudus kept throttling {method} {path} ({failure}): {throttled_wait:.0f} s of "
                        f"waiting as it asked, over {sent} requests, and it still asked for more "
                        f"(the limit is {self.max_throttle_wait:.0f} s, NEXUDUS_MAX_THROTTLE_WAIT). "
                        "Nexudus may be overloaded, or other clients of this account use its budget; "
                        "the next sync will try again.",
                        attempts=sent, last_failure=failure, path=path,
                    )
                throttled += 1
                throttled_wait += max(delay, 1.0)  # a "Retry-After: 0" storm still ends
                logger.info("Nexudus %s %s: %s; waiting %.2f s as it asks.", method, path, failure, delay)
                self.sleep(delay)
                continue
            attempt += 1
            if attempt >= self.max_attempts:
                besides = f" (and {throttled} throttled)" if throttled else ""
                raise NexudusUnavailable(
                    f"Nexudus did not answer {method} {path} properly after {attempt} attempts{besides}; "
                    f"the last failure was {failure}. Nexudus may be down or overloaded; the next "
                    "sync will try again.",
                    attempts=sent, last_failure=failure, path=path,
                )
            delay = self._delay(attempt, retry_after)
            if failure.endswith("(throttled)"):
                self._cool_down(delay)
            logger.warning(
                "Nexudus %s %s: %s (attempt %d of %d); retrying in %.2f s.",
                method, path, failure, attempt, self.max_attempts, delay,
            )
            self.sleep(delay)

    def _cool_down(self, seconds: float) -> None:
        """Tell every worker sharing the rate limiter to hold back too (if the limiter can)."""
        cool_down = getattr(self.rate_limiter, "cool_down", None)
        if cool_down is not None and seconds > 0:
            cool_down(seconds)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        # Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter").
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return random.uniform(0, ceiling)


# --- Helpers --------------------------------------------------------------------------------

_MISSING = object()


def _loads_or_missing(body: bytes) -> Any:
    if not body:
        return _MISSING
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _MISSING


def _loads_or_none(body: bytes) -> Any:
    parsed = _loads_or_missing(body)
    return None if parsed is _MISSING else parsed


def _is_descending(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value < 0
    if isinstance(value, str):
        text = value.strip().casefold()
        return text in {"desc", "descending", "-1"}
    return False


def _is_ascending_word(value: Any) -> bool:
    return isinstance(value, str) and value.strip().casefold() in {"asc", "ascending"}


def _as_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        parsed = parse_int(value) if isinstance(value, str) else None
        if parsed is None:
            raise ValueError(f"A Nexudus Id is a whole number, not {value!r}.")
        return parsed
    return value


def _parse_all(raw_records: Sequence[Any], parse: Callable[[Mapping[str, Any]], T], path: str) -> tuple[list[T], int]:
    records: list[T] = []
    skipped = 0
    for raw in raw_records:
        try:
            records.append(parse(raw))
        except RecordError as exc:
            skipped += 1
            logger.warning("Skipped an entry of %s: %s", path, exc)
    return records, skipped


__all__ = [
    "BATCH_SIZE",
    "NexudusAuthError",
    "NexudusClient",
    "NexudusError",
    "NexudusNotFound",
    "NexudusUnavailable",
    "clear_shared_tokens",
    "format_filter_datetime",
    "parse_datetime",
    "parse_retry_after",
    "totp_code",
]
