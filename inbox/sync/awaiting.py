"""Awaiting reply: which received messages have had no answer yet, kept as the mirror changes.

A live message is *awaiting reply* when it was received from a customer (``incoming``, with a
``coworker_id``) and no live message sent to that same customer was created after it, through any
mail account. The flag (``CoworkerMessage.awaiting_reply``) depends only on the customer's own
messages, so whenever the sync writes or deletes messages it recomputes the flag for the customers
those messages belong to (before and after the change), and nobody else's: a reply made in Nexudus
clears the wait at the next sync.

Per batch of customers it costs three reads and at most two writes, all on indexes (migration
0013): each customer's latest sent message (``msg_coworker_replies``), the received messages after
it, and the rows flagged now (``msg_awaiting_coworker``); only rows whose flag changes are written.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.db import connections, transaction
from django.db.models import Max, Q

from inbox.models import CoworkerMessage

#: Customers per batch (each is one OR term of the "received after" query).
BATCH = 300


def refresh(coworker_ids: Iterable[int | None]) -> int:
    """Recompute the flag of every message of these customers; how many rows changed."""
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
    never_answered = [c for c in ids if c not in latest_reply]
    terms = [Q(coworker_id=c, created_on__gt=at) for c, at in latest_reply.items()]
    if never_answered:
        terms.append(Q(coworker_id__in=never_answered))
    should = set(
        messages.live().filter(incoming=True).filter(reduce(or_, terms)).order_by().values_list("pk", flat=True)
    )
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
    """Recompute the flag of every message at once (after a bulk load that bypassed the sync)."""
    table = CoworkerMessage._meta.db_table
    alias = CoworkerMessage.objects.db
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET awaiting_reply = FALSE WHERE awaiting_reply "
            f"AND NOT (incoming AND deleted_at IS NULL AND coworker_id IS NOT NULL)"
        )
        changed = cursor.rowcount
        cursor.execute(
            # A row whose flag equals "a later reply exists" is wrong either way: flip it.
            f"""UPDATE {table} SET awaiting_reply = NOT awaiting_reply
                WHERE incoming AND deleted_at IS NULL AND coworker_id IS NOT NULL
                  AND awaiting_reply = EXISTS (
                    SELECT 1 FROM {table} AS reply
                    WHERE reply.coworker_id = {table}.coworker_id AND NOT reply.incoming
                      AND reply.deleted_at IS NULL AND reply.created_on > {table}.created_on)"""
        )
        changed += cursor.rowcount
    return changed
