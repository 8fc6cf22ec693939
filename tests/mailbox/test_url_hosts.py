"""``inbox.mailbox.url_hosts``: the host of a URL as the WHATWG URL standard (and so a browser) reads it."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inbox.mailbox.url_hosts import host_patterns, is_local, matches_any, url_host

V4 = ipaddress.IPv4Address
V6 = ipaddress.IPv6Address


@pytest.mark.parametrize(
    ("url", "host"),
    [
        # Examples of the standard's host parsing (https://url.spec.whatwg.org/#host-parsing).
        ("http://0x7f.1/", V4("127.0.0.1")),
        ("http://2130706433/", V4("127.0.0.1")),
        ("http://0177.0.0.1/", V4("127.0.0.1")),
        ("http://127.1/", V4("127.0.0.1")),
        ("http://192.168.257/", V4("192.168.1.1")),
        ("http://0x/", V4("0.0.0.0")),
        ("http://1.2.3.4./", V4("1.2.3.4")),
        ("http://9.1/", V4("9.0.0.1")),
        ("http://example.0x1g/", "example.0x1g"),  # the last label is no number: a domain
        ("http://[::ffff:127.0.0.1]/", V6("::ffff:7f00:1")),
        ("http://EXAMPLE.com./", "example.com."),
        ("http://ex%41mple.com/", "example.com"),
        ("http://faß.example/", "xn--fa-hia.example"),  # non-transitional: ß stays ß
        ("http://Ｅｘａｍｐｌｅ.com/", "example.com"),
        ("http://a@b@example.com:80/p@q", "example.com"),
        ("http://example.com\\@evil.example/", "example.com"),
        ("http:example.com/", "example.com"),
        ("https:\\\\/example.com/", "example.com"),
        ("  http://exa\tmple.com\n/ ", "example.com"),
        ("http://[2001:db8::1]:8080/", V6("2001:db8::1")),
    ],
)
def test_hosts_as_browsers_read_them(url, host):
    assert url_host(url) == host


@pytest.mark.parametrize(
    "url",
    [
        "mailto:a@example.com", "ftp://example.com/", "javascript:alert(1)", "//example.com/", "/relative",
        "http://", "http://@/", "http:///", "http://[::1/", "http://[nothing]/", "http://1.2.3.4.5/",
        "http://256.1.1.1/", "http://1.2.3.0x100000000/", "http://0x100000000/", "http://09.1/",
        "http://exa mple.com/", "http://exa<mple.com/", "http://%00example.com/", "http://host:port/", "http://host:70000/",
    ],
)
def test_what_a_browser_would_not_load_is_an_error(url):
    with pytest.raises(ValueError):
        url_host(url)


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_every_spelling_of_an_ipv4_address_is_that_address(value):
    address = V4(value)
    a, b, c, d = address.packed
    spellings = [
        str(value), hex(value), f"0{value:o}", f"{a}.{b}.{c}.{d}", f"0x{a:x}.0{b:o}.{c}.0x{d:X}",
        f"{a}.{(b << 16) | (c << 8) | d}", f"{a}.{b}.{(c << 8) | d}", f"{a}.{b}.{c}.{d}.",
    ]
    for spelling in spellings:
        assert url_host(f"http://{spelling}/") == address, spelling


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost", True), ("localhost.", True), ("a.b.localhost", True), ("localhost.example", False),
        ("example.com", False), (V4("127.8.9.10"), True), (V4("10.0.0.1"), True), (V4("169.254.1.1"), True),
        (V4("100.64.1.1"), True), (V4("0.0.0.0"), True), (V4("8.8.8.8"), False), (V6("::1"), True),
        (V6("fe80::1"), True), (V6("fd00::1"), True), (V6("::ffff:10.0.0.1"), True), (V6("2002:c0a8:101::"), True),
        (V6("2001:4860:4860::8888"), False),
    ],
)
def test_local_places(host, local):
    assert is_local(host) is local


def test_own_host_patterns_follow_allowed_hosts():
    patterns = host_patterns(["Helpdesk.Example.com", ".corp.example", "*", "[::1]", "site.example:8443", "bad host"])
    assert matches_any("helpdesk.example.com.", patterns)
    assert matches_any("corp.example", patterns) and matches_any("a.b.corp.example", patterns)
    assert matches_any("site.example", patterns) and matches_any(V6("::1"), patterns)
    assert not matches_any("xcorp.example", patterns) and not matches_any("example.com", patterns)
    assert not matches_any("anything.example", host_patterns(["*"]))  # "*" names no host in particular
