"""Reading Nexudus's values leniently: dates in every form the API has used, always aware UTC."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from inbox.nexudus.values import parse_datetime

UTC = timezone.utc


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2025-01-15T10:30:00Z", datetime(2025, 1, 15, 10, 30, tzinfo=UTC)),
        ("2025-01-15T10:30:00+00:00", datetime(2025, 1, 15, 10, 30, tzinfo=UTC)),
        ("2025-01-15T12:30:00+02:00", datetime(2025, 1, 15, 10, 30, tzinfo=UTC)),
        ("2025-01-15T05:30:00-0500", datetime(2025, 1, 15, 10, 30, tzinfo=UTC)),
        ("2025-01-15T10:30:00", datetime(2025, 1, 15, 10, 30, tzinfo=UTC)),  # no offset: UTC
        ("2025-01-15T10:30:00.1234567Z", datetime(2025, 1, 15, 10, 30, 0, 123456, tzinfo=UTC)),
        ("2025-01-15T10:30:00.5", datetime(2025, 1, 15, 10, 30, 0, 500000, tzinfo=UTC)),
        ("2025-01-15 10:30", datetime(2025, 1, 15, 10, 30, tzinfo=UTC)),
        ("/Date(1736937000000)/", datetime(2025, 1, 15, 10, 30, tzinfo=UTC)),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_datetimes_become_aware_utc(text, expected):
    parsed = parse_datetime(text)

    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset().total_seconds() == 0
