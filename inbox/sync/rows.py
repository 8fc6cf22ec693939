"""Records into rows: a ``Mirror`` for each mirrored model says how a Nexudus record becomes its row.

Cleaning (``cleaning``) and the body as text are done here, without the database, so a walk can
prepare a page's rows on its fetching thread (``prepare_rows``); ``upsert`` writes them.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db import models

from inbox.models import Business, CoworkerMessage, EmailAccount
from inbox.nexudus.records import BusinessRecord, CoworkerMessageRecord, EmailAccountRecord
from inbox.sync import awaiting, customers
from inbox.sync.text import body_to_text, joined_words

from .cleaning import cleaner_for


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
        # The row written for a record: every column of the table, in the table's order, picked
        # from (pk, *values, now, *defaults): ``synced_at`` is the time of the page, and a column
        # the sync does not mirror gets its default on insert and is left alone on update.
        concrete = model._meta.concrete_fields
        source = {model._meta.pk.attname: 0}
        source.update({_model_field(model, name).attname: i for i, name in enumerate(self.columns, start=1)})
        updated = set(source) - {model._meta.pk.attname}
        if any(f.attname == "synced_at" for f in concrete):
            source["synced_at"] = len(self.columns) + 1
            updated.add("synced_at")
        self.defaulted = [f for f in concrete if f.attname not in source]
        for position, field in enumerate(self.defaulted, start=len(self.columns) + 2):
            source[field.attname] = position
        self.fields = list(concrete)
        self.update_fields = [f for f in concrete if f.attname in updated]
        self.arrange = operator.itemgetter(*(source[f.attname] for f in concrete))
        self.not_null_datetimes = tuple(
            i for i, name in enumerate(self.attnames)
            if isinstance(_model_field(model, name), models.DateTimeField) and not _model_field(model, name).null
        )

    def borrows_from_old(self, record: Any) -> bool:
        """Whether the record lacks a value its row must have (CreatedOn), so its row depends on the old one."""
        return any(getattr(record, self.attnames[i]) is None for i in self.not_null_datetimes)

    def row(self, record: Any, old: tuple | None, now: datetime | None) -> tuple:
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

    def written(self, changes: Sequence[tuple[tuple | None, tuple]]) -> None:
        """After rows were written, in the same transaction: ``(old values or None, new values)``."""

    def deleting(self, pks: Sequence[int]) -> Callable[[], None]:
        """Before live rows are marked deleted: returns what to do after (same transaction)."""
        return lambda: None


class MessageMirror(Mirror):
    def __init__(self) -> None:
        super().__init__(CoworkerMessage, CoworkerMessageRecord, derived=("body_text", "search_joined"))
        self.body_index = self.attnames.index("body")
        self.coworker_index = self.columns.index("coworker_id")
        self.joined_from = operator.itemgetter(
            *(self.attnames.index(name) for name in ("subject", "coworker_full_name", "coworker_company_name"))
        )

    def derive(self, record: Any, values: list) -> list:
        text = body_to_text(values[self.body_index])
        return [text, joined_words(text, *self.joined_from(values))]

    def written(self, changes: Sequence[tuple[tuple | None, tuple]]) -> None:
        # A customer's messages changed (or moved to another customer): their waits are recomputed,
        # and the customers table will be (once, after the run's pages).
        at = self.coworker_index
        coworkers = {values[at] for pair in changes for values in pair if values is not None}
        awaiting.refresh(coworkers)
        customers.note_written(coworkers)

    def deleting(self, pks: Sequence[int]) -> Callable[[], None]:
        if awaiting.is_deferred():
            return lambda: None
        coworkers = awaiting.coworkers_of(pks)
        return lambda: awaiting.refresh(coworkers)


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


Prepared = dict[int, tuple[Any, "tuple | None"]]  # id -> (record, its row's values, if known yet)


def prepare_rows(mirror: Mirror, records: Iterable[Any]) -> Prepared:
    """The row values of ``records`` by Id (the last copy of an Id wins), without the database.

    This is most of the CPU of applying a page (cleaning, the body as text), so a walk has it done
    on the page-fetching thread while the database writes the page before (``RunContext.walk``).
    A record without a value its row must have takes it from the row it replaces: its values wait
    for ``upsert.apply_prepared``, which reads the old rows.
    """
    prepared: Prepared = {}
    for record in records:
        # ``now`` only fills a missing required date, and borrowing records skip this.
        prepared[record.id] = (record, None if mirror.borrows_from_old(record) else mirror.row(record, None, None))
    return prepared
