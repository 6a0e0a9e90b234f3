"""State that several processes or machines share, through Django's cache framework.

The "shared" cache is Redis (Django's RedisCache) when ``REDIS_URL`` is set, else this
process's memory. Nothing here raises: when Redis is away, each call falls back to this
process's own memory (so limits and counts become per process for a while) and says so in
the log, at most once a minute.
"""

import logging
import time

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

logger = logging.getLogger(__name__)

_fallback = LocMemCache("kb-shared-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
_last_warning = {"at": float("-inf")}
_skip_until = {"at": float("-inf")}
RETRY_SECONDS = 5.0  # after a failure, this process's memory stands in this long before trying again


def backend():
    return caches["shared"]


def _degraded(operation, exc):
    now = time.monotonic()
    _skip_until["at"] = now + RETRY_SECONDS
    if now - _last_warning["at"] >= 60:
        _last_warning["at"] = now
        logger.warning("shared cache unavailable (%s: %s); using this process's memory", operation, exc)


def available():
    return time.monotonic() >= _skip_until["at"]


def _call(operation, *args, **kwargs):
    if not available():
        return getattr(_fallback, operation)(*args, **kwargs)
    try:
        return getattr(backend(), operation)(*args, **kwargs)
    except Exception as exc:  # the cache's own errors (redis.ConnectionError, timeouts, …)
        _degraded(operation, exc)
        return getattr(_fallback, operation)(*args, **kwargs)


def get(key, default=None):
    return _call("get", key, default)


def get_many(keys):
    return _call("get_many", keys)


def set(key, value, timeout=None):  # noqa: A001  (the cache's own name)
    _call("set", key, value, timeout)


def add(key, value, timeout=None) -> bool:
    """Set ``key`` unless it is there already; True when this call set it."""
    return bool(_call("add", key, value, timeout))


def incr(key, delta=1, timeout=None) -> int:
    """Add ``delta`` to a counter, creating it (with ``timeout``) if missing; the new value."""
    if not available():
        _fallback.add(key, 0, timeout)
        return _fallback.incr(key, delta)
    try:
        cache = backend()
        cache.add(key, 0, timeout)
        return cache.incr(key, delta)
    except ValueError:  # expired between add and incr
        backend().set(key, delta, timeout)
        return delta
    except Exception as exc:
        _degraded("incr", exc)
        _fallback.add(key, 0, timeout)
        return _fallback.incr(key, delta)


def decr(key, delta=1):
    try:
        return _call("decr", key, delta)
    except ValueError:  # gone meanwhile: nothing left to take
        return 0
