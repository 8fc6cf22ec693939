"""Settings for the test suite: the project's own, with test-only defaults.

The embedded Redis of the tests listens on its own port and keeps its files apart, so the suite
never touches a running demo. REDIS_URL / DATABASE_URL from the environment still win.
"""

import os
from pathlib import Path

_root = Path(__file__).resolve().parent.parent
os.environ.setdefault("EMBEDDED_REDIS_PORT", "6392")
os.environ.setdefault("HELPDESK_VAR_DIR", str(_root / "var" / "test"))
os.environ.setdefault("CACHE_KEY_PREFIX", "helpdesk-test")
# With DATABASE_URL (the PostgreSQL run) the settings are production's: give them what they demand.
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
os.environ.setdefault("NEXUDUS_BACKOFF_BASE", "0.01")
os.environ.setdefault("NEXUDUS_BACKOFF_MAX", "0.1")
os.environ.setdefault("NEXUDUS_MAX_RETRY_AFTER", "2")
# The suite makes many requests to the sandbox; the limiter's own tests set their budgets.
os.environ.setdefault("NEXUDUS_RATE_PER_SECOND", "10000")
os.environ.setdefault("NEXUDUS_RATE_PER_MINUTE", "1000000")
os.environ.setdefault("SANDBOX_RATE_PER_SECOND", "100000")

from helpdesk.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
