"""Revalidation and a page cache for pages that change only when content is imported.

Every import that changes anything records an ImportRun, so the latest run's id is a
version of all content (and of the search index, which follows the runs). A page's ETag
combines it with what else the page depends on: the host, the path and query, the language,
staff or not, htmx or not, and the code's release. A repeat visit costs a 304; a page another
anonymous visitor already asked for is served from the cache under the same key.
"""

import hashlib
import os
import time
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.views.decorators.http import condition

from kb import process_state, shared

PAGE_SECONDS = 600
VERSION_SECONDS = 1.0  # how stale this process's idea of the content version may be


def release() -> str:
    """Changes whenever templates, translations, static files or code change on deploy."""
    explicit = os.environ.get("KB_RELEASE")
    if explicit:
        return explicit
    base = Path(settings.BASE_DIR)
    folders = ("templates", "locale", "static", "kb", "wizard", "config")
    newest = max((p.stat().st_mtime for f in folders for p in (base / f).rglob("*") if p.is_file()), default=0)
    return str(int(newest))


RELEASE = release()
_version = {"value": 0, "read_at": float("-inf"), "database_at": float("-inf")}
VERSION_KEY = "content-version"
# With Redis, an import publishes the new version there and every process sees it within a
# second; the database is still read every few seconds, so a version an import could not
# publish (it died after committing) is seen anyway.
DATABASE_SECONDS_WITH_REDIS = 5.0


def content_version() -> int:
    """The latest ImportRun id, as this process last saw it (at most a second old)."""
    now = time.monotonic()
    if now - _version["read_at"] >= VERSION_SECONDS:
        every = DATABASE_SECONDS_WITH_REDIS if settings.REDIS_URL else VERSION_SECONDS
        if now - _version["database_at"] >= every:
            _version["value"], _version["database_at"] = latest_import_run(), now
        if settings.REDIS_URL:
            _version["value"] = max(_version["value"], shared.get(VERSION_KEY) or 0)
        _version["read_at"] = now
    return _version["value"]


def latest_import_run() -> int:
    from kb.models import ImportRun

    return ImportRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def publish_content_version():
    """After an import: every process sees the new version within a second (with Redis)."""
    forget_content_version()
    if settings.REDIS_URL:
        shared.set(VERSION_KEY, latest_import_run())


@process_state.resettable
def forget_content_version():
    _version["read_at"] = _version["database_at"] = float("-inf")


def page_etag(request, *args, **kwargs):
    if not hasattr(request, "_kb_etag"):
        parts = [
            RELEASE,
            str(content_version()),
            get_language() or "",
            request.build_absolute_uri(request.get_full_path()),  # the host too; pages name their canonical address
            str(request.user.is_staff),
            request.headers.get("HX-Request", ""),
        ]
        request._kb_etag = hashlib.sha1("\n".join(parts).encode()).hexdigest()
    return request._kb_etag


def page_key(request):
    return f"kb:page:{page_etag(request)}"


def kept_page(request):
    """The page kept in the cache for this request, if any (see revalidated)."""
    return cache.get(page_key(request))


def key_given(request):
    """The browser has a copy and asks whether it is still good (kb.metrics counts these apart)."""
    return "If-None-Match" in request.headers


def revalidated(view=None, *, reads=None):
    """ETag the view's response, answer 304 when it matches, serve and keep anonymous
    visitors' pages in the cache, and ask browsers to revalidate.

    ``reads``: the query parameters the view reads. A request with any other parameter
    (``?utm=…``) is answered as usual but not kept: nobody can fill the cache with copies of a
    page. None: the view reads every parameter (the cache's byte bound still holds)."""
    if view is None:
        return lambda view: revalidated(view, reads=reads)
    conditional = condition(etag_func=page_etag)(view)
    known = None if reads is None else frozenset(reads)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        cacheable = (
            request.method == "GET"
            and not request.user.is_authenticated
            and (known is None or known.issuperset(request.GET))
        )
        key = page_key(request)
        response = cache.get(key) if cacheable and not key_given(request) else None
        request._kb_page_cache = cacheable and ("hit" if response else "conditional" if key_given(request) else "miss")
        if response is None:
            response = conditional(request, *args, **kwargs)
            if cacheable and response.status_code == 200 and not response.cookies:
                cache.set(key, response, PAGE_SECONDS)
        patch_cache_control(response, no_cache=True)
        return response

    return wrapper
