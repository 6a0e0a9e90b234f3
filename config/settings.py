"""Settings: every deploy-time knob comes from an environment variable with a working default.

The defaults give a single-machine site: SQLite and the search index under ``var/``.
A deployment changes ``DATABASE_URL`` (PostgreSQL) and sets a secret key; nothing else.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The .env.example value: a deployment that copied the example file as it is has no secret.
PLACEHOLDER_SECRET_KEY = "change-me-to-a-long-random-string"


def secret_key(debug: bool) -> str:
    """DJANGO_SECRET_KEY, refused when it is missing, blank or the example file's placeholder."""
    value = os.environ.get("DJANGO_SECRET_KEY", "")
    if value.strip() and value.strip() != PLACEHOLDER_SECRET_KEY:
        return value
    if debug:
        return "insecure-development-key-only-used-with-DJANGO_DEBUG-on"
    problem = (
        "it is not set" if not value else "it is blank" if not value.strip() else "it is the .env.example placeholder"
    )
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY must be set to a long random string when DJANGO_DEBUG is off, and {problem} "
        '(make one with: python3 -c "import secrets; print(secrets.token_urlsafe(50))").'
    )


def allowed_hosts(entries: list[str]) -> tuple[list[str], dict[str, set[str]]]:
    """DJANGO_ALLOWED_HOSTS entries are ``host`` or ``host:port``. Django checks the host and
    ignores any port; the ports are checked by config.middleware.HostPortMiddleware: a host
    listed without a port takes only requests that name no port."""
    hosts, ports = [], {}
    for entry in entries:
        host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        hosts.append(host)
        if port:
            ports.setdefault(host.lower(), set()).add(port)
    return list(dict.fromkeys(hosts)), ports


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = secret_key(DEBUG)

HOST_ENTRIES = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1:8000,localhost:8000")
ALLOWED_HOSTS, KB_ALLOWED_PORTS = allowed_hosts(HOST_ENTRIES)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
# Where the site is reached, for the absolute links it writes (ticket permalinks, the API's
# ``url``): never taken from a request's Host header. Unset: the first allowed host over http.
KB_SITE_URL = (
    os.environ.get("KB_SITE_URL", "") or f"http://{HOST_ENTRIES[0] if HOST_ENTRIES else 'localhost'}"
).rstrip("/")

VAR_DIR = Path(os.environ.get("KB_VAR_DIR", BASE_DIR / "var"))
CONTENT_DIR = Path(os.environ.get("KB_CONTENT_DIR", BASE_DIR / "content"))
KB_INDEX_DIR = Path(os.environ.get("KB_INDEX_DIR", VAR_DIR / "index"))
# Memory (MB, per process) a full index rebuild may hold before whoosh's writer spills
# postings to temporary files (slow); 10,000 articles need about 1,700 MB in all, split
# between the build's processes.
KB_INDEX_BUILD_MB = int(os.environ.get("KB_INDEX_BUILD_MB", "1024"))
# Hexo and most Japanese blogs write dates without a zone: they mean Japan time.
KB_SOURCE_TIMEZONE = os.environ.get("KB_SOURCE_TIMEZONE", "Asia/Tokyo")
# What one import may read (README, "Faults and limits"): bytes per article text and per
# image, text files per import, and how deep Markdown may nest lists and quotes.
KB_ARTICLE_MAX_BYTES = int(os.environ.get("KB_ARTICLE_MAX_BYTES", str(5 * 1024 * 1024)))
KB_IMAGE_MAX_BYTES = int(os.environ.get("KB_IMAGE_MAX_BYTES", str(5 * 1024 * 1024)))
KB_IMPORT_MAX_FILES = int(os.environ.get("KB_IMPORT_MAX_FILES", "10000"))
KB_MARKDOWN_MAX_DEPTH = int(os.environ.get("KB_MARKDOWN_MAX_DEPTH", "32"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "axes",
    "django_htmx",
    "template_partials",
    "kb.apps.KbConfig",
    "wizard.apps.WizardConfig",
]

# Metrics (kb/metrics.py, /metrics): off only to measure what they cost (bench/load_bench.py).
KB_METRICS = env_bool("KB_METRICS", True)

MIDDLEWARE = [
    "config.logs.RequestIdMiddleware",
    "kb.metrics.MetricsMiddleware",
    "config.middleware.HostPortMiddleware",
    "config.middleware.ControlCharacterMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]
if not KB_METRICS:
    MIDDLEWARE.remove("kb.metrics.MetricsMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "config.context_processors.language_switch",
                "config.context_processors.canonical",
            ],
        },
    },
]


