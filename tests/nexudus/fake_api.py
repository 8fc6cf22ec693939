"""A Nexudus faked at the HTTP level (``responses``): the names, answers and helpers the client's tests share.

The fixtures (``rsps``, ``sleeps``, ``clock``, ``make_client``) are in ``conftest.py`` beside this file.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

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


class CoolingLimiter(CountingLimiter):
    def __init__(self) -> None:
        super().__init__()
        self.cool_downs: list[float] = []

    def cool_down(self, seconds: float) -> None:
        self.cool_downs.append(seconds)


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


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


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
