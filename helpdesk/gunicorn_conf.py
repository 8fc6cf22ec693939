"""gunicorn's settings for the web process (the Procfile and the run command use them:
``gunicorn -c python:helpdesk.gunicorn_conf helpdesk.wsgi``); see
https://docs.gunicorn.org/en/stable/settings.html.

Threads (``gthread``), so a page waiting on the database does not hold a whole process. A thread is
held for as long as its client takes to read the answer, which for pages is at once (the kernel's
socket buffers take them whole) but for a CSV export is as long as the download: exports are
therefore bounded per person and in all (``EXPORT_MAX_*``, fewer than the threads) and a reader
that stalls is dropped (``EXPORT_SEND_TIMEOUT``), so pages always find a free thread.
"""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "8"))
# A worker silent this long (stuck, not merely busy: threads keep it beating) is restarted.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 10
keepalive = 5
# Bounds on what a client may send before the app sees it.
limit_request_line = 8190
limit_request_fields = 100
# The access log is off (LOG_LEVEL and Django's own logging say what matters); errors to stderr.
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL", "warning")

if os.environ.get("LOG_FORMAT") == "json":
    # gunicorn's own lines as JSON too, like the app's (LOGGING in helpdesk/settings.py).
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
