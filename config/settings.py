"""Settings for the campaign app: everything comes from the environment.

Every variable is documented in `.env.example` and the README. Defaults run on a
fresh machine (SQLite, the local Telesign sandbox); production secrets have none.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local `.env` (written by `make run` on first start) is read if present; real
# environment variables always win over it.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (see .env.example)."
        )
    # Development only: a fresh key per process (sessions end on restart).
    SECRET_KEY = get_random_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS. Secure by default whenever DEBUG is off; each can be turned off from
# the environment (the test suite does, as its client speaks plain http).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Behind a proxy or load balancer that terminates TLS: trust its
# X-Forwarded-Proto header (only if the proxy always sets it), and count how
# many proxies add to X-Forwarded-For, to know a client's address.
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip(
    "/"
)

# Content-Security-Policy on every page: scripts and styles only from our own
# static files (no inline script, style attribute or onclick runs, so injected
# markup cannot act), images also from where uploads are published and from
# the https hosts of external images; no plugins, no framing, forms post here.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [
        CSP.SELF,
        "{0.scheme}://{0.netloc}".format(urlsplit(PUBLIC_BASE_URL)),
        "https:",
    ],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

INSTALLED_APPS = [
    # Django's admin, with the marketer's home as its index.
    "campaigns.apps.CampaignsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles, so `runserver` serves static files as production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_tasks_db",
    "campaigns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "campaigns.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "config.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"


# Database. The SQLite default is tuned so that a web process and a task worker
# can write at once: WAL lets readers run beside the writer, the busy timeout
# waits for the lock instead of failing, and IMMEDIATE transactions take the
# write lock up front so two writers never deadlock upgrading a read lock.
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA busy_timeout=20000;"
                "PRAGMA foreign_keys=ON;"
            ),
        }
    )
    # Tests that start real worker and web processes need a file they can share.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", 60))
    DATABASES["default"].setdefault(
        "CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", True)
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The workspace's time zone: scheduled starts are entered and shown in it
# (recipients' quiet hours follow their own numbers' zones). TIME_ZONE, its
# former name, is still read.
WORKSPACE_TIME_ZONE = env.str(
    "WORKSPACE_TIME_ZONE", default=env.str("TIME_ZONE", default="UTC")
)
try:
    ZoneInfo(WORKSPACE_TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(
        f"WORKSPACE_TIME_ZONE={WORKSPACE_TIME_ZONE!r} is not a time zone name "
        "such as Europe/Kyiv or UTC."
    ) from exc
TIME_ZONE = WORKSPACE_TIME_ZONE
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
# WhiteNoise serves from here once `collectstatic` has run; until then it
# stays empty (development serves from the apps' own folders).
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
MEDIA_URL = env.str("MEDIA_URL", default="media/")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
# Uploaded images live in any Django storage: the local disk by default, or,
# for several web machines, a shared one (e.g. MEDIA_STORAGE_BACKEND=
# storages.backends.s3.S3Storage with its options as JSON).
STORAGES = {
    "default": {
        "BACKEND": env.str(
            "MEDIA_STORAGE_BACKEND",
            default="django.core.files.storage.FileSystemStorage",
        ),
        "OPTIONS": env.json("MEDIA_STORAGE_OPTIONS", default={}),
    },
    # Compressed, content-hashed files that browsers may cache for ever
    # (after `collectstatic`; before it, plain names).
    "staticfiles": {"BACKEND": "campaigns.storage.StaticFilesStorage"},
}
# Viber fetches images from the app (`/images/<id>.jpg`) by default; with a
# storage that has public URLs of its own (a CDN bucket), send those instead.
IMAGE_URLS_FROM_STORAGE = env.bool("IMAGE_URLS_FROM_STORAGE", default=False)

# Uploads: Django keeps small files in memory and larger ones on disk; the app
# itself enforces the image and CSV caps below with messages a marketer reads.
# A request larger than the largest cap has its files discarded as they arrive
# (campaigns/uploads.py), so it costs neither memory nor disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "campaigns.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Viber campaigns: Telesign callback API",
    "DESCRIPTION": "The endpoint Telesign calls with delivery reports, read "
    "notifications and replies.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
}

# --- Product settings -------------------------------------------------------

DEFAULT_PHONE_REGION = env.str("DEFAULT_PHONE_REGION", default="US").upper()

# Image library: byte and pixel caps for uploads (Viber and phones need neither
# huge files nor huge bitmaps; the pixel cap also stops decompression bombs).
IMAGE_MAX_BYTES = env.int("IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=25_000_000)
# Audience CSV import caps.
AUDIENCE_CSV_MAX_BYTES = env.int("AUDIENCE_CSV_MAX_BYTES", default=50 * 1024 * 1024)
# A check or import nobody has reported on for this long is queued again (its
# worker died); an import's final write reports nothing until it commits.
AUDIENCE_IMPORT_STALL_SECONDS = env.int("AUDIENCE_IMPORT_STALL_SECONDS", default=300)
# Processes that read an audience file's phone numbers during its check
# (1: the worker alone); a file of fewer rows than one batch uses none.
AUDIENCE_IMPORT_CHECK_PROCESSES = env.int(
    "AUDIENCE_IMPORT_CHECK_PROCESSES", default=min(2, os.cpu_count() or 1)
)

# Telesign. Without credentials the app talks to its own local sandbox.
TELESIGN_CUSTOMER_ID = env.str("TELESIGN_CUSTOMER_ID", default="")
TELESIGN_API_KEY = env.str("TELESIGN_API_KEY", default="")
TELESIGN_BASE_URL = env.str(
    "TELESIGN_BASE_URL", default="https://rest-ww.telesign.com"
).rstrip("/")

# Logs: one line per event, as text (development) or JSON (production, for a
# log collector); secrets are removed from both and from error reports.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
TASKS_LOG_LEVEL = env.str("TASKS_LOG_LEVEL", default="WARNING")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "campaigns.logs.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "campaigns.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {
        # One handler for Django's own messages (its default adds a second in
        # DEBUG), and no line per task run: the engine logs its own summaries.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.tasks": {"level": TASKS_LOG_LEVEL},
    },
}
DEFAULT_EXCEPTION_REPORTER = "campaigns.logs.RedactingExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "campaigns.logs.SecretsExceptionReporterFilter"

# How requests are authenticated: "basic" (Telesign's default) or "digest"
# (HMAC-SHA256 signing of each request).
TELESIGN_AUTH_METHOD = env.str("TELESIGN_AUTH_METHOD", default="basic")
TELESIGN_CONNECT_TIMEOUT = env.float("TELESIGN_CONNECT_TIMEOUT", default=5.0)
TELESIGN_READ_TIMEOUT = env.float("TELESIGN_READ_TIMEOUT", default=15.0)
# Send a per-request callback_url (must be enabled on the Telesign account).
TELESIGN_SEND_CALLBACK_URL = env.bool("TELESIGN_SEND_CALLBACK_URL", default=False)
# The local Telesign sandbox, used whenever no credentials are configured.
TELESIGN_SANDBOX_URL = env.str(
    "TELESIGN_SANDBOX_URL", default="http://127.0.0.1:8025"
).rstrip("/")
# Sandbox mode (no credentials) is refused with DEBUG off: anyone can sign
# callbacks with the sandbox's public key. A staging demo may allow it.
TELESIGN_SANDBOX_WITHOUT_DEBUG = env.bool(
    "TELESIGN_SANDBOX_WITHOUT_DEBUG", default=False
)

# Sending engine.
SEND_CONCURRENCY = env.int("SEND_CONCURRENCY", default=16)
SEND_BATCH_SECONDS = env.float("SEND_BATCH_SECONDS", default=2.0)
SEND_BATCH_MAX = env.int("SEND_BATCH_MAX", default=500)
SEND_TASKS_PER_CAMPAIGN = env.int("SEND_TASKS_PER_CAMPAIGN", default=4)
# Seconds one send task runs before handing over to a fresh task.
SEND_TASK_SLICE_SECONDS = env.float("SEND_TASK_SLICE_SECONDS", default=30.0)
# Seconds after which a dead worker's claim is recovered. Longer than a send
# can take (timeouts and retries included).
SEND_CLAIM_TIMEOUT = env.float("SEND_CLAIM_TIMEOUT", default=300.0)
# Each attempt is one request through a send slot; the waits between them grow
# from 1–2 s to 5 minutes, so 10 attempts ride out about 10 minutes of outage.
SEND_MAX_ATTEMPTS = env.int("SEND_MAX_ATTEMPTS", default=10)
AUTO_PAUSE_FAILURE_RATE = env.float("AUTO_PAUSE_FAILURE_RATE", default=0.5)
AUTO_PAUSE_MIN_SENDS = env.int("AUTO_PAUSE_MIN_SENDS", default=20)
ENGINE_TICK_SECONDS = env.float("ENGINE_TICK_SECONDS", default=5.0)
# Lost callbacks: a message Telesign accepted that has no final status this
# many seconds after its fallback time is asked about (GET
# /v1/omnichannel/{reference_id}), and again at this interval while Telesign
# keeps it (12 hours). 0: never ask. STATUS_CHECK_BATCH: most asked per tick.
STATUS_CHECK_AFTER = env.float("STATUS_CHECK_AFTER", default=900.0)
# Reconciling: an `unconfirmed` recipient (its worker died, or no answer came
# in time) with no callback this many seconds after it was sent is sent again
# with the same external_id. Unset: the campaign's fallback time plus
# RECONCILE_SMS_REPORT_MARGIN, the longest Telesign takes to report on a
# message it accepted. 0: never (strict at-most-once; resend by hand).
SEND_RECONCILE_AFTER = env.float("SEND_RECONCILE_AFTER", default=None)
RECONCILE_SMS_REPORT_MARGIN = env.float("RECONCILE_SMS_REPORT_MARGIN", default=900.0)
STATUS_CHECK_BATCH = env.int("STATUS_CHECK_BATCH", default=100)
# Launching a large audience on PostgreSQL: recipients are created by this many
# connections at once (about the database server's cores), from this size on.
LAUNCH_PARALLELISM = env.int("LAUNCH_PARALLELISM", default=2)
LAUNCH_PARALLEL_MIN_CONTACTS = env.int("LAUNCH_PARALLEL_MIN_CONTACTS", default=100_000)
# Each worker started with `run_worker` reports itself this often; /health/
# counts a worker as live for three intervals.
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=10.0)

# Callbacks. Accepted API keys for callback signatures (several while a key is
# rotated); defaults to TELESIGN_API_KEY.
TELESIGN_CALLBACK_API_KEYS = env.list(
    "TELESIGN_CALLBACK_API_KEYS",
    default=[TELESIGN_API_KEY] if TELESIGN_API_KEY else [],
)
# Development only: accept callbacks without a signature. Flagged by
# `check --deploy`.
TELESIGN_CALLBACKS_ALLOW_UNSIGNED = env.bool(
    "TELESIGN_CALLBACKS_ALLOW_UNSIGNED", default=False
)
CALLBACK_MAX_BODY_BYTES = 64 * 1024
# How callbacks are applied: "inline" in the request (state is current as soon
# as Telesign has its answer), or "deferred": the request only stores the
# event (one INSERT, answered 200) and workers apply stored events in batches
# within about a second, for high callback volumes (see BENCHMARKS.md).
# Deferred on PostgreSQL, inline on the embedded SQLite.
CALLBACK_APPLY = env.str(
    "CALLBACK_APPLY",
    default="inline"
    if DATABASES["default"]["ENGINE"].endswith("sqlite3")
    else "deferred",
)
if CALLBACK_APPLY not in ("inline", "deferred"):
    raise ImproperlyConfigured("CALLBACK_APPLY must be inline or deferred.")
# Deferred: how long an idle worker waits before looking for new callbacks.
CALLBACK_APPLY_INTERVAL = env.float("CALLBACK_APPLY_INTERVAL", default=0.5)
# Replies that opt a contact out or back in (whole reply, any case).
OPT_OUT_KEYWORDS = env.list(
    "OPT_OUT_KEYWORDS",
    default=[
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "END",
        "QUIT",
        "CANCEL",
        "ARRET",
        "STOPP",
        "ALTO",
        "BAJA",
        "ABMELDEN",
        "СТОП",
    ],
)
OPT_IN_KEYWORDS = env.list("OPT_IN_KEYWORDS", default=["START", "UNSTOP", "YES"])

# Reports. Prices per Viber message and per SMS segment (as your Telesign
# contract says), for the estimated and actual cost; 0 hides the cost.
PRICE_CURRENCY = env.str("PRICE_CURRENCY", default="EUR")
PRICE_VIBER_MESSAGE = env.float("PRICE_VIBER_MESSAGE", default=0.0)
PRICE_SMS_SEGMENT = env.float("PRICE_SMS_SEGMENT", default=0.0)
# The share of recipients expected to fall back to SMS, for cost estimates
# until finished campaigns give a measured rate.
ESTIMATED_FALLBACK_RATE = env.float("ESTIMATED_FALLBACK_RATE", default=0.3)
# Report figures are recomputed at most this often, and never more often than
# ten times the time one computation takes; the page recomputes by itself
# only when that takes less than REPORT_INLINE_MAX_SECONDS.
REPORT_REFRESH_SECONDS = env.float("REPORT_REFRESH_SECONDS", default=5.0)
REPORT_INLINE_MAX_SECONDS = env.float("REPORT_INLINE_MAX_SECONDS", default=0.15)

# Governance. With FOUR_EYES_LAUNCH, a campaign starts only once someone other
# than its author (with the Approver role) has approved it; any edit after
# approval withdraws the approval.
FOUR_EYES_LAUNCH = env.bool("FOUR_EYES_LAUNCH", default=False)
# Test sends reach real phones, approved or not: at most this many per
# campaign, and per person in any 24 hours.
TEST_SENDS_PER_CAMPAIGN = env.int("TEST_SENDS_PER_CAMPAIGN", default=10)
TEST_SENDS_PER_USER_PER_DAY = env.int("TEST_SENDS_PER_USER_PER_DAY", default=50)
# Failed admin logins: after LOGIN_FAILURES_PER_USER for one username from one
# address (or LOGIN_FAILURES_PER_ADDRESS from one address, any username), that
# address waits LOGIN_LOCKOUT_MINUTES. After LOGIN_USER_BACKOFF_AFTER for one
# username from any address, each attempt at it waits for the one before, the
# pause doubling up to LOGIN_USER_BACKOFF_MAX_SECONDS (never a lockout).
LOGIN_FAILURES_PER_USER = env.int("LOGIN_FAILURES_PER_USER", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
LOGIN_USER_BACKOFF_AFTER = env.int("LOGIN_USER_BACKOFF_AFTER", default=10)
LOGIN_USER_BACKOFF_MAX_SECONDS = env.int("LOGIN_USER_BACKOFF_MAX_SECONDS", default=60)
