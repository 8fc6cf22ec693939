"""The customers table (``Customer``): who the mirror's messages are from or to, kept for finding a
customer by name, e-mail or company (the inbox's customer field).

It is derived from the live messages alone, so it can always be rebuilt: a customer's name,
e-mail and company are those of their newest message that has each (a name changed in Nexudus
shows with the next message), ``last_message_at`` their newest message, ``message_count`` how many
live messages they have; a customer left with no live message is removed.

The messages sync runs its pages inside :func:`kept_by_sync`, which notes, page by page, the
customers whose messages it wrote (:func:`note_written`: created, changed, or moved from one
customer to another) and recomputes them once its pages are applied (a handful each minute; the
messages an incremental run reads again unchanged cost nothing); after a full run, which also marks
deleted messages, it recomputes them all. Migration 0013 fills the table
the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import transaction

from inbox.folding import search_key
from inbox.models import CoworkerMessage, Customer

logger = logging.getLogger(__name__)

CHUNK = 500  # ids per IN (...): well under SQLite's bound parameters, one index range per id
WRITE_BATCH = 1000
MESSAGE_COLUMNS = ("coworker_id", "created_on", "coworker_full_name", "coworker_email", "coworker_company_name")
UPDATED_FIELDS = ["full_name", "email", "company", "search_key", "last_message_at", "message_count"]


@dataclass
class _Found:
    """A customer being read from their messages, newest first."""

    id: int
    last_message_at: object
    full_name: str = ""
    email: str = ""
    company: str = ""
    message_count: int = 0

    def take(self, name: str | None, email: str | None, company: str | None) -> None:
        self.message_count += 1
        if not self.full_name and name and name.strip():
            self.full_name = name.strip()
        if not self.email and email and email.strip():
            self.email = email.strip()
        if not self.company and company and company.strip():
            self.company = company.strip()

    def row(self, model) -> Customer:
        return model(
            id=self.id, full_name=self.full_name[:255], email=self.email[:320], company=self.company[:255],
            search_key=search_key(self.full_name, self.email, self.company),
            last_message_at=self.last_message_at, message_count=self.message_count,
        )


def _read(rows: Iterable[tuple]) -> Iterator[_Found]:
    """Customers from message rows ordered by customer, then newest first."""
    found: _Found | None = None
    for coworker_id, created_on, name, email, company in rows:
        if found is None or found.id != coworker_id:
            if found is not None:
                yield found
            found = _Found(id=coworker_id, last_message_at=created_on)
        found.take(name, email, company)
    if found is not None:
        yield found


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _live_rows(message_model, coworker_ids: list[int] | None):
    """Live messages with a customer, by customer then newest first (the msg_customer_newest index)."""
    live = message_model.objects.filter(deleted_at__isnull=True, coworker_id__isnull=False)
    if coworker_ids is not None:
        live = live.filter(coworker_id__in=coworker_ids)
    return live.order_by("coworker_id", "-created_on", "-id").values_list(*MESSAGE_COLUMNS)


def _write(customer_model, found: list[_Found], gone: Iterable[int]) -> None:
    with transaction.atomic(using=customer_model.objects.db):
        for batch in _chunks(found, WRITE_BATCH):
            customer_model.objects.bulk_create(
                [f.row(customer_model) for f in batch],
                update_conflicts=True, unique_fields=["id"], update_fields=UPDATED_FIELDS,
            )
        for batch in _chunks(sorted(gone), CHUNK):
            customer_model.objects.filter(id__in=batch).delete()


def refresh_customers(coworker_ids: Iterable[int | None] | None = None, *,
                      message_model=CoworkerMessage, customer_model=Customer) -> int:
    """Recompute these customers from their live messages (every customer when ``None``).

    Returns how many customers the table now holds of those asked (all of them when ``None``).
    ``message_model`` / ``customer_model``: a migration's historical models (0013's backfill).
    """
    if coworker_ids is None:
        found = list(_read(_live_rows(message_model, None).iterator(chunk_size=5000)))
        keep = {f.id for f in found}
        existing = customer_model.objects.values_list("id", flat=True).iterator(chunk_size=5000)
        gone = [pk for pk in existing if pk not in keep]
        _write(customer_model, found, gone)
        return len(found)
    wanted = sorted({pk for pk in coworker_ids if pk is not None})
    count = 0
    for chunk in _chunks(wanted, CHUNK):
        found = list(_read(_live_rows(message_model, chunk)))
        seen = {f.id for f in found}
        _write(customer_model, found, [pk for pk in chunk if pk not in seen])
        count += len(found)
    return count


_written: ContextVar[set[int] | None] = ContextVar("customers_written", default=None)


def note_written(coworker_ids: Iterable[int | None]) -> None:
    """Customers whose messages were just written (``MessageMirror.written``), if a sync keeps them."""
    written = _written.get()
    if written is not None:
        written.update(pk for pk in coworker_ids if pk is not None)


@contextmanager
def kept_by_sync(*, full: bool) -> Iterator[None]:
    """Around a messages sync's pages: the customers whose messages it writes (:func:`note_written`)
    are recomputed once at the end, or every customer after a full run (which also marks deleted
    messages). A run that fails after committing pages still has its customers recomputed, since the
    next run reads those messages again unchanged and would not; an error doing so is logged, and
    the run's own error is the one reported."""
    written: set[int] = set()
    token = _written.set(written)
    try:
        yield
    except Exception:
        try:
            refresh_customers(written)
        except Exception:
            logger.warning("The customers of a failed messages sync were not recomputed.", exc_info=True)
        raise
    finally:
        _written.reset(token)
    count = refresh_customers(None if full else written)
    logger.debug("customers refreshed: %d", count)
