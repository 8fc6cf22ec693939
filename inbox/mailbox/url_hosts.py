"""Where a browser would send the request for an http(s) URL, and whether that place is local.

The host is found the way browsers find it, by the WHATWG URL standard
(https://url.spec.whatwg.org/#concept-basic-url-parser, https://url.spec.whatwg.org/#host-parsing),
not by ``urllib.parse``, which disagrees on exactly what a hostile e-mail would write:
``http:///127.0.0.1/`` (extra slashes), ``http://127.0.0.1\\@evil.example/`` (``\\`` ends the host),
a tab inside the host, ``http://0x7f.1/``, ``http://2130706433/`` or ``http://１２７.０.０.１/``.
Only what decides the host is implemented: the rest of the URL does not matter here.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import unquote

import idna

Host = str | ipaddress.IPv4Address | ipaddress.IPv6Address

SPECIAL_SCHEMES = frozenset({"http", "https"})
_C0_OR_SPACE = "".join(map(chr, range(0x21)))
_TAB_OR_NEWLINE = str.maketrans("", "", "\t\n\r")
_AUTHORITY_END = re.compile(r"[/\\?#]")
_FORBIDDEN_DOMAIN = frozenset("\x00\t\n\r #/:<>?@[\\]^|%\x7f") | frozenset(map(chr, range(0x20)))
_DIGITS = {10: frozenset("0123456789"), 16: frozenset("0123456789abcdefABCDEF"), 8: frozenset("01234567")}
# IPv6 ranges that carry an IPv4 address a host may end up connecting to.
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def url_host(url: str) -> Host:
    """The host of the absolute http(s) URL ``url``: an IP address, or a lowercase ASCII domain
    (a trailing dot kept). ValueError if it is not http(s) or a browser would find no valid host."""
    url = url.strip(_C0_OR_SPACE).translate(_TAB_OR_NEWLINE)
    scheme, colon, rest = url.partition(":")
    if not colon or scheme.lower() not in SPECIAL_SCHEMES:
        raise ValueError("not an http(s) URL")
    # Special schemes skip any run of / and \ before the authority, which ends at / \ ? or #; the
    # host follows the authority's last @.
    authority = _AUTHORITY_END.split(rest.lstrip("/\\"), maxsplit=1)[0]
    userinfo, at, host_and_port = authority.rpartition("@")
    if at and not host_and_port:
        raise ValueError("credentials without a host")
    host, port = _split_port(host_and_port)
    if port and (not port.isascii() or not port.isdigit() or int(port) > 65535):
        raise ValueError("invalid port")
    return parse_host(host)


def _split_port(host_and_port: str) -> tuple[str, str]:
    """A colon outside brackets ends the host."""
    inside_brackets = False
    for i, char in enumerate(host_and_port):
        if char == "[":
            inside_brackets = True
        elif char == "]":
            inside_brackets = False
        elif char == ":" and not inside_brackets:
            return host_and_port[:i], host_and_port[i + 1 :]
    return host_and_port, ""


def parse_host(host: str) -> Host:
    """The standard's host parser for special schemes: ``[IPv6]``, an IPv4 address in any of its
    forms (decimal, octal, hex, fewer than four parts), or a domain mapped to lowercase ASCII."""
    if host.startswith("["):
        if not host.endswith("]"):
            raise ValueError("unclosed IPv6 address")
        return ipaddress.IPv6Address(host[1:-1])
    if not host:
        raise ValueError("empty host")
    domain = _domain_to_ascii(unquote(host))
    if not domain or any(char in _FORBIDDEN_DOMAIN for char in domain):
        raise ValueError("forbidden code point in the host")
    if _ends_in_a_number(domain):
        return _parse_ipv4(domain)
    return domain


def _domain_to_ascii(domain: str) -> str:
    """UTS #46 processing (no transitional mapping, no STD3 rules), as the standard asks; for
    ASCII that is lowercasing. https://url.spec.whatwg.org/#concept-domain-to-ascii"""
    if domain.isascii():
        return domain.lower()
    try:
        mapped = idna.uts46_remap(domain, std3_rules=False, transitional=False)
        return mapped if mapped.isascii() else idna.encode(mapped, uts46=False).decode("ascii")
    except idna.IDNAError as error:
        raise ValueError(f"not a valid international domain: {error}") from None


def _ends_in_a_number(domain: str) -> bool:
    parts = domain.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    last = parts[-1]
    if last and last.isascii() and last.isdigit():
        return True
    try:
        _ipv4_number(last)
    except ValueError:
        return False
    return True


def _ipv4_number(part: str) -> int:
    if not part:
        raise ValueError("empty IPv4 part")
    radix = 10
    if part[:2] in ("0x", "0X"):
        part, radix = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        part, radix = part[1:], 8
    if not part:
        return 0
    if not set(part) <= _DIGITS[radix]:
        raise ValueError("not an IPv4 number")
    return int(part, radix)


def _parse_ipv4(domain: str) -> ipaddress.IPv4Address:
    parts = domain.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        raise ValueError("more than four IPv4 parts")
    numbers = [_ipv4_number(part) for part in parts]
    if any(number > 255 for number in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError("IPv4 part out of range")
    value = numbers[-1] + sum(number * 256 ** (3 - i) for i, number in enumerate(numbers[:-1]))
    return ipaddress.IPv4Address(value)


# --- Local places -----------------------------------------------------------------------------


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address in _IPV4_COMPATIBLE or address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_local(host: Host) -> bool:
    """The reader's own machine or network: ``localhost`` and its subdomains (browsers resolve
    them to loopback), and every address that is not globally reachable (loopback, private,
    link-local, shared, reserved, unspecified), IPv4 inside IPv6 included."""
    if isinstance(host, str):
        name = host.rstrip(".")
        return name == "localhost" or name.endswith(".localhost")
    if isinstance(host, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(host)
        if embedded is not None and not embedded.is_global:
            return True
    return not host.is_global


def host_patterns(hosts: Iterable[str]) -> list[tuple[Host, bool]]:
    """``(host, with subdomains)`` for host names as ALLOWED_HOSTS writes them (``.example.com``:
    the domain and its subdomains; ``[::1]``; a port is ignored). ``*`` and bad entries are skipped."""
    patterns: list[tuple[Host, bool]] = []
    for entry in hosts:
        entry = entry.strip()
        subdomains = entry.startswith(".")
        if "*" in entry:
            continue  # any host: nothing to tell apart
        try:
            host = url_host("http://" + entry.removeprefix("."))
        except ValueError:
            continue  # not a host at all
        patterns.append((host.rstrip(".") if isinstance(host, str) else host, subdomains))
    return patterns


def matches_any(host: Host, patterns: Iterable[tuple[Host, bool]]) -> bool:
    if isinstance(host, str):
        host = host.rstrip(".")
    for pattern, subdomains in patterns:
        if host == pattern:
            return True
        if subdomains and isinstance(host, str) and isinstance(pattern, str) and host.endswith("." + pattern):
            return True
    return False
