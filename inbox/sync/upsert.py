"""Prepared rows into the mirror: unchanged rows skipped, the rest upserted in one go per page.

Rows whose mirrored content is unchanged are not written at all, so a page applied twice changes
nothing, and ``records_updated`` counts real changes. ``MessageMark`` (the marks people make
here) is never touched. The write itself is ``inbox.platform.upsert.upsert_rows``: the fastest
bulk upsert each database offers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from inbox.platform.upsert import upsert_rows
from inbox.nexudus.records import CoworkerMessageRecord, EmailAccountRecord

from .rows import ACCOUNTS, MESSAGES, Mirror, Prepared, chunks, prepare_rows

#: Ids per ``IN (...)`` query (SQLite builds before 3.32 allow 999 parameters).
IN_CHUNK = 900

def apply_records(mirror: Mirror, records: Iterable[Any], *, now: datetime | None = None) -> tuple[int, int]:
    """Upsert ``records`` into ``mirror``'s table; (created, updated). Call inside a transaction."""
    return apply_prepared(mirror, prepare_rows(mirror, records), now=now)


def apply_prepared(mirror: Mirror, prepared: Prepared, *, now: datetime | None = None) -> tuple[int, int]:
    """Upsert prepared records into ``mirror``'s table; (created, updated). Call inside a transaction.

    Existing rows are read first (one ``IN`` query per 900 ids) so unchanged rows are skipped and
    the counts are honest; everything else goes in one ``INSERT ... ON CONFLICT (id) DO UPDATE``
    (``upsert_rows``: the fastest way in on each database).
    """
    now = now or timezone.now()
    if not prepared:
        return 0, 0
    model = mirror.model
    existing: dict[int, tuple] = {}
    for chunk in chunks(list(prepared), IN_CHUNK):
        for row in model.objects.filter(pk__in=chunk).values_list("pk", *mirror.columns):
            existing[row[0]] = row[1:]
    defaults = tuple(field.get_default() for field in mirror.defaulted)
    changed = []
    changes = []
    created = updated = 0
    for pk, (record, values) in prepared.items():
        old = existing.get(pk)
        if values is None:
            values = mirror.row(record, old, now)
        if values == old:
            continue
        if old is None:
            created += 1
        else:
            updated += 1
        changed.append(mirror.arrange((pk, *values, now, *defaults)))
        changes.append((old, values))
    upsert_rows(model, mirror.fields, mirror.update_fields, changed)
    if changes:
        mirror.written(changes)
    return created, updated


def apply_message_page(records: Iterable[CoworkerMessageRecord], *, now: datetime | None = None) -> tuple[int, int]:
    """Apply one page of messages in one transaction; (created, updated)."""
    with transaction.atomic():
        return apply_records(MESSAGES, records, now=now)


def apply_account_page(records: Iterable[EmailAccountRecord], *, now: datetime | None = None) -> tuple[int, int]:
    with transaction.atomic():
        return apply_records(ACCOUNTS, records, now=now)
