"""A search as visitors make it: clean the query, parse it, match, rank, page, snippet.

whoosh parses the query; matching and BM25 ranking run over whole posting lists as arrays
(``kb.search.ranking``), which is what keeps a query fast when thousands of documents
match. Nothing a visitor types can raise out of ``search``.
"""

import functools
import logging
import re
from dataclasses import dataclass, field, replace

import numpy as np
from django.db import DatabaseError
from whoosh import query
from whoosh.qparser import (
    AndGroup,
    BoostPlugin,
    EveryPlugin,
    FieldsPlugin,
    MultifieldParser,
    OrGroup,
    RangePlugin,
    SingleQuotePlugin,
    WildcardPlugin,
)

from kb import languages
from kb.search import bridge, index, ranking
from kb.search.analysis import identifier_parts, split_variants
from kb.search.analysis import terms as analysis_terms
from kb.search.matching import as_typed, evaluate, phrase, proximity, ranked
from kb.search.segments import Searchable
from kb.search.snippets import Highlights
from kb.search.suggestions import correct, suggest
from kb.search.whoosh_private import kept_on

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 300
PAGE_SIZE = 10
OTHER_LANGUAGE = 0.75  # a text not in the query's language: preferred less, not refused
AS_TYPED = 1.5  # a text that holds the query as typed (each typed word, a Japanese one as a phrase)
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
    exact: bool = True  # every word as typed; False when found only through the ranked reading
    bridged: list = field(default_factory=list)  # (words of the query, form found) where only the bridge matched


WEAK_MATCH = 0.5  # at most this share of the query answered, the hits are not called answers
# Below this share, "no article contains all of your words" is worth saying; above it the
# first hit holds what matters and the notice would only cast doubt on the right answer.
PARTLY_ANSWERED = 0.8


@dataclass
class Results:
    query: str
    total: int = 0
    page: int = 1
    pages: int = 0
    hits: list = field(default_factory=list)
    suggestion: str = ""
    relaxed: bool = False  # True when no text holds every word
    corrected: str = ""  # the query searched instead of ``query``, whose words no text holds
    answered: float = 1.0  # the share of the query the first hit's article answers (``matching.Ranked``)
    boolean: bool = False  # read as typed (NOT, nested groups), not by the ranked reading
    error: str = ""

    @property
    def weak(self) -> bool:
        """Whether even the first hit answers no more than half of what the query asks for: no
        article seems to be about it, the hits only share some of its words."""
        return self.total > 0 and self.answered <= WEAK_MATCH

    @property
    def answers(self) -> list:
        """The hits, unless they only share a word with the query (``weak``): what a page that
        offers "articles that match your words" lists."""
        return [] if self.weak else self.hits

    @property
    def partly(self) -> bool:
        """Whether to say that no article holds every word: none does, and the first hit's
        article leaves out a good part of the query (but not most of it: ``weak``)."""
        return self.relaxed and (self.boolean or WEAK_MATCH < self.answered < PARTLY_ANSWERED)


# The colon of an address pasted with its port (168.63.129.16:32526, myvm.example.com:3389)
# joins two things a text most often writes apart.
PASTED_PORT = re.compile(r"((?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]+):([0-9]{1,5})\b")


def split_pasted(text: str) -> str:
    """The query with a pasted ``address:port`` as two words."""
    return PASTED_PORT.sub(r"\1 \2", text)


def clean_query(text: str) -> str:
    """The query as searched: control characters and runs of spaces as one space, at most
    MAX_QUERY_LENGTH characters, not ending in a cut English word ("provisi" would be
    "corrected" into another word)."""
    text = " ".join(CONTROL.sub(" ", text or "").split())
    if len(text) <= MAX_QUERY_LENGTH:
        return text
    kept = text[:MAX_QUERY_LENGTH]
    head, _space, last = kept.rpartition(" ")
    if head and last.isascii() and text[MAX_QUERY_LENGTH] != " ":
        kept = head
    return kept.rstrip()


