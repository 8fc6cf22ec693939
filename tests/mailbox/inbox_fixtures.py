"""A small, awkward mirror for the inbox tests, and the expected answers computed from it directly
(its rows are built by tests/factories.py, every field the answers read spelled out here).

``inbox_data`` stores messages covering every filter value: two known accounts, an account the
mirror has never seen, no account ("default location settings"), both directions, Nexudus's
unread flag on and off, several customers (and none), unicode, NULL names / subjects / companies,
equal creation times (keyset ties) and soft-deleted rows. ``expected_ids`` answers "which messages
should this view show, newest first" from the Python objects alone, never through the selector.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field

import pytest

from inbox.models import CoworkerMessage, EmailAccount, MessageMark
from inbox.sync import awaiting
from inbox.sync.customers import refresh_customers
from inbox.mailbox.search import search_terms
from inbox.mailbox.filters import InboxFilters
from tests.factories import build_account, build_message

BASE_TIME = dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.UTC)  # this data set's clock (not tests.factories')
ACCOUNT_A, ACCOUNT_B, ACCOUNT_UNKNOWN = 501, 502, 999
CUSTOMERS = [
    (7001, "Zoë Ærøskøbing", "zoe@example.dk", "Kōbō KK"),
    (7002, "Ana García", "ana@example.com", "Café Nord"),
    (7003, "Борис Пастернак", "boris@example.ru", None),
    (7004, None, None, None),  # a customer Nexudus sends without a name
    (None, None, None, None),  # no customer at all
]
SUBJECTS = [
    "Invoice for March", "Meeting room booking", None, "Wi-Fi not working", "Parking permit",
    "Ключи от офиса", "", "Re: invoice question", "Café order", "Printer jam",
]
BODIES = [
    "Hello, could you send the invoice again? Thanks.", "The projector in room 4 is broken.",
    "", "Bonjour, le café est froid.", "Please renew my parking permit for April.",
    "Где ключи?", "Line one\nline two\n\nline three", "OR NOT AND NEAR(x) \"quoted\" * -minus",
]


def _customer(c: tuple) -> dict:
    """The customer fields of one of CUSTOMERS (Nexudus sends no billing name here)."""
    coworker_id, name, email, company = c
    return dict(coworker_id=coworker_id, coworker_full_name=name, coworker_email=email,
                coworker_company_name=company, coworker_billing_name=None)


@dataclass
class InboxData:
    messages: list[CoworkerMessage]
    deleted: list[CoworkerMessage]
    marks: dict[tuple[int, int], bool] = field(default_factory=dict)  # (user_id, message_id) → is_read

    def __repr__(self) -> str:
        return f"InboxData({len(self.messages)} messages, {len(self.deleted)} deleted)"

    def unread_for(self, user, message: CoworkerMessage) -> bool:
        mark = self.marks.get((user.pk, message.pk))
        return (not mark) if mark is not None else message.is_new_message

    def mark(self, user, message_id: int, *, is_read: bool) -> None:
        MessageMark.objects.update_or_create(user=user, message_id=message_id, defaults={"is_read": is_read})
        self.marks[(user.pk, message_id)] = is_read


def build_messages(seed: int = 3, count: int = 64) -> list[CoworkerMessage]:
    rng = random.Random(seed)
    accounts = [
        (ACCOUNT_A, "Front desk", "front@spaces.example"),
        (ACCOUNT_B, "Billing", "billing@spaces.example"),
        (ACCOUNT_UNKNOWN, None, None),  # a message names an account the mirror has not seen
        (None, None, None),  # default location settings
    ]
    messages = []
    for i in range(count):
        account_id, account_name, account_email = accounts[i % len(accounts)]
        customer = CUSTOMERS[rng.randrange(len(CUSTOMERS))]
        # Several messages share a creation time: the keyset must break ties by id.
        created = BASE_TIME - dt.timedelta(hours=(i // 3) * 7, minutes=rng.choice([0, 0, 13]))
        messages.append(
            build_message(
                **_customer(customer),
                email_account_id=account_id,
                email_account_display_name=account_name,
                email_account_email_address=account_email,
                subject=SUBJECTS[i % len(SUBJECTS)],
                body_text=BODIES[(i * 3) % len(BODIES)],
                is_new_message=rng.random() < 0.4,
                incoming=rng.random() < 0.6,
                created_on=created,
            )
        )
    return messages


@pytest.fixture
def inbox_data(db) -> InboxData:
    EmailAccount.objects.bulk_create(
        [
            build_account(id=ACCOUNT_A, display_name="Front desk", email_address="front@spaces.example"),
            build_account(id=ACCOUNT_B, display_name="Billing", email_address="billing@spaces.example"),
        ]
    )
    messages = build_messages()
    deleted = [
        build_message(subject="Deleted invoice", **_customer(CUSTOMERS[0]), email_account_id=ACCOUNT_A,
                      email_account_display_name="Front desk", email_account_email_address=None,
                      is_new_message=True, incoming=True, deleted_at=BASE_TIME, created_on=BASE_TIME),
        build_message(subject="Gone", **_customer(CUSTOMERS[0]), email_account=None, incoming=True,
                      deleted_at=BASE_TIME, created_on=BASE_TIME - dt.timedelta(days=2)),
    ]
    CoworkerMessage.objects.bulk_create(messages + deleted)
    awaiting.rebuild()  # as the sync keeps them (bulk_create bypasses the sync)
    refresh_customers()
    return InboxData(messages=messages, deleted=deleted)


# --- The expected answers, straight from the objects ------------------------------------------


def _searchable(message: CoworkerMessage) -> list[str]:
    text = " ".join(
        filter(None, [message.subject, message.body_text, message.coworker_full_name,
                      message.coworker_email, message.coworker_company_name])
    )
    return re.findall(r"[^\W_]+", text.lower())  # every word (search_terms keeps only the first 12)


def matches_search(message: CoworkerMessage, q: str, *, fold_accents: bool) -> bool:
    """Every word of q is a prefix of some word of the message (what both engines implement)."""
    import unicodedata

    def fold(word: str) -> str:
        if not fold_accents:
            return word
        return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))

    words = [fold(w) for w in _searchable(message)]
    return all(any(w.startswith(fold(term)) for w in words) for term in search_terms(q))


def awaits_reply(data: InboxData, message: CoworkerMessage) -> bool:
    """Received from a customer, and no live message sent to them was created after it."""
    if not message.incoming or message.coworker_id is None:
        return False
    return not any(
        not other.incoming and other.coworker_id == message.coworker_id and other.created_on > message.created_on
        for other in data.messages
    )


def matches(data: InboxData, user, message: CoworkerMessage, filters: InboxFilters, *, fold_accents: bool, zone=dt.UTC) -> bool:
    if filters.unread and not data.unread_for(user, message):
        return False
    if filters.awaiting and not awaits_reply(data, message):
        return False
    if filters.direction == "incoming" and not message.incoming:
        return False
    if filters.direction == "outgoing" and message.incoming:
        return False
    if filters.account == "none" and message.email_account_id is not None:
        return False
    if isinstance(filters.account, int) and message.email_account_id != filters.account:
        return False
    if filters.customer is not None and message.coworker_id != filters.customer:
        return False
    day = message.created_on.astimezone(zone).date()
    if filters.since and day < filters.since:
        return False
    if filters.until and day > filters.until:
        return False
    if filters.q and not matches_search(message, filters.q, fold_accents=fold_accents):
        return False
    return True


def expected_ids(data: InboxData, user, filters: InboxFilters, *, fold_accents: bool = True) -> list[int]:
    rows = [m for m in data.messages if matches(data, user, m, filters, fold_accents=fold_accents)]
    rows.sort(key=lambda m: (m.created_on, m.pk), reverse=filters.order != "oldest")
    return [m.pk for m in rows]
