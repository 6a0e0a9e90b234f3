"""HTTP revalidation for pages that change only when content is imported.

Every import that changes anything records an ImportRun, so the latest run's id is a
version of all content. A page's ETag combines it with what else the page depends on (the
path and query, the language, staff or not, htmx or not, and the code's release), so a
repeat visit costs one small query and a 304.
"""

import hashlib
import os
from pathlib import Path

from django.conf import settings
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.views.decorators.http import condition


def release() -> str:
    """Changes whenever templates, translations, static files or code change on deploy."""
    explicit = os.environ.get("KB_RELEASE")
    if explicit:
        return explicit
    base = Path(settings.BASE_DIR)
    newest = max(
        (p.stat().st_mtime for folder in ("templates", "locale", "static", "kb", "wizard") for p in (base / folder).rglob("*") if p.is_file()),
        default=0,
    )
    return str(int(newest))


RELEASE = release()


def content_version() -> int:
    from kb.models import ImportRun

    return ImportRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def page_etag(request, *args, **kwargs):
    parts = [
        RELEASE, str(content_version()), get_language() or "", request.get_full_path(),
        str(request.user.is_staff), request.headers.get("HX-Request", ""),
    ]  # fmt: skip
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()


def revalidated(view):
    """ETag the view's response, answer 304 when it matches, and ask browsers to revalidate."""
    conditional = condition(etag_func=page_etag)(view)

    def wrapper(request, *args, **kwargs):
        response = conditional(request, *args, **kwargs)
        patch_cache_control(response, no_cache=True)
        return response

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper
