"""The project's Prometheus metrics (``kb_*``) and the ``/metrics`` endpoint.

Django's database metrics come from django-prometheus's database backends (see settings);
its two request middlewares cost a fifth of a trivial request's CPU time (13 metric updates
per request; README, "Serving in production"), so requests are counted here instead, with two:

- counted per request by ``MetricsMiddleware``, from the URL's name and the response alone
  (no view of the search or the wizard is touched): requests by view, method and status, and
  their latency by view (``django_http_*``); search latency by kind (page, htmx, API),
  the page cache's hits and misses, wizard steps, outcomes and votes, rate-limit refusals;
- counted by one call from the search views (``searched``): how many searches found nothing,
  or only with fewer of their words (relaxed), or through the glossary (bridged);
- read when Prometheus scrapes (``StateCollector``): the index's build and age, how far it is
  behind the content version, the last import's time, result and problems, the last daily run.

Under gunicorn every worker is a process of its own: with ``PROMETHEUS_MULTIPROC_DIR`` set
(scripts/serve.sh, deploy/systemd) prometheus-client keeps the counts in files there and a
scrape of any worker adds up all of them.

Labels are names from the code (a URL's name, a kind, a status class), never a query, a path,
an address or anything a visitor typed. The endpoint answers only loopback by default:
``KB_METRICS_ALLOW`` names more addresses or networks, ``KB_METRICS_TOKEN`` a bearer token.
"""

import hmac
import ipaddress
import logging
import os
import time
from functools import cache

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from kb.clients import client_address

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "django_http_requests", "Requests answered, by view (URL name), method and status.", ["view", "method", "status"]
)
LATENCY = Histogram(
    "django_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by view (URL name).",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}  # any other: "other"
SEARCH_SECONDS = Histogram(
    "kb_search_seconds",
    "Time to answer a search request (q given), by kind: page, htmx (live results), api.",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SEARCH_OUTCOMES = Counter(
    "kb_search_outcomes",
    "Searches computed (not served from the page cache) by outcome: found, relaxed (fewer of the words), weak (the first hit answers no more than half of the query), nothing.",
    ["outcome"],
)
SEARCH_BRIDGED = Counter(
    "kb_search_bridged", "Searches with a hit found only through the glossary (another language's words)."
)
PAGE_CACHE = Counter(
    "kb_page_cache_requests", "Cacheable page requests by view and result: hit or miss.", ["view", "result"]
)
WIZARD_STEPS = Counter("kb_wizard_steps", "Wizard pages shown before an outcome, by page.", ["page"])
WIZARD_OUTCOMES = Counter("kb_wizard_outcomes", "Wizard outcomes shown, by kind.", ["outcome"])
WIZARD_VOTES = Counter("kb_wizard_votes", "Votes on a wizard result, by answer.", ["helpful"])
COUNTERS_FLUSHED = Gauge(
    "kb_counters_flushed_timestamp_seconds",
    "When the live worker that flushed its counts (kb.counters) longest ago last did so: the flush lag is now minus this.",
    multiprocess_mode="livemin",
)
RATE_LIMITED = Counter("kb_rate_limited", "Requests refused for going over a limit (429), by view.", ["view"])

SEARCH_KINDS = {"kb:search": "page", "api_search": "api"}
WIZARD_STEP_PAGES = {"start", "paste", "step", "when", "known", "diagram"}
# A wizard page that shows an outcome, and which kind: the wizard names it in a header
# (X-Wizard-Outcome: result, candidates, not-covered), else the URL's name says it.
WIZARD_OUTCOME_PAGES = {"result": "result", "candidates": "candidates"}
WIZARD_OUTCOME_HEADER = "X-Wizard-Outcome"


_children: dict = {}


def child(metric, *labels):
    """``metric.labels(*labels)``, kept: prometheus-client checks and locks on every call."""
    key = (metric, labels)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*labels)
    return found


