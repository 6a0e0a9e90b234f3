"""A search as visitors make it: clean the query, parse it, match, rank, page, snippet.

whoosh parses the query; matching and BM25 ranking run over whole posting lists as arrays
(``kb.search.ranking``), which is what keeps a query fast when thousands of documents
match. Nothing a visitor types can raise out of ``search``.
"""

import logging
import re
from dataclasses import dataclass, field

from whoosh import query
from whoosh.qparser import AndGroup, BoostPlugin, FieldsPlugin, MultifieldParser, OrGroup, RangePlugin, WildcardPlugin

from kb import languages
from kb.search import index, ranking
from kb.search.matching import evaluate
from kb.search.segments import Searchable
from kb.search.snippets import Highlights
from kb.search.suggestions import suggest

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 300
PAGE_SIZE = 10
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass
class Hit:
    slug: str
    lang: str
    kind: str
    title: str
    snippet: str  # HTML: escaped text with <mark>
    score: float
    revision: int
    published: str
    flags: list = field(default_factory=list)


@dataclass
class Results:
    query: str
    total: int = 0
    page: int = 1
    pages: int = 0
    hits: list = field(default_factory=list)
    suggestion: str = ""
    relaxed: bool = False  # True when these are results with fewer of the words
    error: str = ""


class SearchUnavailable(Exception):
    pass


def clean_query(text: str) -> str:
    text = CONTROL.sub(" ", text or "")
    return " ".join(text.split())[:MAX_QUERY_LENGTH].rstrip()


def parser(schema, group=AndGroup):
    qp = MultifieldParser(["text"], schema, group=group)
    for plugin in (FieldsPlugin, WildcardPlugin, BoostPlugin, RangePlugin):
        qp.remove_plugin_class(plugin)
    return qp


def parse(text: str, schema, group=AndGroup):
    """The query tree of what a visitor typed."""
    try:
        parsed = parser(schema, group).parse(text)
    except Exception:  # whoosh's parser has many failure modes; plain words never fail
        logger.warning("query parse failed, searching plain words: %r", text)
        parsed = None
    if parsed is None or parsed is query.NullQuery:
        words = " ".join(re.sub(r"[\"()]", " ", text).split())
        parsed = parser(schema, group).parse(words)
    return parsed


def search(text, *, lang=None, prefer_lang=None, kind=None, tag=None, page=1, page_size=PAGE_SIZE):
    """Search the current articles. Never raises for any user input."""
    text = clean_query(text)
    results = Results(query=text, page=max(1, page))
    if not text:
        return results
    try:
        index.catch_up()
        s = index.searcher()
    except Exception as exc:  # a lost or corrupt index: try once to rebuild it
        logger.exception("search index unavailable; rebuilding")
        try:
            index.rebuild()
            s = index.searcher()
        except Exception:
            raise SearchUnavailable(str(exc)) from exc
    q = parse(text, s.schema)
    run(s, q, results, lang, prefer_lang, kind, tag, page_size)
    if results.total == 0:
        results.suggestion = suggest(s, text)
        relaxed = parse(text, s.schema, group=OrGroup)
        if relaxed != q:
            run(s, relaxed, results, lang, prefer_lang, kind, tag, page_size)
            results.relaxed = results.total > 0
    return results


def run(s, q, results, lang, prefer_lang, kind, tag, page_size):
    """One page of hits. With a preferred language, all its hits come first, then the
    others'; scores are BM25 over the whole index either way."""
    data = Searchable.of(s)
    if prefer_lang in languages.codes() and not lang:
        order = [prefer_lang, *languages.others(prefer_lang)]
        groups = [data.filter(code, kind, tag) for code in order]
    else:
        groups = [data.filter(lang, kind, tag)]
    match = evaluate(q, data)
    start = (results.page - 1) * page_size
    page, total = ranking.ranked(match, groups, start, start + page_size)
    results.total = total
    results.pages = (total + page_size - 1) // page_size
    highlights = Highlights(q, data)
    results.hits = [make_hit(s, docnum, float(match.score[docnum]), highlights) for docnum in page]


def make_hit(s, docnum, score, highlights):
    stored = s.stored_fields(docnum)
    return Hit(
        slug=stored["slug"],
        lang=stored["lang"],
        kind=stored["kind"],
        title=stored["title"],
        snippet=highlights.snippet(docnum, stored["title"], stored["body"]),
        score=round(score, 3),
        revision=stored["revision"],
        published=stored.get("published", ""),
    )
