"""What people search and do not find: per day, per normalised query and language, how many
searches, how many found nothing, how many results, and how often a result was opened next.

Nothing personal is kept: no address, no cookie, no visitor id; e-mail addresses and GUIDs
(subscription and tenant ids) in a query are masked before it is counted. Counting goes
through ``kb.counters`` (no database write per search, and a failure never reaches the
visitor). Rows older than ``ROLL_UP_DAYS`` are merged into one row per month.
"""

import datetime as dt
import re
import unicodedata

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from kb import counters
from kb.models import SearchDay
from kb.search import clean_query

MODEL = "kb.SearchDay"
ROLL_UP_DAYS = 90
REPORT_DAYS = 30
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
GUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)


def normalise(query: str) -> str:
    text = unicodedata.normalize("NFKC", clean_query(query)).casefold()
    text = EMAIL.sub("<email>", text)
    return GUID.sub("<guid>", text)


def row(query, lang):
    return {"day": timezone.localdate().isoformat(), "query": normalise(query), "lang": lang}


def record(query, lang, results: int):
    """One search made by a visitor."""
    if settings.KB_SEARCH_LOG and normalise(query):
        counters.bump(MODEL, row(query, lang), searches=1, empty=int(results == 0), results=results)


def record_opened(query, lang):
    """A visitor opened a result of this search."""
    if settings.KB_SEARCH_LOG and normalise(query):
        counters.bump(MODEL, row(query, lang), opened=1)


def since(days=REPORT_DAYS):
    return SearchDay.objects.filter(day__gte=timezone.localdate() - dt.timedelta(days=days))


def not_found(days=REPORT_DAYS, limit=50):
    """(query, lang, searches) of the searches that found nothing, most frequent first."""
    rows = since(days).values("query", "lang").annotate(count=Sum("empty")).filter(count__gt=0)
    return list(rows.order_by("-count", "query")[:limit])


def not_opened(days=REPORT_DAYS, limit=50):
    """(query, lang, searches) of the searches with results that nobody opened."""
    rows = (
        since(days)
        .values("query", "lang")
        .annotate(count=Sum("searches") - Sum("empty"), opened=Sum("opened"))
        .filter(count__gt=0, opened=0)
    )
    return list(rows.order_by("-count", "query")[:limit])


@transaction.atomic
def roll_up(older_than_days=ROLL_UP_DAYS) -> int:
    """Merge the days older than ``older_than_days`` into the first day of their month; the
    number of rows merged away."""
    cutoff = timezone.localdate() - dt.timedelta(days=older_than_days)
    old = SearchDay.objects.filter(day__lt=cutoff).exclude(day__day=1)
    merged = 0
    for day in old.order_by().values_list("day", flat=True).distinct():
        for entry in SearchDay.objects.filter(day=day):
            target = {"day": day.replace(day=1), "query": entry.query, "lang": entry.lang}
            counts = {name: getattr(entry, name) for name in ("searches", "empty", "results", "opened")}
            if not SearchDay.objects.filter(**target).update(**{n: F(n) + v for n, v in counts.items()}):
                SearchDay.objects.create(**target, **counts)
            entry.delete()
            merged += 1
    return merged


def editor_lists():
    return {"not_found": not_found(), "not_opened": not_opened(), "days": REPORT_DAYS}
