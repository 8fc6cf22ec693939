"""Realistic, deterministic data for the sandbox: locations, mail accounts, customers, messages.

Same ``seed`` → same records (dates are relative to ``now``). Built for speed: messages are first
laid out as a compact skeleton (time, thread, position), sorted by time so Ids grow with CreatedOn
as in Nexudus, then written in batches of plain tuples with ``executemany`` (100,000 messages take
seconds; 1,000,000 stay flat in memory). The records themselves are made in ``sandbox/fake/``.

What it guarantees, for the demo and the tests (each when there is room for it):

- every mail-account health state in ``sandbox.fake.accounts.ACCOUNT_PROFILES`` (healthy, failing,
  warning, inactive, stale, never checked, SSL off, misconfigured, Google- and Office365-connected);
- with 15 accounts or more, one named ``HOSTILE_ACCOUNT_NAME`` (markup in an admin-typed field);
- every body of ``sandbox.fake.hostile.HOSTILE_BODIES`` on an incoming message whose subject starts
  with ``HOSTILE_SUBJECT_PREFIX``; every subject of ``TRICKY_SUBJECTS`` (CSV-formula starters,
  commas, quotes, newlines, markup);
- non-Latin names and text, emoji, nulls where Nexudus allows them, messages through the location's
  default mail settings (``EmailAccountId`` null), ~15% unread, mostly incoming.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

from django.db import connections, transaction

from inbox.platform import streaming
from sandbox.fake.accounts import make_accounts, make_businesses
from sandbox.fake.hostile import HOSTILE_BODIES, HOSTILE_SUBJECT_PREFIX, TRICKY_SUBJECTS
from sandbox.fake.ids import FIRST_MESSAGE_ID
from sandbox.fake.messages import AUTOMATED, TOPICS, MessageFactory
from sandbox.fake.people import make_customers
from sandbox.models import Business, Coworker, CoworkerMessage, Deletion, EmailAccount

DB = "sandbox"
HISTORY_DAYS = 183


@dataclass(frozen=True)
class Summary:
    businesses: int
    accounts: int
    customers: int
    messages: int

    def __str__(self) -> str:
        return (
            f"{self.businesses} locations, {self.accounts} mail accounts, {self.customers} customers, "
            f"{self.messages} messages"
        )


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def wipe() -> None:
    """Delete every generated record (configuration and tokens stay)."""
    with transaction.atomic(using=DB):
        for model in (CoworkerMessage, Coworker, EmailAccount, Business, Deletion):
            model.objects.using(DB).all()._raw_delete(DB)


def generate(
    *, accounts: int = 16, customers: int = 300, messages: int = 5000, seed: int = 42, now: datetime | None = None
) -> Summary:
    """Replace the sandbox's data with a freshly generated set."""
    now = (now or utcnow()).replace(microsecond=0)
    rng = random.Random(seed)
    wipe()
    businesses = make_businesses(rng, now)
    account_rows = make_accounts(rng, now, businesses, accounts)
    customer_rows = make_customers(rng, account_rows, customers)
    with transaction.atomic(using=DB):
        Business.objects.using(DB).bulk_create(businesses)
        EmailAccount.objects.using(DB).bulk_create(account_rows)
        Coworker.objects.using(DB).bulk_create(customer_rows)
    written = write_messages(MessageFactory(rng, now, account_rows, customer_rows), messages)
    return Summary(len(businesses), len(account_rows), len(customer_rows), written)


def layout(rng: random.Random, now: datetime, customers: int, count: int):
    """The skeleton: per message (time, thread); per thread (customer, topic, first incoming?, automated)."""
    times, threads = array("d"), array("l")
    t_customer, t_auto, t_incoming = array("l"), array("l"), array("b")
    end = now.timestamp() - 60
    start = end - HISTORY_DAYS * 86400
    # A few customers write a lot, most a little (a Pareto-like skew).
    weights = [1.0 / (1 + (i % 97)) ** 0.8 for i in range(customers)]
    cumulative, total = [], 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    produced = 0
    while produced < count:
        thread = len(t_customer)
        customer = min(customers - 1, _bisect(cumulative, rng.random() * total))
        automated = rng.randrange(len(AUTOMATED)) if rng.random() < 0.15 else -1
        length = 1 if automated >= 0 else rng.choice((1, 1, 2, 2, 3, 3, 4, 5))
        t_customer.append(customer)
        t_auto.append(automated)
        t_incoming.append(1 if automated < 0 and rng.random() < 0.85 else 0)
        t = rng.uniform(start, end)
        for _ in range(min(length, count - produced)):
            if t > end:
                break
            times.append(t)
            threads.append(thread)
            produced += 1
            t += rng.uniform(300, 2 * 86400)
    return times, threads, t_customer, t_auto, t_incoming


