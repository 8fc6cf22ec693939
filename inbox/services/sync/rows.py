"""Records into rows: how a page of Nexudus records becomes one bulk upsert.

Rows whose mirrored content is unchanged are not written at all, so a page applied twice changes
nothing, and ``records_updated`` counts real changes. ``MessageMark`` (the marks people make
here) is never touched.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from inbox.models import Business, CoworkerMessage, EmailAccount
from inbox.records import BusinessRecord, CoworkerMessageRecord, EmailAccountRecord
from inbox.text import body_to_text

from .cleaning import cleaner_for

#: Ids per ``IN (...)`` query (SQLite builds before 3.32 allow 999 parameters).
IN_CHUNK = 900


class Mirror:
    """How records of one kind become rows of one model: field list, cleaning, comparison."""

    def __init__(self, model: type[models.Model], record_type: type, *, derived: Sequence[str] = ()):
        self.model = model
        names = [f.name for f in dataclasses.fields(record_type) if f.name != "id"]
        self.attnames = tuple(names)  # record field names == model attnames (email_account_id)
        getter = operator.attrgetter(*names)
        # attrgetter of one name returns the value itself, not a 1-tuple.
        self.get = getter if len(names) > 1 else (lambda record: (getter(record),))
        self.cleaners = tuple(cleaner_for(_model_field(model, name)) for name in names)
        self.derived = tuple(derived)
        self.soft_delete = any(f.name == "deleted_at" for f in model._meta.concrete_fields)
        tail = ("deleted_at",) if self.soft_delete else ()
        # What a row holds for a record (compared to decide whether to write), in this order.
        self.columns = self.attnames + self.derived + tail
        self.update_fields = [_model_field(model, name).name for name in self.columns]
        if any(f.name == "synced_at" for f in model._meta.concrete_fields):
            self.update_fields.append("synced_at")
        # Rows are built positionally, in the model's field order: Django's fast path for __init__
        # (about 3x cheaper than keyword arguments, as ``Model.from_db`` does).
        concrete = model._meta.concrete_fields
        self.template = [None if f.primary_key else f.get_default() for f in concrete]
        attnames = [f.attname for f in concrete]
        self.slots = [attnames.index(_model_field(model, name).attname) for name in self.columns]
        self.pk_slot = attnames.index(model._meta.pk.attname)
        self.synced_slot = attnames.index("synced_at") if "synced_at" in attnames else None
        self.not_null_datetimes = tuple(
            i for i, name in enumerate(self.attnames)
            if isinstance(_model_field(model, name), models.DateTimeField) and not _model_field(model, name).null
        )

    def row(self, record: Any, old: tuple | None, now: datetime) -> tuple:
        raw = self.get(record)
        values = [clean(value) for clean, value in zip(self.cleaners, raw)]
        for i in self.not_null_datetimes:
            if values[i] is None:
                # CreatedOn missing: keep what the row had, else the best date there is.
                values[i] = old[i] if old is not None else (getattr(record, "updated_on", None) or now)
        if self.derived:
            values.extend(self.derive(record, values))
        if self.soft_delete:
            values.append(None)  # a record that reappears is live again
        return tuple(values)

    def derive(self, record: Any, values: list) -> list:
        return []


class MessageMirror(Mirror):
    def __init__(self) -> None:
        super().__init__(CoworkerMessage, CoworkerMessageRecord, derived=("body_text",))
        self.body_index = self.attnames.index("body")

    def derive(self, record: Any, values: list) -> list:
        return [body_to_text(values[self.body_index])]


def _model_field(model: type[models.Model], name: str) -> models.Field:
    for field in model._meta.concrete_fields:
        if name in (field.name, field.attname):
            return field
    raise LookupError(f"{model.__name__} has no field {name!r} for the record field of that name")


MESSAGES = MessageMirror()
ACCOUNTS = Mirror(EmailAccount, EmailAccountRecord)
BUSINESSES = Mirror(Business, BusinessRecord)


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def apply_records(mirror: Mirror, records: Iterable[Any], *, now: datetime | None = None) -> tuple[int, int]:
    """Upsert ``records`` into ``mirror``'s table; (created, updated). Call inside a transaction.

    Existing rows are read first (one ``IN`` query per 900 ids) so unchanged rows are skipped and
    the counts are honest; everything else goes in one ``INSERT ... ON CONFLICT (id) DO UPDATE``
    (``bulk_create(update_conflicts=True)``, SQLite and PostgreSQL alike).
    """
    now = now or timezone.now()
    by_id = {record.id: record for record in records}  # the last copy of an id wins
    if not by_id:
        return 0, 0
    model = mirror.model
    existing: dict[int, tuple] = {}
    for chunk in chunks(list(by_id), IN_CHUNK):
        for row in model.objects.filter(pk__in=chunk).values_list("pk", *mirror.columns):
            existing[row[0]] = row[1:]
    objs = []
    created = updated = 0
    for pk, record in by_id.items():
        old = existing.get(pk)
        values = mirror.row(record, old, now)
        if values == old:
            continue
        if old is None:
            created += 1
        else:
            updated += 1
        args = mirror.template.copy()
        args[mirror.pk_slot] = pk
        for slot, value in zip(mirror.slots, values):
            args[slot] = value
        if mirror.synced_slot is not None:
            args[mirror.synced_slot] = now
        objs.append(model(*args))
    if objs:
        model.objects.bulk_create(
            objs, update_conflicts=True, unique_fields=["id"], update_fields=mirror.update_fields
        )
    return created, updated


def apply_message_page(records: Iterable[CoworkerMessageRecord], *, now: datetime | None = None) -> tuple[int, int]:
    """Apply one page of messages in one transaction; (created, updated)."""
    with transaction.atomic():
        return apply_records(MESSAGES, records, now=now)


def apply_account_page(records: Iterable[EmailAccountRecord], *, now: datetime | None = None) -> tuple[int, int]:
    with transaction.atomic():
        return apply_records(ACCOUNTS, records, now=now)