def private_folder(folder: Path):
    """var/ holds the secret key, the database and the index: only its owner reads it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = folder.stat()
    if status.st_mode & 0o077 and status.st_uid == os.getuid():
        folder.chmod(0o700)


def private_sqlite_file(database: Path):
    """The SQLite file and its -wal/-shm 0600. SQLite gives the -wal and -shm files the main
    file's mode, so the main file is made first, empty (SQLite takes an empty file as a new
    database), with that mode."""
    private_folder(database.parent)
    os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if path.exists() and path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
            path.chmod(0o600)


private_folder(VAR_DIR)

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3") and DATABASES["default"]["NAME"] not in ("", ":memory:"):
    private_sqlite_file(Path(DATABASES["default"]["NAME"]))
    # Readers keep reading while an import writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

# Query counts and latency per database (django-prometheus wraps Django's own backends).
if KB_METRICS:
    DATABASES["default"]["ENGINE"] = {
        "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
        "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
    }.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# "default": rendered pages, per process (kb/caching.py). "shared": what several processes or
# machines must agree on (kb/shared.py: the content version, the vote limit, counters): Redis
# when REDIS_URL is set, else this process's memory.
REDIS_URL = os.environ.get("REDIS_URL", "")
# Proxies in front of the site that add the client's address to X-Forwarded-For: the vote
# limit keys on the address the outermost trusted one saw. 0: the connection's own address.
KB_TRUSTED_PROXIES = int(os.environ.get("KB_TRUSTED_PROXIES", "0"))
# How often a process writes the counts it gathered (kb/counters.py) to the database.
KB_COUNTER_FLUSH_SECONDS = float(os.environ.get("KB_COUNTER_FLUSH_SECONDS", "10"))
# Record what visitors search (kb.search_log: no personal data); off for a deployment whose policy
# allows no search log at all, and for measuring its cost (bench/load_bench.py --no-search-log).
KB_SEARCH_LOG = env_bool("KB_SEARCH_LOG", True)
# /readyz (kb.readiness): how long the search index may stay behind the newest import run before
# this node says it is not ready (a catch-up takes well under a second for a few articles).
KB_READY_MAX_LAG_SECONDS = float(os.environ.get("KB_READY_MAX_LAG_SECONDS", "60"))
# Whether a Redis that does not answer makes /readyz 503 (it is named in the body either way).
# Off: a Redis outage, shared by every node, does not take them all out of rotation at once.
KB_READY_NEEDS_REDIS = env_bool("KB_READY_NEEDS_REDIS", True)
# /metrics (kb.metrics) answers these addresses or networks (the client's address as
# KB_TRUSTED_PROXIES see it), and any client sending "Authorization: Bearer KB_METRICS_TOKEN".
KB_METRICS_ALLOW = env_list("KB_METRICS_ALLOW", "127.0.0.0/8,::1")
KB_METRICS_TOKEN = os.environ.get("KB_METRICS_TOKEN", "")
# Requests per client and minute (kb.limits; 0: no limit). Live search asks on each pause in
# typing: a fast typist pausing every second stays under 60 a minute.
KB_RATE_SEARCH = int(os.environ.get("KB_RATE_SEARCH", "120"))
KB_RATE_API = int(os.environ.get("KB_RATE_API", "120"))
KB_RATE_SEARCH_LOG = int(os.environ.get("KB_RATE_SEARCH_LOG", "60"))
# Gunicorn's worker count (it reads WEB_CONCURRENCY too): without Redis, limits are per worker.
KB_WORKERS = int(os.environ.get("WEB_CONCURRENCY", "1"))
CACHES = {
    "default": {
        "BACKEND": "kb.page_cache.BytesBoundedCache",
        "OPTIONS": {"MAX_BYTES": int(float(os.environ.get("KB_PAGE_CACHE_MB", "64")) * 1024 * 1024)},
    },
    "shared": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "kb",
            # A Redis that is away costs a request a quarter of a second at most, then the
            # process's own memory stands in (kb/shared.py).
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kb-shared"}
    ),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Tokyo"
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# nginx serves these itself (deploy/nginx): outside KB_VAR_DIR, which only its owner may read.
STATIC_ROOT = Path(os.environ.get("KB_STATIC_ROOT", VAR_DIR / "staticfiles"))
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

WHITENOISE_USE_FINDERS = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024  # the wizard's paste box takes logs of a few MB

# Security: the headers the site sends whatever the deployment. Nothing inline runs: htmx and
# the one script of our own are files, styles too (django-csp sends the policy).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
HTTPS = env_bool("DJANGO_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGIN_URL = "admin:login"

# The admin login, throttled by django-axes: after KB_LOGIN_FAILURES wrong passwords from one
# address, every login from it (the right password too) is refused for KB_LOGIN_LOCKOUT_MINUTES.
# The attempts are kept in the database, so the limit holds across processes without Redis.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("KB_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("KB_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_CLIENT_IP_CALLABLE = "kb.clients.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "429.html"
AXES_VERBOSE = False

# JSON lines with a request id (config/logs.py); KB_LOG_FORMAT=text for a person at a terminal.
# The proxy's X-Request-ID is taken when a proxy is trusted (it sets the header itself).
KB_TRUST_REQUEST_ID = env_bool("KB_TRUST_REQUEST_ID", KB_TRUSTED_PROXIES > 0)
LOGGING = logging_config(
    os.environ.get("DJANGO_LOG_LEVEL", "WARNING"), os.environ.get("KB_LOG_FORMAT", "json") != "text"
)