def _bisect(cumulative: list[float], x: float) -> int:
    lo, hi = 0, len(cumulative)
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def write_messages(factory: MessageFactory, count: int, *, batch_size: int = 5000) -> int:
    if count <= 0 or not factory.customers:
        return 0
    rows = iter_message_rows(factory, count)
    return insert_rows(CoworkerMessage, MessageFactory.COLUMNS, rows, batch_size=batch_size)


def iter_message_rows(factory: MessageFactory, count: int) -> Iterator[tuple]:
    rng, now = factory.rng, factory.now
    times, threads, t_customer, t_auto, t_incoming = layout(rng, now, len(factory.customers), count)
    order = sorted(range(len(times)), key=times.__getitem__)
    position_seen: dict[int, int] = {}
    incoming_of = []
    positions = array("l", bytes(8 * len(order)))
    for index, k in enumerate(order):
        thread = threads[k]
        position = position_seen.get(thread, 0)
        position_seen[thread] = position + 1
        positions[index] = position
        incoming_of.append(bool(t_incoming[thread]) == (position % 2 == 0) and t_auto[thread] < 0)
    specials = place_specials(rng, incoming_of)
    for index, k in enumerate(order):
        thread = threads[k]
        customer = t_customer[thread]
        lang = factory.langs[customer]
        topics = TOPICS.get(lang, TOPICS["en"]) if rng.random() < 0.8 else TOPICS["en"]
        topic = topics[thread % len(topics)]
        created = datetime.fromtimestamp(int(times[k]), timezone.utc)
        automated = t_auto[thread] if t_auto[thread] >= 0 else None
        special = specials.get(index)
        kwargs = {}
        if special is not None:
            kwargs = {"subject": special[0], "body": special[1]}
        yield factory.row(
            id=FIRST_MESSAGE_ID + index, customer=customer, incoming=incoming_of[index], created=created,
            topic=topic, position=positions[index], automated=automated, **kwargs,
        )


def place_specials(rng: random.Random, incoming_of: list[bool]) -> dict[int, tuple[str | None, str | None]]:
    """Where the hostile bodies and tricky subjects go: each at least once, then a sprinkling."""
    n = len(incoming_of)
    incoming = [i for i, flag in enumerate(incoming_of) if flag]
    placed: dict[int, tuple[str | None, str | None]] = {}
    if not incoming:
        return placed
    extra_hostile = n // 300
    for j in range(len(HOSTILE_BODIES) + extra_hostile):
        if len(placed) >= len(incoming):
            break
        body = HOSTILE_BODIES[j % len(HOSTILE_BODIES)]
        index = _free(rng, incoming, placed)
        placed[index] = (f"{HOSTILE_SUBJECT_PREFIX} #{j % len(HOSTILE_BODIES) + 1}", body)
    extra_tricky = n // 200
    for j in range(len(TRICKY_SUBJECTS) + extra_tricky):
        if len(placed) >= n:
            break
        index = _free(rng, range(n), placed)
        subject = TRICKY_SUBJECTS[j % len(TRICKY_SUBJECTS)]
        placed[index] = (subject, f"<p>{_escape(subject)}</p><p>Sent from my phone</p>")
    return placed


def _free(rng: random.Random, candidates, placed: dict) -> int:
    candidates = list(candidates) if not isinstance(candidates, (list, range)) else candidates
    while True:
        index = candidates[rng.randrange(len(candidates))]
        if index not in placed:
            return index


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def insert_rows(model, columns: list[str], rows, *, batch_size: int = 5000) -> int:
    """Plain tuples into the sandbox's database (``COPY`` on PostgreSQL, ``executemany`` on
    SQLite): building model instances would cost more than the insert itself."""
    return streaming.insert_rows(connections[DB], model, columns, rows, batch_size=batch_size)
