"""Full-text search: the only module that imports whoosh.

One bilingual index holds the current revision of each article per language. Text is
analysed in three passes that share positions, so phrase queries work across them:

* ASCII runs (identifiers, English words) are cut out first: an identifier such as
  ``VMExtensionProvisioningError`` or ``168.63.129.16`` is indexed whole and as its
  CamelCase/punctuation parts, so both the whole string and ``ProvisioningError`` find it;
  plain English words are lower-cased and stemmed ("extensions" finds "extension").
* The Japanese in between goes to SudachiPy (split mode A, normalised forms, so サーバ and
  サーバー are one word).
* Multi-token words in a query become phrases (「更新中」 = 更新 followed by 中).

The index is derived data: ``rebuild`` makes it from the database, and every process keeps
its copy current by applying the import runs it has not seen yet (``catch_up``).
"""

import logging
import re
import shutil
import threading
import unicodedata
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import nh3
from django.conf import settings
from django.utils.html import escape
from sudachipy import dictionary as sudachi_dictionary
from sudachipy import tokenizer as sudachi_tokenizer
from whoosh import highlight, index, query
from whoosh.analysis import STOP_WORDS, RegexTokenizer, Token, Tokenizer
from whoosh.analysis.filters import LowercaseFilter
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.idsets import BitSet
from whoosh.lang.porter import stem
from whoosh.qparser import (
    AndGroup,
    BoostPlugin,
    FieldsPlugin,
    MultifieldParser,
    OrGroup,
    RangePlugin,
    WildcardPlugin,
)

from kb import caching

logger = logging.getLogger(__name__)

FIELD_BOOSTS = {"title": 4.0, "headings": 2.0, "body": 1.0}
MAX_QUERY_LENGTH = 300
PAGE_SIZE = 10
SNIPPET_CHARS = 160
ASCII_RUN = re.compile(r"[\x21-\x7e]+")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CAMEL_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
PLAIN_WORD = re.compile(r"^[A-Za-z][a-z]*$|^[A-Z]+$")
SKIPPED_POS = {"補助記号", "空白"}
SUDACHI_CHUNK = 8000
MAX_JOINED = 5  # identifier parts joined into single terms (see ascii_terms)
JOIN = "\u00b7"  # a character the analyzer never produces otherwise
INDEX_FORMAT = "2"  # bump when analysis changes: older indexes are rebuilt on open  # Sudachi refuses inputs over ~49 KB; keep well below in characters


# -- analysis -----------------------------------------------------------------------------


_local = threading.local()


def sudachi():
    if not hasattr(_local, "sudachi"):
        _local.sudachi = sudachi_dictionary.Dictionary().tokenizer()
    return _local.sudachi


def normalize_char(char):
    folded = unicodedata.normalize("NFKC", char)
    return folded if len(folded) == 1 else char


def normalize(text: str) -> str:
    """NFKC one character at a time, so offsets stay those of the original text."""
    return "".join(normalize_char(c) for c in text) if not text.isascii() else text


def ascii_terms(run: str, mode: str):
    """(term, start, end, same position as previous) for one ASCII run: a word, or an
    identifier. An identifier is indexed whole, as its parts, and as every run of 2 to
    MAX_JOINED consecutive parts joined into one term, so that a query for the identifier
    or for a piece of it (``ProvisioningError``, ``waagent.log``) is one term lookup
    instead of a slow phrase of parts."""
    stripped = run.strip("\"'()[]{}<>,;:!?.`*=|")
    if not stripped:
        return []
    offset = run.index(stripped)
    if PLAIN_WORD.match(stripped):
        word = stripped.lower()
        return [] if word in STOP_WORDS else [(stem(word), offset, offset + len(stripped), False)]
    parts = [(m.group(0).lower(), offset + m.start(), offset + m.end()) for m in CAMEL_PARTS.finditer(stripped)]
    parts = [(stem(t) if t.isalpha() else t, s, e) for t, s, e in parts]
    whole = (stripped.lower(), offset, offset + len(stripped), False)
    if len(parts) <= 1:
        return [whole] if not parts or parts[0][0] != whole[0] else [(*parts[0], False)]
    if mode == "query":
        if len(parts) <= MAX_JOINED:
            return [(JOIN.join(t for t, _, _ in parts), parts[0][1], parts[-1][2], False)]
        return [(t, s, e, False) for t, s, e in parts]
    found = [whole]
    for i, (term, start, end) in enumerate(parts):
        found.append((term, start, end, i == 0))
        for length in range(2, min(MAX_JOINED, len(parts) - i) + 1):
            run_parts = parts[i : i + length]
            found.append((JOIN.join(t for t, _, _ in run_parts), start, run_parts[-1][2], True))
    return found


