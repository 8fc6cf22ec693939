"""Property-based: whatever the query string, the inbox answers (200), never a server error."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from hypothesis import HealthCheck, given, settings, strategies as st


NAMES = ["unread", "direction", "account", "customer", "q", "since", "until", "after", "newest", "x"]
values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["1", "0", "none", "incoming", "outgoing", "2025-02-30", "9999-12-31", "0001-01-01",
                     "-1", "18446744073709551616", "NaN", "\x00", "' OR 1=1 --", '"*', "NEAR(", "%", "\\"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
queries = st.lists(st.tuples(st.sampled_from(NAMES), values), max_size=6)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(params=queries)
def test_inbox_never_fails(staff_client, inbox_data, params):
    for headers in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}):
        response = staff_client.get("/?" + urlencode(params), **headers)
        assert response.status_code == 200


@FUZZ
@given(params=queries)
def test_counts_and_live_never_fail(staff_client, inbox_data, params):
    for url in ("/inbox/counts/", "/inbox/live/"):
        response = staff_client.get(url + "?" + urlencode(params), HTTP_HX_REQUEST="true")
        assert response.status_code == 200


@FUZZ
@given(raw=st.text(max_size=30))
def test_raw_query_strings_never_fail(staff_client, inbox_data, raw):
    # A WSGI server hands the raw bytes over as latin-1 (PEP 3333).
    response = staff_client.get("/", QUERY_STRING=raw.encode("utf-8").decode("latin-1"))
    assert response.status_code == 200


def _route(name: str, value: str) -> str | None:
    try:
        return reverse(name, args=[value])
    except NoReverseMatch:
        return None


@FUZZ
@given(ident=st.one_of(st.integers(min_value=0, max_value=2**70), st.text(max_size=12)), params=queries)
def test_message_and_customer_pages_never_fail(staff_client, inbox_data, ident, params):
    """The message area's pages, fuzzed from here too (their own tests go deeper)."""
    for name in ("message-detail", "customer-detail"):
        url = _route(name, str(ident))
        if url is None:  # not a number: the URL does not even match
            url = f"/{'messages' if name == 'message-detail' else 'customers'}/{ident}/"
        response = staff_client.get(url + "?" + urlencode(params))
        assert response.status_code in (200, 301, 302, 404), (url, response.status_code)