def parser(schema, group=AndGroup):
    """whoosh's parser with only what visitors mean: words, "phrases", (groups) and
    AND/OR/NOT. Fields, wildcards, boosts, ranges, 'single quotes' and *:* read as plain words."""
    qp = MultifieldParser(["text"], schema, group=group)
    for plugin in (FieldsPlugin, WildcardPlugin, BoostPlugin, RangePlugin, EveryPlugin, SingleQuotePlugin):
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


@dataclass(frozen=True)
class Query:
    """What a visitor asks for: the cleaned text, the filters and the page."""

    text: str
    lang: str | None = None  # only texts in this language
    prefer_lang: str | None = None  # the visitor's language, when not filtering by one
    kind: str | None = None
    tag: str | None = None
    page: int = 1
    page_size: int = PAGE_SIZE


def search(text, *, lang=None, prefer_lang=None, kind=None, tag=None, page=1, page_size=PAGE_SIZE, as_typed=False):
    """Search the current articles. Never raises for any user input. A word no text holds is
    corrected and the corrected query searched at once (``Results.corrected``), and when
    nothing is found an identifier no text holds is searched as its words, unless
    ``as_typed``."""
    asked = Query(clean_query(text), lang, prefer_lang, kind, tag, max(1, page), page_size)
    if not asked.text:
        return Results(query=asked.text, page=asked.page)
    try:
        index.catch_up()
    except DatabaseError:  # the database is away: search what the index holds
        logger.exception("could not catch up with the database; searching the index as it is")
    s = index.searcher()  # SearchRebuilding when there is no index yet
    corrected = "" if as_typed else correction(s, asked.text)
    if corrected:
        results = search_once(s, replace(asked, text=corrected))
        if results.total:
            results.query, results.corrected = asked.text, corrected
            return results
    results = search_once(s, asked)
    parts = "" if results.total or as_typed else identifier_parts(corrected or asked.text)
    if parts and parts != asked.text:  # nothing found, and a near-miss identifier: its words
        by_parts = search_once(s, replace(asked, text=parts))
        if by_parts.total:
            by_parts.query, by_parts.corrected = asked.text, parts
            return by_parts
    return results


def search_once(s, asked: Query) -> Results:
    terms = bridge.current()
    variants = split_variants(asked.text)
    typed = split_pasted(asked.text)
    q = rewritten(parse(typed, s.schema), variants, terms, typed)
    results = run(s, q, asked)
    if results.total == 0:
        results.suggestion = suggest(index.index_dir(), asked.text)
    if results.total == 0 and not q.slots:
        relaxed = rewritten(parse(typed, s.schema, group=OrGroup), variants, terms, typed)
        if relaxed.direct != q.direct:
            suggestion = results.suggestion
            results = run(s, relaxed, asked)
            results.relaxed, results.suggestion = results.total > 0, suggestion
    return results


def katakana_words(s) -> list:
    """The katakana words of the index (for correcting a katakana typo), read once per
    searcher."""
    return kept_on(s, "_kb_katakana", lambda s: sorted(w for w in s.reader().field_terms("text") if KATAKANA.match(w)))


KATAKANA = re.compile(r"[ァ-ヴ][ァ-ヴー]{3,}$")


def correction(s, text: str) -> str:
    """The query with its unknown words corrected from the index's own words
    (``suggestions.correct``), or "" when none needed it."""
    data = Searchable.of(s)

    def frequency(word):
        found = [term for term, *_ in analysis_terms(word, "query")]
        return int(data.having("text", found[0]).sum()) if len(found) == 1 else 0

    def known_reading(run):
        words = [term for term, *_ in analysis_terms(run, "query")]
        return bool(words) and bool(phrase(query.Phrase("text", words), data).mask.any())

    def filler(word):
        return bridge.stem(word) in bridge.FILLER

    corrected = correct(index.index_dir(), text, frequency, known_reading, lambda: katakana_words(s), filler)
    return corrected if corrected != text else ""


def rewritten(parsed, variants, terms, text) -> bridge.Rewritten:
    return bridge.rewrite(parsed, terms, text, variants)


