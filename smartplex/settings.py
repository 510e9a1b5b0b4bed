"""SmartPlex settings: everything comes from the environment (and an optional `.env`).

Runs out of the box on SQLite in `data/`; `DATABASE_URL=postgres://...` switches to
PostgreSQL through psycopg 3.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DATA_DIR = Path(env.str("SMARTPLEX_DATA_DIR", default=str(BASE_DIR / "data")))
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)  # database, key, cache: owner only


def _private_file(path: Path) -> None:
    """Create an empty file readable by its owner only, unless it exists (SQLite gives its
    -wal and -shm files the database file's modes)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _secret_key() -> str:
    """Use SECRET_KEY when set; otherwise generate one once and keep it in the data folder.

    No key is ever committed, and restarts keep sessions valid.
    """
    if key := env.str("SECRET_KEY", default=""):
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_q",
    "axes",  # login throttling (AXES_* below)
    "media",
    "syncing",
    "deletion",
    "notifications",
    "dashboard",  # "/" : storage history, plays per week, sync health, threshold
    "smartplex",  # project-level commands (ensure_admin) and static files
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "media.middleware.system_config_memo",  # system_config read once per request
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into its 429 page
]

ROOT_URLCONF = "smartplex.urls"

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
                "syncing.context_processors.sync_badge",
            ],
        },
    },
]

WSGI_APPLICATION = "smartplex.wsgi.application"

# SQLite by default. WAL lets the web server read while the worker writes; the busy
# timeout makes a writer wait for the lock instead of failing at once; IMMEDIATE
# transactions take the write lock at BEGIN, so two writers never deadlock on upgrade.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'smartplex.sqlite3'}")
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] and _db["NAME"] != ":memory:" and not str(_db["NAME"]).startswith("file:"):
        _private_file(Path(_db["NAME"]))
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif _db["ENGINE"] in ("django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"):
    _db["ENGINE"] = "django.db.backends.postgresql"
    # libpq-style URLs put a unix-socket folder in the host, percent-encoded (%2Ftmp%2Fpg).
    _db["HOST"] = unquote(_db.get("HOST", ""))
    _db.setdefault("CONN_MAX_AGE", 60)
    _db["CONN_HEALTH_CHECKS"] = True
    # No JIT: the pages' queries are short, but their estimated cost (subqueries per row)
    # passes jit_above_cost, and compiling took 120 ms of a 650 ms candidates query.
    # random_page_cost 1.1 (SSD or cached data; the default 4 prices spinning disks): at 4
    # the planner never used the covering indexes built for the candidates page (index-only
    # scans; PostgreSQL CPU of the page query by season 47 -> 33 ms, by episode 73 -> 59).
    _db.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off -c random_page_cost=1.1")
else:
    raise ImproperlyConfigured(f"Unsupported DATABASE_URL engine: {_db['ENGINE']}")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env.bool("SMARTPLEX_MANIFEST_STATIC", default=True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# The cache must be shared by every web and task process, so a value dropped by the worker
# (e.g. storage used, after a deletion) is dropped for all. One host: a file cache in the
# data folder. Several hosts: Redis (the default when REDIS_URL is set) or the database
# (`CACHE_BACKEND=database`, table created by `manage.py createcachetable`).
REDIS_URL = env.str("REDIS_URL", default="")
CACHE_BACKEND = env.str("CACHE_BACKEND", default="redis" if REDIS_URL else "file")
_CACHE_BACKENDS = {
    "file": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    },
    "redis": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "smartplex",
    },
    "database": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "smartplex_cache",
    },
}
if CACHE_BACKEND not in _CACHE_BACKENDS:
    raise ImproperlyConfigured("CACHE_BACKEND must be one of: file, redis, database")
if CACHE_BACKEND == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("CACHE_BACKEND=redis needs REDIS_URL")
CACHES = {"default": _CACHE_BACKENDS[CACHE_BACKEND]}

LOGIN_URL = "admin:login"

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failed logins from one address,
# or for one username from anywhere, further attempts are refused (HTTP 429) until
# LOGIN_LOCKOUT_MINUTES have passed; failures are stored in the database, so the lock
# holds across web processes and hosts, and the admin lists them ("Access attempts").
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]  # either one alone locks
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False  # no banner in every command; lockouts are still logged
LOGIN_REDIRECT_URL = "/deletion/"

# Secure cookies and HSTS when served over HTTPS (set SECURE_SSL=1 behind TLS).
_secure = env.bool("SECURE_SSL", default=False)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SECURE_SSL_REDIRECT = _secure and env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if _secure else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _secure
SECURE_HSTS_PRELOAD = _secure
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _secure else None
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- SmartPlex -----------------------------------------------------------------------
SYNC_INTERVAL_HOURS = env.int("SYNC_INTERVAL_HOURS", default=12)
if SYNC_INTERVAL_HOURS < 1:
    raise ImproperlyConfigured("SYNC_INTERVAL_HOURS must be a whole number of hours >= 1")
