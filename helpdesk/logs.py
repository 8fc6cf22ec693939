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


class SandboxFaultsQuiet(logging.Filter):
    """On the console: the stand-in Nexudus answering with a fault it was told to inject (Django's
    "Internal Server Error: /sandbox/api/...", "Conflict: ...") is not the app failing, and read as
    if it were; the client's own line says what it met. A crash in the sandbox's code (logged with
    its exception) still shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "django.request" or record.exc_info:
            return True
        path = getattr(getattr(record, "request", None), "path", "")
        return not path.startswith("/sandbox/")
