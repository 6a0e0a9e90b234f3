"""Whether this node can serve (``/readyz``), for a load balancer that takes a node out of
rotation while it cannot: the database answers, the search index is there and caught up with
the content version within ``settings.KB_READY_MAX_LAG_SECONDS``, and Redis answers when one
is configured. ``/healthz`` stays the cheap liveness check (the process answers).

A node out of rotation gets no searches, and searches are what make an index catch up; so the
check itself asks the index to catch up (without waiting for the folder's lock), or to start
rebuilding in the background when there is none. A node comes back by itself once done.

The body names what is wrong in words, never an address, a password or a query.
"""

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from kb import caching, search
from kb.search.index import index_dir, read_marker, usable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    part: str  # "database", "index", "redis"
    message: str


def problems() -> list[Problem]:
    """Everything that keeps this node from serving now; empty when it is ready."""
    found = []
    database = database_problem()
    if database:
        found.append(database)
    else:
        found += index_problems()
    redis = redis_problem()
    if redis:
        found.append(redis)
    return found


def database_problem() -> Problem | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return Problem("database", f"does not answer ({type(exc).__name__})")
    return None


def index_problems() -> list[Problem]:
    """The index is usable and applied every import run older than the allowed lag. Needs
    the database (the content version)."""
    try:
        search.catch_up(force=True)
    except Exception:  # reported below from what is on disk
        logger.exception("readiness: catching up the search index failed")
    directory = index_dir()
    if not usable(directory):
        return [Problem("index", "missing or unusable; a rebuild has been started")]
    applied, version = read_marker(directory), caching.content_version()
    if applied >= version:
        return []
    lag = lag_seconds(applied)
    if lag <= settings.KB_READY_MAX_LAG_SECONDS:
        return []
    return [
        Problem(
            "index",
            f"behind the content version: applied import run {applied} of {version}, "
            f"{lag:.0f} s behind (allowed {settings.KB_READY_MAX_LAG_SECONDS:g} s)",
        )
    ]


def lag_seconds(applied: int) -> float:
    """How long ago the oldest import run the index has not applied was committed."""
    from kb.models import ImportRun

    oldest = ImportRun.objects.filter(pk__gt=applied).order_by("pk").values_list("finished_at", flat=True).first()
    return (timezone.now() - oldest).total_seconds() if oldest else 0.0


def redis_problem() -> Problem | None:
    if not settings.REDIS_URL:
        return None
    try:
        caches["shared"]._cache.get_client(write=True).ping()  # type: ignore[attr-defined]
    except Exception as exc:  # redis's own errors: ConnectionError, TimeoutError, …
        return Problem("redis", f"does not answer ({type(exc).__name__})")
    return None


def report() -> dict:
    """``ready`` unless a problem blocks serving. Redis away blocks only with
    ``KB_READY_NEEDS_REDIS``: every node shares it, so a Redis outage takes every node out of
    rotation at once, while the site could serve without it (limits per process meanwhile)."""
    started = time.perf_counter()
    found = problems()
    blocking = [problem for problem in found if problem.part != "redis" or settings.KB_READY_NEEDS_REDIS]
    return {
        "ready": not blocking,
        "problems": {problem.part: problem.message for problem in found},
        "seconds": round(time.perf_counter() - started, 3),
    }


@require_safe
@never_cache
def readyz(request):
    """200 when this node can serve, else 503; the JSON body says what is wrong."""
    body = report()
    response = JsonResponse(body, status=200 if body["ready"] else 503)
    if not body["ready"]:
        response["Retry-After"] = "10"
    return response