def japanese_terms(segment: str):
    if segment.isspace():  # the space between two English words: nothing for Sudachi
        return
    for start in range(0, len(segment), SUDACHI_CHUNK):
        chunk = segment[start : start + SUDACHI_CHUNK]
        for morpheme in sudachi().tokenize(chunk, sudachi_tokenizer.Tokenizer.SplitMode.A):
            if morpheme.part_of_speech()[0] in SKIPPED_POS:
                continue
            yield morpheme.normalized_form().lower(), start + morpheme.begin(), start + morpheme.end()


def terms(text: str, mode: str = "index", japanese=japanese_terms):
    """(term, start, end, same position as previous) over a text, in order. ``japanese``
    tokenises the text between ASCII runs (bench/analyzers.py swaps it to compare)."""
    text = normalize(text)
    cursor = 0
    for match in ASCII_RUN.finditer(text):
        if match.start() > cursor:
            for term, start, end in japanese(text[cursor : match.start()]):
                yield term, cursor + start, cursor + end, False
        for term, start, end, same_position in ascii_terms(match.group(0), mode):
            yield term, match.start() + start, match.start() + end, same_position
        cursor = match.end()
    if cursor < len(text):
        for term, start, end in japanese(text[cursor:]):
            yield term, cursor + start, cursor + end, False


class HybridTokenizer(Tokenizer):
    def terms(self, value, mode):
        return terms(value, mode)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):  # fmt: skip
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost, token.stopped = 1.0, False
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        position = start_pos - 1
        for term, start, end, same_position in self.terms(value, mode):
            if not same_position:
                position += 1
            token.text = term
            token.boost, token.stopped = 1.0, False
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = position
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


def analyzer():
    return HybridTokenizer() | LowercaseFilter()


def schema():
    text = analyzer()
    return Schema(
        key=ID(unique=True, stored=True),
        slug=ID(stored=True),
        lang=ID(stored=True),
        kind=ID(stored=True),
        tags=KEYWORD(stored=True, commas=True, lowercase=True),
        revision=NUMERIC(stored=True),
        # multitoken_query="phrase": 更新中 (更新 + 中) must match as a phrase, not anywhere.
        title=TEXT(analyzer=text, stored=True, field_boost=FIELD_BOOSTS["title"], multitoken_query="phrase"),
        headings=TEXT(analyzer=text, field_boost=FIELD_BOOSTS["headings"], multitoken_query="phrase"),
        body=TEXT(analyzer=text, stored=True, chars=True, multitoken_query="phrase"),
        published=STORED(),
        # Unstemmed English words, only for "did you mean" suggestions.
        spelling=TEXT(analyzer=RegexTokenizer(r"[A-Za-z]{4,}") | LowercaseFilter(), phrase=False),
    )


# -- documents ----------------------------------------------------------------------------


def plain_text(html: str) -> str:
    text = re.sub(r"</(p|li|h\d|tr|pre|div|blockquote)>", "\n", html)
    return unescape(nh3.clean(text, tags=set())).strip()


def document(revision):
    article = revision.article
    return {
        "key": f"{article.slug}:{revision.lang}",
        "slug": article.slug,
        "lang": revision.lang,
        "kind": article.kind,
        "tags": ",".join(tag.name for tag in article.tags.all()),
        "revision": revision.number,
        "title": revision.title,
        "headings": "\n".join(h["text"] for h in revision.headings),
        "body": plain_text(revision.html),
        "published": revision.published_at.date().isoformat() if revision.published_at else "",
        "spelling": revision.title + "\n" + plain_text(revision.html),
    }


def indexable(slugs=None):
    from kb.models import Revision

    revisions = Revision.objects.current().visible().select_related("article").prefetch_related("article__tags")
    if slugs is not None:
        revisions = revisions.filter(article__slug__in=list(slugs))
    return revisions.order_by("pk").iterator(chunk_size=500)


# -- index lifecycle ----------------------------------------------------------------------


