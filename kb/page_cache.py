"""The page cache of a process, bounded by the bytes it holds (Django cache backend).

Django's LocMemCache counts entries, not bytes: 5,000 entries of a 5 MB page are 25 GB. This
one keeps pickled pages in an LRU bounded by their total size (``MAX_BYTES``); the least
recently used page goes first, and a page larger than a tenth of the bound is not kept.
"""

import pickle
import threading
import time

from cachetools import LRUCache
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

ENTRY_OVERHEAD = 200  # the key, the expiry and the LRU's bookkeeping, roughly, per entry


class BytesBoundedCache(BaseCache):
    def __init__(self, location, params):
        super().__init__(params)
        self.max_bytes = int(params.get("OPTIONS", {}).get("MAX_BYTES", 64 * 1024 * 1024))
        self._entries = LRUCache(maxsize=self.max_bytes, getsizeof=lambda entry: len(entry[1]) + ENTRY_OVERHEAD)
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """The bytes held now."""
        return self._entries.currsize

    def _expiry(self, timeout):
        timeout = self.get_backend_timeout(timeout)
        return float("inf") if timeout is None else time.monotonic() + timeout

    def _live(self, key):
        entry = self._entries.get(key)
        if entry is not None and entry[0] <= time.monotonic():
            del self._entries[key]
            return None
        return entry

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._entries.pop(key, None)
            if len(data) + ENTRY_OVERHEAD <= self.max_bytes // 10:
                self._entries[key] = (self._expiry(timeout), data)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with self._lock:
            present = self._live(self.make_and_validate_key(key, version=version)) is not None
        if present:
            return False
        self.set(key, value, timeout, version)
        return True

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            entry = self._live(key)
        return default if entry is None else pickle.loads(entry[1])

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            entry = self._live(key)
            if entry is None:
                return False
            self._entries[key] = (self._expiry(timeout), entry[1])
            return True

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            return self._entries.pop(key, None) is not None

    def clear(self):
        with self._lock:
            self._entries.clear()