def run(s, q: bridge.Rewritten, asked: Query) -> Results:
    """One page of hits, by score: the ranked reading (``matching.ranked``: BM25 of the slots
    a text holds, bridged forms at ``bridge.BRIDGE_WEIGHT``, times its coverage), texts not
    in the query's language at OTHER_LANGUAGE, those holding the query as typed at AS_TYPED,
    the best re-ranked by proximity; a query with NOT or nested groups as typed. For a visitor
    with a language and no language filter, one text per article: the visitor's when it
    matches, scored as the article's best text."""
    data = Searchable.of(s)
    own = data.filter(query_language(q))
    everything = data.filter(asked.lang or None, asked.kind, asked.tag)
    complete = True
    if q.slots:
        reading = ranked(q.slots, data)
        match, coverage = reading.match, reading.coverage
        match = ranking.Match(match.mask, match.score * np.where(own, 1.0, OTHER_LANGUAGE))
        typed = as_typed(q.direct, data, match, everything)
        match = proximity(
            q.slots, data, ranking.Match(match.mask, match.score * np.where(typed, AS_TYPED, 1.0)), everything
        )
        complete = bool((coverage >= 0.999).any())
    else:
        direct = evaluate(q.direct, data)
        match, typed = direct, direct.mask
    if asked.prefer_lang in languages.codes() and not asked.lang:
        match = one_text_per_article(match, everything, data, asked.prefer_lang)
    start = (asked.page - 1) * asked.page_size
    page, total = ranking.ranked(match, [everything], start, start + asked.page_size)
    highlights = Highlights(q.nodes(), data, q.light)
    hits = [make_hit(s, docnum, float(match.score[docnum]), highlights) for docnum in page]
    indirect = [docnum for docnum in page if not typed[docnum]]
    bridged = bridged_only([slot.bridged for slot in q.slots if slot.bridged], data, indirect)
    for hit, docnum in zip(hits, page, strict=True):
        if docnum in bridged:
            hit.exact = False
            hit.bridged = bridged[docnum]
    pages = (total + asked.page_size - 1) // asked.page_size
    answered = float(reading.answered[data.articles == data.articles[page[0]]].max()) if q.slots and len(page) else 1.0
    return Results(
        query=asked.text,
        total=total,
        page=asked.page,
        pages=pages,
        hits=hits,
        relaxed=total > 0 and not complete,
        answered=answered,
        boolean=not q.slots,
    )


def query_language(q: bridge.Rewritten) -> str:
    """The language a query is written in, as far as its letters tell: a Latin-script one
    (English) when it has only ASCII, else the source language (Japanese)."""
    latin = languages.latin_script()
    return latin[0] if q.latin and latin else languages.source()


def one_text_per_article(match, among, data: Searchable, visitor_lang) -> ranking.Match:
    """The match with one text per article: the one in the visitor's language if it matches,
    else the best; scored as the best of the article's texts."""
    matched = np.flatnonzero(match.mask & among)
    if not matched.size:
        return match
    articles, scores = data.articles[matched], match.score[matched]
    theirs = data.filter(visitor_lang)[matched]
    order = np.lexsort((-scores, ~theirs, articles))  # per article: the visitor's first, then by score
    first = np.ones(order.size, dtype=bool)
    first[1:] = articles[order][1:] != articles[order][:-1]
    best = np.zeros(order.size)
    np.maximum.at(best, np.searchsorted(articles[order][first], articles[order]), scores[order])
    kept = matched[order][first]
    mask = np.zeros(data.size, dtype=bool)
    mask[kept] = True
    score = np.zeros(data.size)
    score[kept] = best[: kept.size]
    return ranking.Match(mask, score)


def bridged_only(concepts, data: Searchable, docnums) -> dict:
    """docnum → (the query's words, the form found) for each concept the text holds only in
    another form. Each form is looked up once for the whole page."""

    page = np.zeros(data.size, dtype=bool)
    page[docnums] = True

    @functools.cache
    def holders(key):
        return phrase(query.Phrase("text", list(key)), data, within=page).mask

    found = {docnum: [] for docnum in docnums}
    for key, written, forms in concepts:
        for docnum in docnums:
            if holders(key)[docnum]:
                continue
            form = next((form for form in forms if holders(form.key)[docnum]), None)
            if form and form.text != written:  # (not just the typed form split another way)
                found[docnum].append((written, form.text))
    return found


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
