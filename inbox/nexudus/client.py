"""The Nexudus client: the only code in this project that speaks HTTP to Nexudus.

It gives back plain records (:mod:`inbox.nexudus.records`), never ORM objects, and is built from
parts that each have one job: :mod:`~inbox.nexudus.transport` (the session, retries, throttling,
the server's clock), :mod:`~inbox.nexudus.auth` (tokens, TOTP), :mod:`~inbox.nexudus.paging` (the
envelope and the walk) with :mod:`~inbox.nexudus.sort` (the ``dir`` convention), and
:mod:`~inbox.nexudus.errors` (what a person is told). It reads the three resources the dashboard
mirrors: CoworkerMessages, EmailAccounts and Businesses
(https://developers.nexudus.com/rest-api/spaces/get-coworkermessages,
https://developers.nexudus.com/rest-api/crm/get-emailaccounts,
https://developers.nexudus.com/rest-api/sys/get-businesses).

Nothing here reads Django settings: :mod:`inbox.nexudus.configured` builds a client from them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

import requests

from inbox.nexudus import errors
from inbox.nexudus.auth import Authenticator, BearerAuth
from inbox.nexudus.errors import NexudusError, NexudusNotFound
from inbox.nexudus.filters import put_filter
from inbox.nexudus.paging import Page, parse_all, walk_pages
from inbox.nexudus.records import (
    BusinessRecord,
    CoworkerMessageRecord,
    EmailAccountRecord,
    RecordError,
    parse_account,
    parse_business,
    parse_message,
)
from inbox.nexudus.sort import DirConvention, SortMemory
from inbox.nexudus.transport import RateLimiter, RetryPolicy, ServerDateWatch, Transport
from inbox.nexudus.values import parse_int

logger = logging.getLogger(__name__)

T = TypeVar("T")

MESSAGES_PATH = "/api/spaces/coworkermessages"
ACCOUNTS_PATH = "/api/crm/emailaccounts"
BUSINESSES_PATH = "/api/sys/businesses"

#: Ids per batch request (``?id=[...]``): keeps URLs well under common 8 KB limits.
BATCH_SIZE = 100


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
        if page_size < 1:
            raise ValueError("The page size must be at least 1.")
        retry = RetryPolicy(max_attempts=max_attempts, backoff_base=backoff_base, backoff_max=backoff_max,
                            max_retry_after=max_retry_after, max_throttle_wait=max_throttle_wait)
        self.transport = Transport(base_url=base_url, session=session, timeout=(connect_timeout, read_timeout),
                                   retry=retry, rate_limiter=rate_limiter, sleep=sleep)
        self.base_url = self.transport.base_url
        self.auth = Authenticator(self.transport, username=username, password=password, totp=totp,
                                  client_id=client_id, clock=clock, share_tokens=share_tokens)
        self.username = username
        self.page_size = page_size
        # ascending_dir None: found out from the server's answers and kept in sort_memory.
        self.dir_convention = DirConvention(self.base_url, override=ascending_dir, memory=sort_memory)

    def __repr__(self) -> str:
        return f"NexudusClient(base_url={self.base_url!r}, username={self.username!r})"

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> NexudusClient:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def requests_made(self) -> int:
        """HTTP requests sent so far, retries and token requests included."""
        return self.transport.requests_made

    @property
    def ascending_dir(self) -> int:
        """The ``dir`` value this client sends for ascending order (override, learnt, or first guess)."""
        return self.dir_convention.ascending_dir()

    @property
    def server_date(self) -> datetime | None:
        """The server's clock at its last answer (its HTTP ``Date``); None before any answer."""
        return self.transport.server_date

    def watch_server_date(self) -> ServerDateWatch:
        """From now on, remember the server's clock at its first answer (``watch.at``; close it after)."""
        return self.transport.watch_server_date()

    # --- Messages ---------------------------------------------------------------------------

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
        put_filter(params, "CoworkerMessage_IsNewMessage", is_new_message, "bool")
        put_filter(params, "CoworkerMessage_Incoming", incoming, "bool")
        put_filter(params, "CoworkerMessage_EmailAccount", email_account_id, "int")
        put_filter(params, "CoworkerMessage_Coworker", coworker_id, "int")
        put_filter(params, "from_CoworkerMessage_CreatedOn", created_from, "from")
        put_filter(params, "to_CoworkerMessage_CreatedOn", created_to, "to")
        put_filter(params, "from_CoworkerMessage_UpdatedOn", updated_from, "from")
        put_filter(params, "to_CoworkerMessage_UpdatedOn", updated_to, "to")
        return self._walk(MESSAGES_PATH, parse_message, params, order_by, page_size, start_page)

    def get_message(self, id: int) -> CoworkerMessageRecord:
        """One CoworkerMessage by Id; :class:`NexudusNotFound` if it does not exist."""
        return self._get_one(MESSAGES_PATH, id, parse_message, "CoworkerMessage")

    def get_messages(self, ids: Iterable[int]) -> list[CoworkerMessageRecord]:
        """The CoworkerMessages that exist among ``ids`` (batch ``?id=[...]``, 100 per request)."""
        return self._get_batch(MESSAGES_PATH, ids, parse_message)

    # --- Accounts and businesses ----------------------------------------------------------

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
        put_filter(params, "EmailAccount_Active", active, "bool")
        put_filter(params, "EmailAccount_Business", business_id, "int")
        put_filter(params, "from_EmailAccount_UpdatedOn", updated_from, "from")
        put_filter(params, "to_EmailAccount_UpdatedOn", updated_to, "to")
        return self._walk(ACCOUNTS_PATH, parse_account, params, order_by, page_size, start_page)

    def get_account(self, id: int) -> EmailAccountRecord:
        return self._get_one(ACCOUNTS_PATH, id, parse_account, "EmailAccount")

    def get_accounts(self, ids: Iterable[int]) -> list[EmailAccountRecord]:
        """Existing EmailAccounts among ``ids``. Batch records are partial, as documented
        (https://learn.nexudus.com/rest-api/crm/get-emailaccounts-batch)."""
        return self._get_batch(ACCOUNTS_PATH, ids, parse_account)

    def iter_business_pages(
        self, *, order_by: str = "Id", page_size: int | None = None
    ) -> Iterator[Page[BusinessRecord]]:
        return self._walk(BUSINESSES_PATH, parse_business, {}, order_by, page_size, 1)

    # --- Reading ----------------------------------------------------------------------------

    def _walk(self, path: str, parse: Callable[[Mapping[str, Any]], T], filters: Mapping[str, str],
              order_by: str, page_size: int | None, start_page: int) -> Iterator[Page[T]]:
        return walk_pages(self._get_json, path, parse, filters, dirs=self.dir_convention, order_by=order_by,
                          size=page_size or self.page_size, start_page=start_page)

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
            records, _ = parse_all(data, parse, path)
            wanted = set(chunk)
            found.extend(record for record in records if record.id in wanted)
        return found

    def _get_json(self, path: str, params: Mapping[str, str] | None, *, what: str | None = None) -> Any:
        """GET ``path`` with the bearer token; one token renewal on a 401; JSON back."""
        renewed = False
        while True:
            token = self.auth.token()
            response, data = self.transport.request("GET", path, params=params, auth=BearerAuth(token.access_token))
            status = response.status_code
            if status == 200:
                return data
            if status == 401 and not renewed:
                renewed = True
                logger.info("Nexudus answered 401 on %s; renewing the token once.", path)
                self.auth.renew_after_401(token)
                continue
            raise errors.get_refused(
                status=status, path=path, username=self.username, base_url=self.base_url, what=what,
                says=self.auth.server_says(response),
            )


def _as_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        parsed = parse_int(value) if isinstance(value, str) else None
        if parsed is None:
            raise ValueError(f"A Nexudus Id is a whole number, not {value!r}.")
        return parsed
    return value
