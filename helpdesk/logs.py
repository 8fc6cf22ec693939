"""Logging filters (``LOGGING`` in helpdesk/settings.py)."""

from __future__ import annotations

import logging


class ClientErrorsInOneLine(logging.Filter):
    """A refused request (403 for a page someone may not see, a 404) is one line in the log, not a
    traceback: Django logs the exception it answered with (``django.request``), which for a
    client's error says nothing the line does not. Server errors (500 and up) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        path = getattr(getattr(record, "request", None), "path", "")
        if path.startswith("/sandbox/") and not record.exc_info:
            # The stand-in Nexudus answering with a fault it was told to inject (a 500, a 409):
            # not the app failing; the client's own line says what it met. A crash keeps its traceback.
            return False
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
