"""Hostile query parameters: the sandbox answers 400 with a JSON ``Message`` naming the parameter,
or serves the request; never a 500, on SQLite as on PostgreSQL.

Every filter of every resource is tried with far dates (with and without offsets), numbers past
32 and 64 bits, NUL characters, very long strings, percent-escapes that are not UTF-8 and stray
brackets; then Hypothesis mixes parameters and values at random.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from sandbox.resources.accounts import ACCOUNTS
from sandbox.resources.businesses import BUSINESSES
from sandbox.resources.messages import MESSAGES

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

RESOURCES = [(MESSAGES, "spaces/coworkermessages"), (ACCOUNTS, "crm/emailaccounts"), (BUSINESSES, "sys/businesses")]
IDS = ["messages", "accounts", "businesses"]
PAGING = ["page", "size", "dir", "orderBy"]


def raw(escaped: str) -> tuple[str, str]:
    """A value sent exactly as written in the query string (already percent-encoded)."""
    return ("raw", escaped)


HOSTILE = [
    # Far dates, with and without offsets (a zone can push them past year 1 or 9999 in UTC).
    "9999-12-31T23:59", "9999-12-31T23:59-05:00", "9999-12-31T23:59+05:00", "9999-12-31T23:59:59.999999-00:01",
    "0001-01-01T00:00", "0001-01-01T00:00+05:00", "0001-01-01T00:00-05:00", "0000-01-01T00:00",
    "2025-02-30T10:00", "2025-01-01T24:00", "2025-01-01T10:00+24:00", "2025-01-01T10:00+23:59",
    # Numbers: past 32 and 64 bits, negative, thousands of digits, not quite numbers.
    "99999999999999999999999", str(2**31), str(-(2**31) - 1), str(2**63), str(-(2**63) - 1), str(2**63 - 1),
    "9" * 5000, "-1", "-99999999999999999999", "0", "+5", "1e3", "0x10", "1_000", "١٢٣", "NaN", "Infinity",
    # NUL characters, very long strings.
    "\x00", "1\x00", "2025-01-01T00:00\x00", "a" * 10_000, "2025-01-01T00:00" * 500,
    # Brackets, the batch syntax's.
    "[", "]", "[]", "[1,", "[,]", "[99999999999999999999999]", "[1,-3]", "[[1]]", "[1,\x00]",
    # Odds and ends.
    "", " ", "true", "null", "' OR 1=1 --", "%", "\\",
    # Percent-escapes that are not UTF-8 (Django decodes them to U+FFFD), and a bare "+" (a space).
    raw("%FF"), raw("%C0%AF"), raw("%ED%A0%80"), raw("1%FF"), raw("%5B1%2C%FF%5D"), raw("+"),
    raw("2025-01-01T00:00+05:00"),
]


def encoded(value) -> str:
    if isinstance(value, tuple):
        return value[1]
    return quote(value, safe="")


def get(client, token: str, path: str, query: str):
    return client.get(f"/sandbox/api/{path}?{query}", HTTP_AUTHORIZATION=f"Bearer {token}")


def problem(response, names: list[str]) -> str | None:
    """What is wrong with this answer, if anything: a 500, another status, a 400 that names none."""
    if response.status_code == 200:
        return None
    if response.status_code != 400:
        return f"status {response.status_code}"
    try:
        message = response.json()["Message"]
    except (ValueError, KeyError, TypeError):
        return f"400 without a JSON Message: {response.content[:80]!r}"
    if not any(name.lower() in message.lower() for name in names):
        return f"400 names none of {names}: {message!r}"
    return None


@pytest.fixture
def small_sandbox(db):
    from sandbox import services

    services.seed(accounts=4, customers=5, messages=30, seed=3)


@pytest.mark.parametrize("resource,path", RESOURCES, ids=IDS)
def test_every_parameter_with_every_hostile_value(client, api_token, small_sandbox, resource, path):
    """Each filter and paging parameter alone, with each hostile value: 200 or a 400 naming it."""
    failures = []
    for name in [*resource.filters, *PAGING]:
        for value in HOSTILE:
            response = get(client, api_token, path, f"{quote(name)}={encoded(value)}")
            trouble = problem(response, [name])
            if trouble:
                failures.append(f"{name}={encoded(value)[:40]}: {trouble}")
    assert not failures, "\n".join(failures)


# What must be refused (each value for each filter of that kind) and what must be served.
REFUSED = {
    "int": ["99999999999999999999999", str(2**63), "9" * 5000, "1\x00", "]", "1e3", "abc", raw("%FF")],
    "bool": ["2", "yes please", "\x00", "[", raw("%FF")],
    "minute": ["0001-01-01T00:00+05:00", "9999-12-31T23:59-05:00", "2025-02-30T10:00", "\x00", "[", raw("%FF"),
               "2025-01-01T00:00" * 500],
    "str": ["\x00", "a\x00b"],
}
SERVED = {
    "int": ["-1", "0", "+5"],
    "bool": ["true", "0"],
    "minute": ["9999-12-31T23:59", "0001-01-01T00:00", "0001-01-01T00:00-05:00", "9999-12-31T23:59+05:00"],
    "str": ["a" * 10_000, raw("%FF"), "[", "]", "' OR 1=1 --"],
}


@pytest.mark.parametrize("resource,path", RESOURCES, ids=IDS)
def test_what_is_refused_and_what_is_served(client, api_token, small_sandbox, resource, path):
    failures = []
    for name, spec in resource.filters.items():
        for value in REFUSED[spec.kind]:
            response = get(client, api_token, path, f"{name}={encoded(value)}")
            if response.status_code != 400 or problem(response, [name]):
                failures.append(f"{name}={encoded(value)[:40]} should be a 400 naming it: {response.status_code}")
        for value in SERVED[spec.kind]:
            response = get(client, api_token, path, f"{name}={encoded(value)}")
            if response.status_code != 200:
                failures.append(f"{name}={encoded(value)[:40]} should be served: {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "query,name",
    [
        ("to_CoworkerMessage_CreatedOn=9999-12-31T23:59", None),  # a far future is still a date: served
        ("from_CoworkerMessage_UpdatedOn=0001-01-01T00%3A00%2B05%3A00", "from_CoworkerMessage_UpdatedOn"),
        ("id=%5B99999999999999999999999%5D", "id"),
        ("id=99999999999999999999999", "id"),
        ("CoworkerMessage_Coworker=9223372036854775808", "CoworkerMessage_Coworker"),
        ("CoworkerMessage_MessageId=2147483648", "CoworkerMessage_MessageId"),
        ("page=99999999999999999999999", "page"),
    ],
)
def test_reported_cases(client, api_token, small_sandbox, query, name):
    response = get(client, api_token, "spaces/coworkermessages", query)
    if name is None:
        assert response.status_code == 200
        assert response.json()["TotalItems"] == 30
    else:
        assert response.status_code == 400
        assert name in response.json()["Message"]


@pytest.mark.parametrize("resource,path", RESOURCES, ids=IDS)
@pytest.mark.parametrize(
    "ident,status",
    [("0", 404), ("1", 404), (str(2**63 - 1), 404), (str(2**63), 400), ("99999999999999999999999", 400),
     ("9" * 5000, 400)],
)
def test_get_one_with_huge_ids(client, api_token, small_sandbox, resource, path, ident, status):
    response = client.get(f"/sandbox/api/{path}/{ident}", HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert response.status_code == status
    message = response.json()["Message"]
    assert ("Id" in message) if status == 400 else message
    assert len(message) < 200  # a 5,000-digit Id is not echoed whole


# --- Hypothesis: parameters and values mixed at random -----------------------------------------

values = st.one_of(
    st.sampled_from(HOSTILE).map(encoded),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60).map(lambda v: quote(v, safe="")),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.datetimes().map(lambda d: quote(d.strftime("%Y-%m-%dT%H:%M"), safe="")),
    st.tuples(st.datetimes(), st.integers(-23 * 60 - 59, 23 * 60 + 59)).map(
        lambda t: quote(f"{t[0]:%Y-%m-%dT%H:%M}{'+' if t[1] >= 0 else '-'}{abs(t[1]) // 60:02d}:{abs(t[1]) % 60:02d}", safe="")
    ),
    st.binary(max_size=8).map(lambda b: "".join(f"%{x:02X}" for x in b)),
    st.lists(st.integers(min_value=-(2**70), max_value=2**70), max_size=4).map(
        lambda ids: quote(f"[{','.join(map(str, ids))}]", safe="")
    ),
)
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("resource,path", RESOURCES, ids=IDS)
@FUZZ
@given(data=st.data())
def test_random_queries_never_fail(client, api_token, small_sandbox, resource, path, data):
    names = st.sampled_from([*resource.filters, *PAGING]).flatmap(
        lambda name: st.sampled_from([name, name.upper(), name.swapcase()])
    )
    params = data.draw(st.lists(st.tuples(names, values), min_size=1, max_size=4))
    response = get(client, api_token, path, "&".join(f"{quote(n)}={v}" for n, v in params))
    trouble = problem(response, [n for n, _ in params])
    assert trouble is None, (params, trouble)