class MetricsMiddleware:
    """Counts a request by its URL's name once the response is known (early in the chain:
    the latency includes the other middlewares)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        try:
            count(request, response, time.perf_counter() - started)
        except Exception:  # a metric never costs a visitor their page
            logger.exception("could not count a request")
        return response


def count(request, response, seconds):
    match = request.resolver_match
    name, status = (match.view_name if match else "<unresolved>"), response.status_code
    child(REQUESTS, name, request.method if request.method in METHODS else "other", str(status)).inc()
    child(LATENCY, name).observe(seconds)
    if match is None:
        return
    if status == 429:
        child(RATE_LIMITED, name).inc()
    cached = getattr(request, "_kb_page_cache", None)  # set by kb.caching.revalidated
    if cached:
        child(PAGE_CACHE, name, cached).inc()
    kind = SEARCH_KINDS.get(name)
    if kind and request.GET.get("q", "").strip() and status != 429:
        child(SEARCH_SECONDS, "htmx" if kind == "page" and request.headers.get("HX-Request") else kind).observe(seconds)
    if match.namespace == "wizard":
        count_wizard(request, match.url_name, status, response.get(WIZARD_OUTCOME_HEADER))


def count_wizard(request, page, status, outcome=None):
    if request.method == "POST":
        if page == "feedback" and status in (200, 302):  # the vote taken (429: refused)
            WIZARD_VOTES.labels("yes" if request.POST.get("helpful") == "yes" else "no").inc()
    elif status != 200:
        return
    elif outcome or page in WIZARD_OUTCOME_PAGES:
        WIZARD_OUTCOMES.labels((outcome or WIZARD_OUTCOME_PAGES[page]).replace("-", "_")).inc()
    elif page in WIZARD_STEP_PAGES:
        WIZARD_STEPS.labels(page).inc()


def searched(found):
    """A search computed: ``found`` is the search's Results, or the API's payload."""
    get = found.get if isinstance(found, dict) else lambda name, default=None: getattr(found, name, default)
    if not get("query"):
        return  # no words: nothing was searched
    outcome = "weak" if get("weak") else "relaxed" if get("relaxed") else "found" if get("total") else "nothing"
    child(SEARCH_OUTCOMES, outcome).inc()
    if bridged(found):
        SEARCH_BRIDGED.inc()


def bridged(found) -> bool:
    """Whether a hit was found only through the glossary (a hit's ``bridged``, where the
    search reports it; the API's payload does not carry it)."""
    hits = found.get("results", []) if isinstance(found, dict) else getattr(found, "hits", [])
    return any(hit.get("bridged") if isinstance(hit, dict) else getattr(hit, "bridged", None) for hit in hits)


# -- read at each scrape ------------------------------------------------------------------


class StateCollector:
    """What the index, the imports and the daily job look like now, read when Prometheus
    scrapes (a few small queries), never stored per process."""

    def collect(self):
        yield from index_metrics()
        try:
            yield from database_metrics()
        except DatabaseError as exc:
            logger.warning("metrics: the database does not answer (%s)", type(exc).__name__)
            yield gauge("kb_database_up", "1 when the database answered this scrape.", 0)
        else:
            yield gauge("kb_database_up", "1 when the database answered this scrape.", 1)


def gauge(name, documentation, value):
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], value)
    return family


def index_metrics():
    from kb.search.index import build_id, index_dir, read_marker, usable

    directory = index_dir()
    present = usable(directory)
    yield gauge("kb_index_usable", "1 when this node's search index can be searched.", int(present))
    if not present:
        return
    info = InfoMetricFamily("kb_index_build", "The identity of this node's search index build.")
    info.add_metric([], {"build": build_id(directory)})
    yield info
    built = (directory / "build").stat().st_mtime
    yield gauge("kb_index_built_timestamp_seconds", "When this node's search index was built (Unix time).", built)
    yield gauge("kb_index_age_seconds", "Seconds since this node's search index was built.", time.time() - built)
    yield gauge("kb_index_applied_import_run", "The last import run this node's index applied.", read_marker(directory))


def database_metrics():
    from kb import jobs, readiness
    from kb.models import ImportRun
    from kb.search.index import index_dir, read_marker

    latest = ImportRun.objects.order_by("-pk").values_list("pk", "finished_at").first()
    version, finished = latest or (0, None)
    yield gauge("kb_content_version", "The newest import run in the database.", version)
    applied = read_marker(index_dir())
    lag = readiness.lag_seconds(applied) if applied < version else 0.0
    yield gauge("kb_index_lag_seconds", "How long the oldest import run this node's index has not applied is old.", lag)
    if finished:
        yield gauge(
            "kb_import_committed_timestamp_seconds", "When the newest import run committed.", finished.timestamp()
        )
    last_import = jobs.last("import")
    if last_import and last_import.finished_at:
        yield gauge(
            "kb_import_last_timestamp_seconds", "When the last import ended.", last_import.finished_at.timestamp()
        )
        yield gauge(
            "kb_import_last_ok", "1 when the last import succeeded, 0 when it refused.", int(bool(last_import.ok))
        )
        problems = last_import.summary.get("problems", 0)
        yield gauge("kb_import_last_problems", "Problems the last import found (each refuses it).", problems)
        yield gauge("kb_import_last_warnings", "Warnings of the last import.", last_import.summary.get("warnings", 0))
    daily = jobs.last("daily")
    if daily and daily.finished_at:
        yield gauge("kb_daily_last_timestamp_seconds", "When the last daily run ended.", daily.finished_at.timestamp())
        yield gauge("kb_daily_last_ok", "1 when the last daily run succeeded.", int(bool(daily.ok)))
        yield gauge(
            "kb_daily_last_age_seconds",
            "Seconds since the last daily run ended.",
            (timezone.now() - daily.finished_at).total_seconds(),
        )


# -- the endpoint -------------------------------------------------------------------------


@cache
def allowed_networks(entries: tuple[str, ...]):
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]


def may_read(request) -> bool:
    token = settings.KB_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if given and hmac.compare_digest(given.encode(), token.encode()):
            return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in allowed_networks(tuple(settings.KB_METRICS_ALLOW)))


def registry():
    """The registry a scrape reads: every worker's counts in multiprocess mode, this
    process's otherwise; and the state read now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        scrape = CollectorRegistry()
        MultiProcessCollector(scrape)
    else:
        scrape = CollectorRegistry()
        scrape.register(_ProcessRegistry())
    scrape.register(StateCollector())
    return scrape


class _ProcessRegistry:
    def collect(self):
        return REGISTRY.collect()


@require_safe
@never_cache
def metrics_view(request):
    if not may_read(request):
        return HttpResponse("metrics are not public\n", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
