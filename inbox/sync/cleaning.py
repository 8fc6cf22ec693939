"""Values both databases accept, whatever Nexudus sends: one cleaning function per model field.

A record is mirrored as it comes, except where a database would refuse it and fail the whole page:
PostgreSQL rejects NUL in text, neither stores lone surrogates, and a number too big for its
column is better unknown than a failed sync.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import models

_SURROGATES = re.compile("[\ud800-\udfff]")
_INT_RANGES = {
    models.SmallIntegerField: (-(2**15), 2**15 - 1),
    models.IntegerField: (-(2**31), 2**31 - 1),
    models.BigIntegerField: (-(2**63), 2**63 - 1),
    models.PositiveIntegerField: (0, 2**31 - 1),
}


def clean_text(value: Any, max_length: int | None = None) -> str | None:
    """A string both databases accept: no NUL (PostgreSQL refuses it), no lone surrogates, cut to length."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii() and _SURROGATES.search(value):  # isascii() is O(1): most text skips the scan
        value = _SURROGATES.sub("\ufffd", value)
    if max_length is not None and len(value) > max_length:
        value = value[:max_length]
    return value


def cleaner_for(field: models.Field) -> Callable[[Any], Any]:
    if isinstance(field, (models.CharField, models.TextField)):
        clean = partial(clean_text, max_length=getattr(field, "max_length", None))
        if field.null:
            return clean
        return lambda value: clean(value) or ""
    if isinstance(field, models.BooleanField):
        if field.null:
            return lambda value: None if value is None else bool(value)
        return lambda value: bool(value)
    for kind, (low, high) in _INT_RANGES.items():
        if type(field) is kind or (kind is models.BigIntegerField and isinstance(field, kind)):
            # A number the column cannot hold is unknown, not a failed sync.
            return lambda value, low=low, high=high: value if value is None or low <= value <= high else None
    return lambda value: value
