"""Settings: every deploy-time knob comes from an environment variable with a working default.

The defaults give a single-machine site: SQLite and the search index under ``var/``.
A deployment changes ``DATABASE_URL`` (PostgreSQL) and sets a secret key; nothing else.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-DJANGO_DEBUG-on"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

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
    "django_htmx",
    "template_partials",
    "kb.apps.KbConfig",
    "wizard.apps.WizardConfig",
]

MIDDLEWARE = [
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
]

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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Readers keep reading while an import writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

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
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "kb-pages",
        "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("KB_PAGE_CACHE_ENTRIES", "5000"))},
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
STATIC_ROOT = VAR_DIR / "staticfiles"
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}