# A running SyncRun whose heartbeat is older than this is considered dead (worker killed).
SYNC_STALE_MINUTES = env.float("SYNC_STALE_MINUTES", default=30)
if SYNC_STALE_MINUTES <= 0:
    raise ImproperlyConfigured("SYNC_STALE_MINUTES must be a number of minutes > 0")
# Days between approval and deletion ("leaving soon"); the settings page overrides it.
LEAVING_SOON_DAYS = env.int("LEAVING_SOON_DAYS", default=7)
if LEAVING_SOON_DAYS < 0:
    raise ImproperlyConfigured("LEAVING_SOON_DAYS must be 0 (due at once) or more days")

# Apprise URLs (spaces or commas between them), added to those on the settings page.
NOTIFY_URLS = env.str("NOTIFY_URLS", default="")
NOTIFY_ATTEMPTS = env.int("NOTIFY_ATTEMPTS", default=3)  # per target and message
NOTIFY_RETRY_SECONDS = env.float("NOTIFY_RETRY_SECONDS", default=10.0)  # x attempt number
# The demo's notification receiver (`make run` without Plex): its messages are listed in
# the admin ("Demo inbox").
DEMO_INBOX_URL = env.str("DEMO_INBOX_URL", default="")

PLEX_URL = env.str("PLEX_URL", default="")
PLEX_TOKEN = env.str("PLEX_TOKEN", default="")
TAUTULLI_URL = env.str("TAUTULLI_URL", default="")
TAUTULLI_API_KEY = env.str("TAUTULLI_API_KEY", default="")
PLEX_TIMEOUT = env.float("PLEX_TIMEOUT", default=30.0)
PLEX_PAGE_SIZE = env.int("PLEX_PAGE_SIZE", default=1000)
# The light Plex sync (only what changed) runs this often; 0 turns its schedule off.
PLEX_CHANGES_MINUTES = env.int("PLEX_CHANGES_MINUTES", default=15)
if PLEX_CHANGES_MINUTES < 0:
    raise ImproperlyConfigured("PLEX_CHANGES_MINUTES must be a whole number of minutes >= 0")
# Each light sync re-reads this much before the previous one started (clock skew, items
# Plex was still processing).
PLEX_CHANGES_OVERLAP_SECONDS = env.int("PLEX_CHANGES_OVERLAP_SECONDS", default=300)
TAUTULLI_TIMEOUT = env.float("TAUTULLI_TIMEOUT", default=60.0)
RADARR_URL = env.str("RADARR_URL", default="")
RADARR_API_KEY = env.str("RADARR_API_KEY", default="")
SONARR_URL = env.str("SONARR_URL", default="")
SONARR_API_KEY = env.str("SONARR_API_KEY", default="")
ARR_TIMEOUT = env.float("ARR_TIMEOUT", default=60.0)
ARR_RETRY_BACKOFF = env.float("ARR_RETRY_BACKOFF", default=0.5)  # seconds, doubled per retry
# Every tunable the clients and services read is declared here, with its default.
TAUTULLI_RETRIES = env.int("TAUTULLI_RETRIES", default=3)  # per request, on errors and 5xx
TAUTULLI_BACKOFF = env.float("TAUTULLI_BACKOFF", default=0.5)  # seconds, doubled per retry
TAUTULLI_PAGE_SIZE = env.int("TAUTULLI_PAGE_SIZE", default=25_000)  # history rows a request
TAUTULLI_WINDOW_ROWS = env.int("TAUTULLI_WINDOW_ROWS", default=20_000)  # rows a date window aims at
SEERR_URL = env.str("SEERR_URL", default="")  # Overseerr or Jellyseerr (same API)
SEERR_API_KEY = env.str("SEERR_API_KEY", default="")
SEERR_TIMEOUT = env.float("SEERR_TIMEOUT", default=30.0)

# --- django-q2 -------------------------------------------------------------------------
# The ORM broker keeps everything in the database, so SQLite alone runs the app;
# REDIS_URL switches to Redis. `retry` must exceed `timeout` or tasks run twice.
# Q_SCHEDULER=0 turns off this cluster's scheduler (django-q2's `scheduler` option), so
# with workers on several hosts exactly one of them turns due schedules into tasks.
Q_CLUSTER = {
    "name": "smartplex",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 3 * 3600,
    "retry": 3 * 3600 + 600,
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": 500,
    "label": "Tasks",
    "sync": env.bool("Q_SYNC", default=False),
    "scheduler": env.bool("Q_SCHEDULER", default=True),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # urllib3 logs full URLs at DEBUG; Tautulli puts its API key in the query string.
        "urllib3": {"level": "WARNING"},
        "django_q": {"level": "INFO"},
    },
}
