"""Settings for the test suite: the real settings with a throw-away secret and a fast hasher."""

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("KB_INDEX_DIR", tempfile.mkdtemp(prefix="kb-test-index-"))

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
KB_COUNTER_FLUSH_SECONDS = None  # tests flush counters themselves (kb.counters.flush)
# Limits are tested where they are the subject (tests/config/test_limits.py); elsewhere a test
# may send more requests in a second than a visitor sends in a minute.
KB_RATE_SEARCH = KB_RATE_API = KB_RATE_SEARCH_LOG = 0
# The live server of the browser tests listens on a port of its own choosing.
KB_ALLOWED_PORTS = {"localhost": {"*"}, "127.0.0.1": {"*"}}
# Absolute links as the test client's requests name the site.
KB_SITE_URL = "http://testserver"
