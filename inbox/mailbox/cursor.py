"""A position in the newest-first list, as the paging links carry it (``after=<token>``).

Paging is by keyset on ``(created_on, id)``, never OFFSET: page 5,000 costs what page 1 costs.
The token is opaque to people but not secret: base64 of "<microseconds since 1970>_<id>".
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Cursor:
    """A position in the newest-first list: the (created_on, id) of the last row shown."""

    created_on: dt.datetime
    id: int

    _PATTERN = re.compile(r"^(-?\d{1,20})_(\d{1,19})$")

    def encode(self) -> str:
        micros = (self.created_on - _EPOCH) // dt.timedelta(microseconds=1)
        raw = f"{micros}_{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """The cursor a token names; ValueError for anything that is not one of ours."""
        if not token or len(token) > 64:
            raise ValueError("empty or too long")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise ValueError("not base64") from exc
        match = cls._PATTERN.match(raw)
        if not match:
            raise ValueError("malformed")
        micros, pk = int(match[1]), int(match[2])
        if pk > 2**63 - 1:
            raise ValueError("id out of range")
        try:
            when = _EPOCH + dt.timedelta(microseconds=micros)
        except OverflowError as exc:
            raise ValueError("time out of range") from exc
        return cls(created_on=when, id=pk)

    @classmethod
    def of(cls, message) -> Cursor:
        return cls(created_on=message.created_on, id=message.id)