def index_dir() -> Path:
    return Path(settings.KB_INDEX_DIR)


def marker_path(directory: Path) -> Path:
    return directory / "applied_import_run"


def read_marker(directory: Path) -> int:
    try:
        return int(marker_path(directory).read_text())
    except (OSError, ValueError):
        return 0


def rebuild(directory: Path | None = None, *, procs: int = 1) -> int:
    """Build a fresh index next to the live one, then swap it in; readers are never blocked."""
    directory = directory or index_dir()
    directory.parent.mkdir(parents=True, exist_ok=True)
    building = directory.with_name(directory.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    caching.forget_content_version()
    run_id = caching.content_version()
    ix = index.create_in(building, schema())
    # compound=False: whoosh copies a compound segment into memory on every reader open.
    options = {"limitmb": 256, "compound": False}
    writer = ix.writer(procs=procs, multisegment=True, **options) if procs > 1 else ix.writer(**options)
    count = 0
    for revision in indexable():
        writer.add_document(**document(revision))
        count += 1
    writer.commit()
    marker_path(building).write_text(str(run_id))
    (building / "format").write_text(INDEX_FORMAT)
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        directory.rename(old)
    building.rename(directory)
    shutil.rmtree(old, ignore_errors=True)
    forget_searchers()
    return count


def update(slugs) -> int:
    """Re-index the given articles (both languages) in place."""
    ix = open_index()
    writer = ix.writer(timeout=30, compound=False)
    try:
        for slug in slugs:
            writer.delete_by_term("slug", slug)
        count = 0
        for revision in indexable(slugs):
            writer.add_document(**document(revision))
            count += 1
    except Exception:
        writer.cancel()
        raise
    writer.commit()
    return count


def catch_up(force: bool = False) -> int:
    """Apply the import runs this process's index has not seen. Cheap when there are none:
    the content version is read from the database at most once a second (kb.caching), the
    same version that keys cached pages, so a page is never cached with an older index."""
    from kb.models import ImportRun

    if force:
        caching.forget_content_version()
    directory = index_dir()
    if not usable(directory):
        rebuild(directory)
        return -1
    applied = read_marker(directory)
    if caching.content_version() <= applied:
        return 0
    runs = list(ImportRun.objects.filter(pk__gt=applied).order_by("pk").values_list("pk", "changed_slugs"))
    if not runs:
        return 0
    slugs = sorted({slug for _pk, changed in runs for slug in changed})
    update(slugs)
    marker_path(directory).write_text(str(runs[-1][0]))
    return len(slugs)


def usable(directory: Path) -> bool:
    """An index exists there and was built by this version of the analysis."""
    try:
        return index.exists_in(directory) and (directory / "format").read_text() == INDEX_FORMAT
    except OSError:
        return False


def open_index():
    directory = index_dir()
    if not usable(directory):
        rebuild(directory)
    return index.open_dir(directory)


def forget_searchers():
    _local.searcher = None


def searcher():
    """A searcher per thread, reused across requests and refreshed when the index changed."""
    current = getattr(_local, "searcher", None)
    if current is not None and current.up_to_date():
        return current
    # Not Searcher.refresh(): it reuses segment readers and misses deletions made in them.
    if current is not None:
        current.close()
    _local.searcher = open_index().searcher()
    return _local.searcher


# -- querying -----------------------------------------------------------------------------


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
    return " ".join(text.split())[:MAX_QUERY_LENGTH]


def parser(schema_, group=AndGroup):
    qp = MultifieldParser(["title", "headings", "body"], schema_, group=group)
    for plugin in (FieldsPlugin, WildcardPlugin, BoostPlugin, RangePlugin):
        qp.remove_plugin_class(plugin)
    return qp


def parse(text: str, schema_, group=AndGroup):
    try:
        parsed = parser(schema_, group).parse(text)
    except Exception:  # whoosh's parser has many failure modes; plain words never fail
        logger.warning("query parse failed, searching plain words: %r", text)
        parsed = None
    if parsed is None or parsed is query.NullQuery:
        words = " ".join(re.sub(r"[\"()]", " ", text).split())
        parsed = parser(schema_, group).parse(words)
    return parsed


def filters(s, lang=None, kind=None, tag=None):
    """The documents a filter allows, as a set of document numbers computed once per searcher
    (whoosh would otherwise rebuild it from the query on every search)."""
    parts = []
    if lang in ("ja", "en"):
        parts.append(query.Term("lang", lang))
    if kind:
        parts.append(query.Term("kind", kind))
    if tag:
        parts.append(query.Term("tags", tag.lower()))
    if not parts:
        return None
    cache = s.__dict__.setdefault("_kb_filters", {})
    key = (lang, kind, tag)
    if key not in cache:
        if len(cache) > 256:
            cache.clear()
        cache[key] = BitSet(s.docs_for_query(query.And(parts)), size=s.doc_count_all())
    return cache[key]


def search(text, *, lang=None, prefer_lang=None, kind=None, tag=None, page=1, page_size=PAGE_SIZE):
    """Search the current articles. Never raises for any user input."""
    text = clean_query(text)
    results = Results(query=text, page=max(1, page))
    if not text:
        return results
    try:
        catch_up()
        s = searcher()
    except Exception as exc:  # a lost or corrupt index: try once to rebuild it
        logger.exception("search index unavailable; rebuilding")
        try:
            rebuild()
            s = searcher()
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
    """One page of hits. With a preferred language, its hits come first, then the other's:
    two ranked searches whose lists are concatenated, so scores stay real scores."""
    if prefer_lang in ("ja", "en") and lang not in ("ja", "en"):
        other = "en" if prefer_lang == "ja" else "ja"
        parts = [filters(s, prefer_lang, kind, tag), filters(s, other, kind, tag)]
    else:
        parts = [filters(s, lang, kind, tag)]
    start = (results.page - 1) * page_size
    end = start + page_size
    hits, total = [], 0
    for part in parts:
        limit = max(end - total, 1)
        found = s.search(q, filter=part, limit=limit, terms=True)
        found.fragmenter = highlight.PinpointFragmenter(maxchars=SNIPPET_CHARS, surround=60, autotrim=True)
        found.formatter = MarkFormatter()
        window = range(max(start - total, 0), min(end - total, found.scored_length()))
        hits += [make_hit(found[i]) for i in window]
        total += exact_count(s, q, part, found, limit)
    results.total = total
    results.pages = (total + page_size - 1) // page_size
    results.hits = hits


def exact_count(s, q, part, found, limit):
    """len() of a limited, filtered whoosh result can count documents the filter removed;
    count exactly, and only when the top-N did not already collect every match."""
    if found.scored_length() < limit:
        return found.scored_length()
    return len(s.search(q, filter=part, limit=None, scored=False))


ADJACENT_MARKS = re.compile(r"</mark>([.\-_/:\\]{1,2})<mark>")
SPACES = re.compile(r"\s+")


def make_hit(hit):
    snippet = hit.highlights("body", top=2) or escape(hit["body"][:SNIPPET_CHARS])
    # 168.63.129.16 matches as four parts: mark it as one.
    snippet = SPACES.sub(" ", ADJACENT_MARKS.sub(r"\1", snippet))
    return Hit(
        slug=hit["slug"], lang=hit["lang"], kind=hit["kind"], title=hit["title"], snippet=snippet,
        score=round(hit.score or 0.0, 3), revision=hit["revision"], published=hit.get("published", ""),
    )  # fmt: skip


class MarkFormatter(highlight.Formatter):
    between = " … "

    def format_token(self, text, token, replace=False):
        return f"<mark>{escape(highlight.get_text(text, token, replace))}</mark>"

    def format_fragment(self, fragment, replace=False):
        output, index_ = [], fragment.startchar
        text = fragment.text
        for token in fragment.matches:
            if token.startchar < index_:
                continue
            output.append(escape(text[index_ : token.startchar]))
            output.append(self.format_token(text, token, replace))
            index_ = token.endchar
        output.append(escape(text[index_ : fragment.endchar]))
        return "".join(output)


def suggest(s, text):
    """A "did you mean" for English words the index does not know; "" when none."""
    corrector = s.corrector("spelling")
    reader = s.reader()
    words, changed = text.split(), False
    for index_, word in enumerate(words):
        lowered = word.lower()
        if not re.fullmatch(r"[a-z]{4,}", lowered) or reader.frequency("spelling", lowered):
            continue
        found = corrector.suggest(lowered, limit=1, maxdist=2)
        if found:
            words[index_], changed = found[0], True
    return " ".join(words) if changed else ""
