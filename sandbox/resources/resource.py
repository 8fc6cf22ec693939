"""One resource the sandbox serves: its documented field names, filters and sort fields.

A resource maps the documented Nexudus names onto this app's columns, so the list, get-one and
batch views (``sandbox/views.py``) share one description. Records are built straight from
``values_list`` tuples: a 1,000-record page costs one COUNT and one SELECT, nothing per record.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, Q, QuerySet

from sandbox.models import Config
from sandbox.resources.params import (
    INT32,
    INT64,
    BadRequest,
    parse_bool,
    parse_dir,
    parse_int,
    parse_minute,
    parse_text,
    shown,
)

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # as the documented examples: "2025-01-15T10:30:00Z"


# --- Filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """One query parameter and the condition it adds. ``kind``: int, str, bool, minute."""

    column: str
    kind: str
    bound: str = ""  # "" (equality), "from" (on or after) or "to" (on or before)
    bounds: tuple[int, int] = INT32  # for int: what the column holds

    def condition(self, name: str, value: str) -> Q:
        if self.kind == "minute":
            start = parse_minute(name, value)
            # The minute's last microsecond, not the next minute: 9999-12-31T23:59 has no next one.
            end = start + timedelta(seconds=59, microseconds=999999)
            if self.bound == "from":
                return Q(**{f"{self.column}__gte": start})
            if self.bound == "to":  # inclusive to the minute
                return Q(**{f"{self.column}__lte": end})
            return Q(**{f"{self.column}__gte": start, f"{self.column}__lte": end})
        parsed: object
        if self.kind == "int":
            parsed = parse_int(name, value, self.bounds)
        elif self.kind == "bool":
            parsed = parse_bool(name, value)
        else:
            parsed = parse_text(name, value)
        lookup = {"from": "__gte", "to": "__lte"}.get(self.bound, "")
        return Q(**{f"{self.column}{lookup}": parsed})


def filters_for(
    model: type[Model], prefix: str, equal: dict[str, tuple[str, str]], ranges: dict[str, tuple[str, str]]
) -> dict[str, Filter]:
    """Names as Nexudus documents them: ``<Entity>_<Field>``, ``from_<Entity>_<Field>``, ``to_...``."""

    def spec(column: str, kind: str, bound: str = "") -> Filter:
        big = model._meta.get_field(column).get_internal_type() == "BigIntegerField"
        return Filter(column, kind, bound, INT64 if big else INT32)

    table = {"id": spec("id", "int"), "uniqueid": spec("unique_id", "str")}
    for name, (column, kind) in equal.items():
        table[f"{prefix}_{name}".lower()] = spec(column, kind)
    for name, (column, kind) in ranges.items():
        table[f"from_{prefix}_{name}".lower()] = spec(column, kind, "from")
        table[f"to_{prefix}_{name}".lower()] = spec(column, kind, "to")
    return table

# --- Resources ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    model: type[Model]
    fields: tuple[tuple[str, str], ...]  # (documented name, column)
    filters: dict[str, Filter]
    order_fields: dict[str, str]  # documented name -> column
    to_string: Callable[[dict], str]
    batch_blank: frozenset[str] = field(default_factory=frozenset)  # left empty in batch answers

    @property
    def columns(self) -> list[str]:
        return [column for _, column in self.fields]

    def records(self, queryset: QuerySet, *, batch: bool = False) -> list[dict]:
        """Documented records for these rows.

        The SELECT runs on a plain cursor: Django's per-value converters (time-zone handling of
        every datetime) cost more than the query on a 1,000-record page; the datetimes come back
        in UTC (naive on SQLite, aware on PostgreSQL) and only need formatting.
        """
        rows = fetch_rows(queryset.values_list(*self.columns))
        names = [name for name, _ in self.fields]
        types = [self.model._meta.get_field(column).get_internal_type() for _, column in self.fields]
        datetimes = [i for i, kind in enumerate(types) if kind == "DateTimeField"]
        blank = [i for i, name in enumerate(names) if name in self.batch_blank] if batch else []
        to_string = self.to_string
        out = []
        for row in rows:
            row = list(row)
            for i in datetimes:
                if row[i] is not None:
                    row[i] = _datetime(row[i])
            for i in blank:
                row[i] = None
            record = dict(zip(names, row))
            record["ToStringText"] = to_string(record)
            record["LocalizationDetails"] = None
            record["CustomFields"] = None
            out.append(record)
        return out

    def filtered(self, params: dict[str, str]) -> QuerySet:
        queryset = self.model.objects.all()
        for key, value in params.items():
            spec = self.filters.get(key.lower())
            if spec is not None and value != "":
                queryset = queryset.filter(spec.condition(key, value))
        return queryset

    def page(
        self,
        params: dict[str, str],
        *,
        max_size: int,
        dir_convention: str = Config.DIR_DEVELOPERS,
        sort_direction_echo: str = Config.ECHO_INTEGER,
    ) -> dict:
        """The documented list envelope for these query parameters (keys matched ignoring case).

        ``dir_convention`` and ``sort_direction_echo``: see ``Config``.
        """
        lowered = {key.lower(): value for key, value in params.items()}
        page = parse_int("page", lowered.get("page") or "1")
        size = parse_int("size", lowered.get("size") or "25")
        if page < 1:
            raise BadRequest("page must be 1 or more.")
        if size < 1:
            raise BadRequest("size must be 1 or more.")
        size = min(size, max_size)
        order_name, order_column = self.order(lowered.get("orderby") or "Id")
        direction, descending = parse_dir(lowered.get("dir") or "", dir_convention)
        sign = "-" if descending else ""
        queryset = self.filtered(params)
        total = queryset.count()
        offset = (page - 1) * size
        ordering = [f"{sign}{order_column}"] + ([] if order_column == "id" else [f"{sign}id"])
        records = self.records(queryset.order_by(*ordering)[offset : offset + size]) if offset < total else []
        total_pages = math.ceil(total / size)
        envelope = {
            "Records": records,
            "CurrentPage": page,
            "CurrentPageSize": size,
            "CurrentOrderField": order_name,
            "CurrentSortDirection": direction,
            "FirstItem": offset + 1 if records else 0,
            "LastItem": offset + len(records),
            "TotalItems": total,
            "TotalPages": total_pages,
            "HasNextPage": page < total_pages,
            "HasPreviousPage": page > 1,
        }
        if sort_direction_echo == Config.ECHO_WORD:
            envelope["CurrentSortDirection"] = "Descending" if descending else "Ascending"
        elif sort_direction_echo == Config.ECHO_OMIT:
            del envelope["CurrentSortDirection"]
        return envelope

    def order(self, value: str) -> tuple[str, str]:
        for name, column in self.order_fields.items():
            if name.lower() == value.lower():
                return name, column
        known = ", ".join(self.order_fields)
        raise BadRequest(f"orderBy {shown(value)} is not a field that can be sorted on (use one of {known}).")

    def batch(self, ids: Iterable[int]) -> list[dict]:
        return self.records(self.model.objects.filter(id__in=list(ids)).order_by("id"), batch=True)

    def one(self, pk: int) -> dict | None:
        found = self.records(self.model.objects.filter(id=pk))
        return found[0] if found else None


def fetch_rows(queryset: QuerySet) -> list[tuple]:
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:  # e.g. id__in=[] or an Id beyond the column's range
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _datetime(value: datetime) -> str:
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(timezone.utc)
    return value.strftime(DATETIME_FORMAT)


BASE_FIELDS = (
    ("Id", "id"),
    ("UpdatedOn", "updated_on"),
    ("CreatedOn", "created_on"),
    ("UniqueId", "unique_id"),
    ("UpdatedBy", "updated_by"),
    ("IsNew", "is_new"),
    ("SystemId", "system_id"),
)
ORDER_BASE = {"Id": "id", "CreatedOn": "created_on", "UpdatedOn": "updated_on"}
