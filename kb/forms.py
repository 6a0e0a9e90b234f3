"""Search parameters from a query string. Anything a visitor types is coerced to something
searchable: a bad page, limit or language falls back to its default instead of an error."""

from dataclasses import dataclass

from kb.models import Kind
from kb.search import clean_query

LANG_CHOICES = ("", "ja", "en", "all")
MAX_LIMIT = 50
MAX_PAGE = 1000


@dataclass
class SearchParams:
    q: str = ""
    lang: str = ""  # "" = the visitor's language first, "all" = no preference
    kind: str = ""
    tag: str = ""
    page: int = 1
    limit: int = 10

    @property
    def language_filter(self):
        return self.lang if self.lang in ("ja", "en") else None


def bounded_int(value, default, upper):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, 1), upper)


def search_params(data) -> SearchParams:
    lang = data.get("lang", "")
    kind = data.get("kind", "")
    return SearchParams(
        q=clean_query(data.get("q", "")),
        lang=lang if lang in LANG_CHOICES else "",
        kind=kind if kind in Kind.values else "",
        tag=clean_query(data.get("tag", ""))[:100],
        page=bounded_int(data.get("page"), 1, MAX_PAGE),
        limit=bounded_int(data.get("limit"), 10, MAX_LIMIT),
    )
