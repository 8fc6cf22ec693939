"""Logging filters (``LOGGING`` in helpdesk/settings.py)."""

from __future__ import annotations

import logging


class ClientErrorsInOneLine(logging.Filter):
    """A refused request (403 for a page someone may not see, a 404) is one line in the log, not a
    traceback: Django logs the exception it answered with (``django.request``), which for a
    client's error says nothing the line does not. Server errors (500 and up) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
