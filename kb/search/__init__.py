"""Full-text search over the current articles: the only package that imports whoosh.

One bilingual index holds the current revision of each article per language. The modules,
one job each:

- ``analysis``: words from text (ASCII identifiers, English stems, SudachiPy for Japanese);
- ``documents``: the schema and the document made from a revision;
- ``index``: build, update, catch up with the database, open;
- ``segments``: the index as arrays, with per-segment caches;
- ``whoosh_private``: every use of whoosh's private parts;
- ``ranking``: BM25 and matching over arrays (no whoosh);
- ``matching``: a parsed query evaluated over those arrays;
- ``engine``: a visitor's search, from the typed text to a page of hits;
- ``snippets`` and ``suggestions``: what a hit shows, and "did you mean".

Views and commands use only what is exported here.
"""

from kb.search.engine import MAX_QUERY_LENGTH, PAGE_SIZE, Hit, Results, clean_query, search
from kb.search.index import SearchRebuilding, SearchUnavailable, catch_up, forget_searchers, rebuild, update

__all__ = [
    "MAX_QUERY_LENGTH",
    "PAGE_SIZE",
    "Hit",
    "Results",
    "SearchRebuilding",
    "SearchUnavailable",
    "catch_up",
    "clean_query",
    "forget_searchers",
    "rebuild",
    "search",
    "update",
]
