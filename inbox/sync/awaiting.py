"""Awaiting reply: which received messages have had no answer yet, kept as the mirror changes.

A live message is *awaiting reply* when it was received from a customer (``incoming``, with a
``coworker_id``) and no live message sent to that same customer was created after it, through any
mail account. The flag (``CoworkerMessage.awaiting_reply``) depends only on the customer's own
messages, so whenever the sync writes or deletes messages it recomputes the flag for the customers
those messages belong to (before and after the change), and nobody else's: a reply made in Nexudus
clears the wait at the next sync.

Per batch of customers it costs three reads and at most two writes, all on indexes (migration
0013): each customer's latest sent message and their received messages (``msg_coworker_replies``),
and the rows flagged now (``msg_awaiting_coworker``); only rows whose flag changes are written.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connections, transaction
from django.db.models import Max

from inbox.models import CoworkerMessage

logger = logging.getLogger(__name__)

#: Customers per batch (the ids of one ``IN (...)``).
BATCH = 300

_state = threading.local()


def is_deferred() -> bool:
    return getattr(_state, "deferred", False)


@contextmanager
def deferred() -> Iterator[None]:
    """Skip the per-page recomputation, and recompute everything once at the end: a full walk
    touches every customer on every page (1,000 customers cost ~0.35 s a page at a million
    messages on SQLite; ``rebuild`` once, about 5 s there and 2 s on PostgreSQL)."""
    _state.deferred = True
    finished = False
    try:
        yield
        finished = True
    finally:
        _state.deferred = False
        if finished:
            rebuild()
        else:  # the walk failed: keep what it wrote right if the database lets us, and its error
            try:
                rebuild()
            except Exception:
                logger.warning("Awaiting reply was not recomputed after a failed full sync.", exc_info=True)


def refresh(coworker_ids: Iterable[int | None]) -> int:
    """Recompute the flag of every message of these customers; how many rows changed."""
    if is_deferred():
        return 0
    ids = sorted({c for c in coworker_ids if c is not None})
    changed = 0
    for start in range(0, len(ids), BATCH):
        changed += _refresh_batch(ids[start:start + BATCH])
    return changed


def _refresh_batch(ids: list[int]) -> int:
    messages = CoworkerMessage.objects
    latest_reply = dict(
        messages.live().filter(coworker_id__in=ids, incoming=False)
        .values("coworker_id").annotate(at=Max("created_on")).order_by()
        .values_list("coworker_id", "at")
    )
    # Their received messages, read from the index alone (msg_coworker_replies covers them), and
    # compared here: an OR of one range a customer made SQLite scan the whole table (6.5 s for 300
    # customers at a million messages).
    received = messages.live().filter(coworker_id__in=ids, incoming=True).order_by()
    should = {
        pk for pk, coworker, created in received.values_list("pk", "coworker_id", "created_on")
        if coworker not in latest_reply or created > latest_reply[coworker]
    }
    flagged = set(messages.filter(awaiting_reply=True, coworker_id__in=ids).order_by().values_list("pk", flat=True))
    to_set, to_clear = should - flagged, flagged - should
    if to_set:
        messages.filter(pk__in=sorted(to_set)).update(awaiting_reply=True)
    if to_clear:
        messages.filter(pk__in=sorted(to_clear)).update(awaiting_reply=False)
    return len(to_set) + len(to_clear)


def coworkers_of(message_ids: Iterable[int]) -> set[int]:
    """The customers these messages belong to now (for a change that is about to happen)."""
    ids = list(message_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 900):
        found.update(
            CoworkerMessage.objects.filter(pk__in=ids[start:start + 900], coworker_id__isnull=False)
            .order_by().values_list("coworker_id", flat=True).distinct()
        )
    return found


def rebuild() -> int:
    """Recompute the flag of every message at once (after a full walk, or a bulk load that bypassed
    the sync); how many rows changed.

    Each customer's latest sent message is found once (one grouped read of ``msg_coworker_replies``)
    and joined to their received messages: on PostgreSQL at a million messages this takes 1.3 s,
    where asking "is there a later reply?" row by row took 50 s (SQLite: 4.3 s against 4.7 s).
    Only the rows whose flag is wrong are written."""
    table = CoworkerMessage._meta.db_table
    alias = CoworkerMessage.objects.db
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET awaiting_reply = FALSE WHERE awaiting_reply "
            f"AND NOT (incoming AND deleted_at IS NULL AND coworker_id IS NOT NULL)"
        )
        changed = cursor.rowcount
        # A received message's flag is wrong when it equals "a reply came after it".
        cursor.execute(
            f"""WITH latest AS (
                    SELECT coworker_id, MAX(created_on) AS replied_at FROM {table}
                    WHERE NOT incoming AND deleted_at IS NULL AND coworker_id IS NOT NULL
                    GROUP BY coworker_id)
                SELECT m.id, m.awaiting_reply FROM {table} AS m
                LEFT JOIN latest ON latest.coworker_id = m.coworker_id
                WHERE m.incoming AND m.deleted_at IS NULL AND m.coworker_id IS NOT NULL
                  AND m.awaiting_reply = (latest.replied_at IS NOT NULL AND m.created_on <= latest.replied_at)"""
        )
        wrong = cursor.fetchall()
        to_set = [pk for pk, flagged in wrong if not flagged]
        to_clear = [pk for pk, flagged in wrong if flagged]
        for ids, value in ((to_set, True), (to_clear, False)):
            for start in range(0, len(ids), 900):
                CoworkerMessage.objects.filter(pk__in=ids[start:start + 900]).update(awaiting_reply=value)
    return changed + len(wrong)
