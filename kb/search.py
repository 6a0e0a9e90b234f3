"""Full-text search: the only module that imports whoosh.

One bilingual index holds the current revision of each article per language. Text is
analysed in three passes that share positions:

* ASCII runs (identifiers, English words) are cut out first: an identifier such as
  ``VMExtensionProvisioningError`` or ``168.63.129.16`` is indexed whole and as its
  CamelCase/punctuation parts, so both the whole string and ``ProvisioningError`` find it;
  plain English words are lower-cased and stemmed ("extensions" finds "extension").
* The Japanese in between goes to SudachiPy (split mode A, normalised forms, so サーバ and
  サーバー are one word).
* A query word the analyzer splits, such as 「更新中」 (更新 followed by 中), is a phrase. Each
  document keeps its words in order as an array of hashes (and their characters, for
  snippets), so a phrase is found by comparing arrays, not by reading positions.

Title and body are analysed once, as one text; the words of the title and of the headings are
also indexed on their own, so that a match there adds to the score. whoosh stores the index
and parses queries; matching and BM25 ranking run over whole posting lists as arrays
(``kb.ranking``), which is what keeps a query fast when thousands of documents match. The index is derived data: ``rebuild`` makes it from the database, and every process
keeps its copy current by applying the import runs it has not seen yet (``catch_up``).
"""

import fcntl
import logging
import os
import re
import shutil
import threading
import unicodedata
import zlib
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape
from pathlib import Path

import nh3
import numpy as np
from django.conf import settings
from django.utils.html import escape
from sudachipy import dictionary as sudachi_dictionary
from sudachipy import tokenizer as sudachi_tokenizer
from whoosh import highlight, index, query
from whoosh.analysis import STOP_WORDS, RegexTokenizer, Token, Tokenizer
from whoosh.analysis.filters import LowercaseFilter
from whoosh.codec.whoosh3 import W3Codec
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, FieldType, Schema
from whoosh.formats import Frequency
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

from kb import caching, ranking

logger = logging.getLogger(__name__)

FIELD_WEIGHTS = {"in_title": 4.0, "in_headings": 2.0}  # added to the score of the whole text
SCORED_FIELDS = ("text", *FIELD_WEIGHTS)
MAX_QUERY_LENGTH = 300
PAGE_SIZE = 10
SNIPPET_CHARS = 160
ASCII_RUN = re.compile(r"[\x21-\x7e]+")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CAMEL_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
PLAIN_WORD = re.compile(r"^[A-Za-z][a-z]*$|^[A-Z]+$")
SKIPPED_POS = {"補助記号", "空白"}
SUDACHI_CHUNK = 8000  # Sudachi refuses inputs over ~49 KB; keep well below in characters
MAX_JOINED = 5  # identifier parts joined into single terms (see ascii_terms)
JOIN = "\u00b7"  # a character the analyzer never produces otherwise
INDEX_FORMAT = "4"  # bump when analysis or schema change: older indexes are rebuilt on open
PARALLEL_BUILD_MIN = 2000  # documents from which a rebuild uses several processes


# -- analysis -----------------------------------------------------------------------------


_local = threading.local()


def sudachi():
    if not hasattr(_local, "sudachi"):
        _local.sudachi = sudachi_dictionary.Dictionary().tokenizer()
    return _local.sudachi


class SingleCharNFKC(dict):
    """A str.translate table: each character to its NFKC form when that is one character
    (full-width ＡＢＣ, half-width ｶﾅ), so offsets stay those of the original text."""

    def __missing__(self, code):
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char)
        self[code] = folded if len(folded) == 1 else char
        return self[code]


NFKC_TABLE = SingleCharNFKC()


def normalize(text: str) -> str:
    return text if text.isascii() else text.translate(NFKC_TABLE)


@lru_cache(maxsize=100_000)
def ascii_terms(run: str, mode: str) -> tuple:
    """(term, start, end, same position as previous) for one ASCII run: a word, or an
    identifier. An identifier is indexed whole, as its parts, and as every run of 2 to
    MAX_JOINED consecutive parts joined into one term, so that a query for the identifier
    or for a piece of it (``ProvisioningError``, ``waagent.log``) is one term lookup
    instead of a slow phrase of parts."""
    stripped = run.strip("\"'()[]{}<>,;:!?.`*=|")
    if not stripped:
        return ()
    offset = run.index(stripped)
    if PLAIN_WORD.match(stripped):
        word = stripped.lower()
        return () if word in STOP_WORDS else ((stem(word), offset, offset + len(stripped), False),)
    parts = [(m.group(0).lower(), offset + m.start(), offset + m.end()) for m in CAMEL_PARTS.finditer(stripped)]
    parts = [(stem(t) if t.isalpha() else t, s, e) for t, s, e in parts]
    whole = (stripped.lower(), offset, offset + len(stripped), False)
    if len(parts) <= 1:
        return (whole,) if not parts or parts[0][0] != whole[0] else ((*parts[0], False),)
    if mode == "query":
        if len(parts) <= MAX_JOINED:
            return ((JOIN.join(t for t, _, _ in parts), parts[0][1], parts[-1][2], False),)
        return tuple((t, s, e, False) for t, s, e in parts)
    found = [whole]
    for i, (term, start, end) in enumerate(parts):
        found.append((term, start, end, i == 0))
        for length in range(2, min(MAX_JOINED, len(parts) - i) + 1):
            run_parts = parts[i : i + length]
            found.append((JOIN.join(t for t, _, _ in run_parts), start, run_parts[-1][2], True))
    return tuple(found)


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


def analysed(value: str) -> list:
    """terms() of a text being indexed, computed once for the fields that read it."""
    cached = getattr(_local, "analysed", None)
    if cached is not None and (cached[0] is value or cached[0] == value):
        return cached[1]
    found = list(terms(value, "index"))
    _local.analysed = (value, found)
    return found


def word_hash(word: str) -> int:
    return zlib.crc32(word.encode())


def word_positions(found) -> list:
    """One (term, start, end) per position of a text, in order. Where an identifier puts
    several terms at one position, its part is kept (``standard`` of ``Standard_D2s_v3``,
    then ``d``, ``2``, …): an identifier is the run of its parts."""
    kept = []
    for term, start, end, same_position in found:
        if JOIN in term:
            continue
        if same_position and kept:
            kept[-1] = (term, start, end)
        else:
            kept.append((term, start, end))
    return kept


def run_of(words) -> np.ndarray:
    """The hashes a phrase or joined identifier term is looked for as, in sequences."""
    return np.array([word_hash(part) for word in words for part in word.split(JOIN)], dtype=np.uint32)


class RegionText(str):
    """A document's title and body as one string, with the (start, end, name) regions of the
    title and of each heading."""

    regions: tuple = ()


def region_text(title: str, body: str, headings) -> RegionText:
    text = RegionText(f"{title}\n{body}")
    regions = [(0, len(title), "title")]
    cursor = len(title) + 1
    for heading in headings:
        found = text.find(heading, cursor) if heading else -1
        if found >= 0:
            regions.append((found, found + len(heading), "headings"))
            cursor = found + len(heading)
    text.regions = tuple(regions)
    return text


def in_region(found, regions, name):
    """The terms of ``found`` (in order of their start) that start inside the regions called
    ``name``."""
    spans = [(start, end) for start, end, region in regions if region == name]
    inside, span = [], 0
    for item in found:
        while span < len(spans) and spans[span][1] <= item[1]:
            span += 1
        if span == len(spans):
            break
        if spans[span][0] <= item[1]:
            inside.append(item)
    return inside


class HybridTokenizer(Tokenizer):
    """The analysis above as a whoosh tokenizer; with ``region``, only the words of the title
    or of the headings of a RegionText."""

    region = None

    def __init__(self, region=None):
        self.region = region

    def terms(self, value, mode):
        """(bench/analyzers.py overrides this to compare Japanese analyzers.)"""
        return analysed(value) if mode == "index" else terms(value, mode)

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        found = self.terms(value, mode)
        if self.region:
            found = in_region(found, getattr(value, "regions", ()), self.region)
        position = start_pos - 1
        for term, start, end, same_position in found:
            if not same_position:
                position += 1
            token.text = term
            token.boost, token.stopped = 1.0, False  # the token is reused: undo any filter's marks
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = position
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


class Sequence(COLUMN):
    """A column of each document's words in order (word_positions): their hashes, which
    phrases are checked against, or their (start, end) characters, which snippets mark.
    Computed by the writer, in the process that analyses the text."""

    def __init__(self, part):
        super().__init__(VarBytesColumn())
        self.part = part

    def to_column_value(self, value):
        kept = word_positions(analysed(value))
        if self.part == "hashes":
            return np.array([word_hash(term) for term, _start, _end in kept], dtype=np.uint32).tobytes()
        return np.array([(start, end) for _term, start, end in kept], dtype=np.uint32).tobytes()


def schema():
    return Schema(
        key=ID(unique=True, stored=True),
        slug=ID(stored=True),
        lang=ID(stored=True),
        kind=ID(stored=True),
        tags=KEYWORD(stored=True, commas=True, lowercase=True),
        revision=NUMERIC(stored=True),
        title=STORED(),
        body=STORED(),
        published=STORED(),
        # Title, headings and body. multitoken_query="phrase": 更新中 (更新 + 中) must match
        # as neighbours, not anywhere; the sequences below say where words stand, so the
        # postings need no positions (phrase=False).
        text=TEXT(analyzer=HybridTokenizer(), phrase=False, multitoken_query="phrase"),
        in_title=FieldType(Frequency(), HybridTokenizer("title"), scorable=True),
        in_headings=FieldType(Frequency(), HybridTokenizer("headings"), scorable=True),
        sequence=Sequence("hashes"),
        offsets=Sequence("characters"),
        # Unstemmed English words, only for "did you mean" suggestions.
        spelling=TEXT(analyzer=RegexTokenizer(r"[A-Za-z]{4,}") | LowercaseFilter(), phrase=False),
    )


# -- documents ----------------------------------------------------------------------------


def plain_text(html: str) -> str:
    text = re.sub(r"</(p|li|h\d|tr|pre|div|blockquote)>", "\n", html)
    return unescape(nh3.clean(text, tags=set())).strip()


def document(revision):
    article = revision.article
    body = plain_text(revision.html)
    text = region_text(revision.title, body, [h["text"] for h in revision.headings])
    return {
        "key": f"{article.slug}:{revision.lang}",
        "slug": article.slug,
        "lang": revision.lang,
        "kind": article.kind,
        "tags": ",".join(tag.name for tag in article.tags.all()),
        "revision": revision.number,
        "title": revision.title,
        "body": body,
        "published": revision.published_at.date().isoformat() if revision.published_at else "",
        "text": text,
        # The same object five times: analysed once for all five fields.
        "in_title": text,
        "in_headings": text,
        "sequence": text,
        "offsets": text,
        "spelling": f"{revision.title}\n{body}",
    }


def indexable(slugs=None):
    from kb.models import Revision

    revisions = Revision.objects.current().visible().select_related("article").prefetch_related("article__tags")
    if slugs is not None:
        revisions = revisions.filter(article__slug__in=list(slugs))
    return revisions.order_by("pk").iterator(chunk_size=500)


# -- index lifecycle ----------------------------------------------------------------------


class Codec(W3Codec):
    """whoosh's own file format without what only whoosh's scoring reads: block statistics
    of document lengths (a column lookup per posting while writing) and zlib compression of
    posting blocks (kb.ranking reads whole posting lists; uncompressed they load faster)."""

    length_stats = False

    def __init__(self):
        super().__init__(compression=0)


# compound=False: whoosh copies a compound segment into memory on every reader open.
WRITER_OPTIONS = {"codec": Codec(), "compound": False}


def index_dir() -> Path:
    return Path(settings.KB_INDEX_DIR)


def marker_path(directory: Path) -> Path:
    return directory / "applied_import_run"


def read_marker(directory: Path) -> int:
    try:
        return int(marker_path(directory).read_text())
    except (OSError, ValueError):
        return 0


@contextmanager
def rebuilding(directory: Path):
    """One rebuild of an index folder at a time, across processes: the workers of one site
    share the folder, and each would rebuild a missing index on its first search."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.with_name(directory.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def rebuild(directory: Path | None = None, *, procs: int = 0, if_unusable: bool = False) -> int:
    """Build a fresh index next to the live one, then swap it in; readers are never blocked.
    ``procs`` 0: one process per CPU (at most 4) when there are many documents.
    ``if_unusable``: nothing to do if another process rebuilt it while this one waited."""
    directory = directory or index_dir()
    with rebuilding(directory):
        if if_unusable and usable(directory):
            return 0
        return build(directory, procs)


def build(directory: Path, procs: int) -> int:
    """The rebuild itself, under the lock."""
    building = directory.with_name(directory.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    caching.forget_content_version()
    run_id = caching.content_version()
    ix = index.create_in(building, schema())
    procs = procs or build_processes()
    options = {"limitmb": settings.KB_INDEX_BUILD_MB, **WRITER_OPTIONS}
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


def build_processes() -> int:
    from kb.models import Revision

    if Revision.objects.current().visible().count() < PARALLEL_BUILD_MIN:
        return 1
    return max(1, min(4, len(os.sched_getaffinity(0))))


def update(slugs) -> int:
    """Re-index the given articles (both languages) in place."""
    ix = open_index()
    writer = ix.writer(timeout=30, **WRITER_OPTIONS)
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
        rebuild(directory, if_unusable=True)
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
        rebuild(directory, if_unusable=True)
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


# -- posting lists as arrays --------------------------------------------------------------

EMPTY = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


class SegmentCache:
    """Arrays computed from one segment, kept under the segment's identity (a segment never
    changes once written, so they stay true across searchers); the least recently used are
    dropped beyond ``max_bytes``, and those of segments gone from the index (merged away,
    rebuilt) as soon as a searcher sees they are gone."""

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.items = OrderedDict()  # key: (arrays, bytes)
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key, compute):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key][0]
        arrays = compute()
        with self.lock:
            if key not in self.items:
                nbytes = sum(array.nbytes for array in arrays)
                self.items[key] = (arrays, nbytes)
                self.size += nbytes
            while self.size > self.max_bytes and len(self.items) > 1:
                self.size -= self.items.popitem(last=False)[1][1]
        return arrays

    def keep_only(self, folder, segment_ids):
        with self.lock:
            for key in [key for key in self.items if key[0] == folder and key[1] not in segment_ids]:
                self.size -= self.items.pop(key)[1]


POSTINGS = SegmentCache(64 * 1024 * 1024)  # a word in 5,000 documents takes 40 KB
SEQUENCES = SegmentCache(256 * 1024 * 1024)  # 4 bytes a word: ~36 MB for 10,000 articles
LENGTHS = SegmentCache(16 * 1024 * 1024)


def segment_key(reader):
    return (reader.storage().folder, reader.segment().segment_id())


def segment_postings(reader, fieldname, text):
    """(document numbers in the segment, weights) of one term."""
    return POSTINGS.get((*segment_key(reader), fieldname, text), lambda: read_postings(reader, fieldname, text))


def read_postings(reader, fieldname, text):
    if (fieldname, text) not in reader:
        return EMPTY
    matcher = reader.postings(fieldname, text)
    matcher = getattr(matcher, "child", matcher)  # not its deletions filter: see Searchable.live
    ids, weights = [], []
    if hasattr(matcher, "_next_block"):  # whoosh's own format: read a block at a time
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            matcher._next_block()
    else:
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
    return np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float32)


class Searchable:
    """One searcher's view of the index as arrays: every document is a slot numbered as in
    whoosh; ``live`` masks the deleted ones. Kept on the searcher, so it lives exactly as
    long as the index version it describes."""

    def __init__(self, s):
        self.searcher = s
        self.leaves = list(s.reader().leaf_readers())
        if self.leaves:
            folder = segment_key(self.leaves[0][0])[0]
            current = {segment_key(reader)[1] for reader, _offset in self.leaves}
            for cache in (POSTINGS, SEQUENCES, LENGTHS):
                cache.keep_only(folder, current)
        self.size = s.doc_count_all()
        self.live = np.ones(self.size, dtype=bool)
        for reader, offset in self.leaves:
            if reader.has_deletions():
                self.live[[offset + d for d in reader.deleted_docs_set]] = False
        self.collections = {name: self.collection(name) for name in SCORED_FIELDS}
        self.filters = {}
        self.terms = {}
        self.characters = {}  # segment reader id: its column of word characters

    def collection(self, fieldname):
        lengths = np.zeros(self.size, dtype=np.float64)
        for reader, offset in self.leaves:
            lengths[offset : offset + reader.doc_count_all()] = segment_lengths(reader, fieldname)
        return ranking.Collection(live=self.live, lengths=lengths)

    @classmethod
    def of(cls, s):
        if "_kb_searchable" not in s.__dict__:
            s.__dict__["_kb_searchable"] = cls(s)
        return s.__dict__["_kb_searchable"]

    def postings(self, fieldname, text):
        parts = [segment_postings(reader, fieldname, text) for reader, _offset in self.leaves]
        if len(parts) == 1:
            return parts[0]
        ids = np.concatenate([p[0] + offset for p, (_reader, offset) in zip(parts, self.leaves, strict=True)])
        return ids, np.concatenate([p[1] for p in parts])

    def term(self, text, boost=1.0) -> ranking.Match:
        """A word of the query: BM25 over the whole text, plus more where it is in the title
        or a heading (those words are in the whole text too, so the match is the same)."""
        key = (text, boost)
        if key not in self.terms:
            if len(self.terms) > 64:  # a dense array each: enough for one query and its relaxed form
                self.terms.clear()
            match = ranking.bm25(self.collections["text"], *self.postings("text", text), boost=boost)
            for fieldname, weight in FIELD_WEIGHTS.items():
                extra = ranking.bm25(self.collections[fieldname], *self.postings(fieldname, text), boost=boost)
                match.score += weight * extra.score
            self.terms[key] = match
        return self.terms[key]

    def having(self, fieldname, text) -> np.ndarray:
        ids, _weights = self.postings(fieldname, text)
        return ranking.presence(self.size, ids) & self.live

    def filter(self, lang=None, kind=None, tag=None) -> np.ndarray:
        key = (lang, kind, tag)
        if key not in self.filters:
            if len(self.filters) > 256:
                self.filters.clear()
            mask = self.live.copy()
            for fieldname, value in (("lang", lang), ("kind", kind), ("tags", tag.lower() if tag else None)):
                if value:
                    mask &= self.having(fieldname, value)
            self.filters[key] = mask
        return self.filters[key]

    def in_sequence(self, run: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Which of the candidate documents hold ``run``, as a mask."""
        mask = np.zeros(self.size, dtype=bool)
        for reader, offset in self.leaves:
            words, starts, sizes = segment_sequences(reader)
            local = np.flatnonzero(candidates[offset : offset + sizes.size])
            found = ranking.documents_with_run(words, starts[local], sizes[local], run)
            mask[local[found] + offset] = True
        return mask

    def sequence(self, docnum):
        """(word hashes, (start, end) characters of each word) of one document."""
        reader, local = self.leaf(docnum)
        words, starts, sizes = segment_sequences(reader)
        if id(reader) not in self.characters:  # opening a column reads its whole offset table
            self.characters[id(reader)] = reader.column_reader("offsets")
        characters = np.frombuffer(self.characters[id(reader)][local] or b"", dtype=np.uint32)
        return words[starts[local] : starts[local] + sizes[local]], characters.reshape(-1, 2)

    def leaf(self, docnum):
        """(segment reader, document number in it) of a global document number."""
        for reader, offset in reversed(self.leaves):
            if docnum >= offset:
                return reader, docnum - offset
        raise IndexError(docnum)


def segment_sequences(reader):
    """(every word hash of the segment's documents, one after another; where each document
    starts in that array; its number of words)."""

    def read():
        values = [value or b"" for value in reader.column_reader("sequence")]
        sizes = np.array([len(value) // 4 for value in values], dtype=np.int64)
        return np.frombuffer(b"".join(values), dtype=np.uint32), np.cumsum(sizes) - sizes, sizes

    return SEQUENCES.get(segment_key(reader), read)


def segment_lengths(reader, fieldname) -> np.ndarray:
    def read():
        length = reader.doc_field_length
        return (np.array([length(d, fieldname) or 0 for d in range(reader.doc_count_all())], dtype=float),)

    return LENGTHS.get((*segment_key(reader), fieldname), read)[0]


# -- matching -----------------------------------------------------------------------------


def evaluate(node, data: Searchable) -> ranking.Match:
    """The documents a parsed query matches, with their BM25 scores."""
    size = data.size
    if isinstance(node, query.Term):
        return data.term(node.text, node.boost) if node.fieldname == "text" else ranking.Match.none(size)
    if isinstance(node, query.Phrase):
        return phrase(node, data)
    if isinstance(node, query.And):
        return ranking.all_of([evaluate(child, data) for child in node.subqueries], size)
    if isinstance(node, query.Or):
        return ranking.any_of([evaluate(child, data) for child in node.subqueries], size)
    if isinstance(node, query.AndNot):
        positive = evaluate(node.a, data)
        return ranking.restrict(positive, ~evaluate(node.b, data).mask)
    if isinstance(node, query.AndMaybe):
        required, optional = evaluate(node.a, data), evaluate(node.b, data)
        return ranking.Match(required.mask, np.where(required.mask, required.score + optional.score, 0.0))
    if isinstance(node, query.Require):
        return ranking.restrict(evaluate(node.a, data), evaluate(node.b, data).mask)
    if isinstance(node, query.Not):
        return ranking.Match(data.live & ~evaluate(node.query, data).mask, np.zeros(size))
    if isinstance(node, query.Every):
        return ranking.Match.every(data.live)
    if node is query.NullQuery or isinstance(node, query.NullQuery.__class__):
        return ranking.Match.none(size)
    # Anything else (the parser is not expected to produce more): all of its parts.
    children = list(node.children())
    if children:
        return ranking.all_of([evaluate(child, data) for child in children], size)
    return ranking.all_of([data.term(text) for name, text in node.iter_all_terms() if name == "text"], size)


def phrase(node, data: Searchable) -> ranking.Match:
    """Words that must stand one after another, scored as the words together. (A proximity
    ``"a b"~3`` is read as the words anywhere.)"""
    words = list(node.words)
    size = data.size
    if not words or node.fieldname != "text":
        return ranking.Match.none(size)
    scored = ranking.all_of([data.term(word, node.boost) for word in words], size)
    if len(words) == 1 or node.slop != 1 or not scored.mask.any():
        return scored
    return ranking.restrict(scored, data.in_sequence(run_of(words), scored.mask))


# -- searching ----------------------------------------------------------------------------


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


def parser(schema_, group=AndGroup, fields=("text",)):
    qp = MultifieldParser(list(fields), schema_, group=group)
    for plugin in (FieldsPlugin, WildcardPlugin, BoostPlugin, RangePlugin):
        qp.remove_plugin_class(plugin)
    return qp


def parse(text: str, schema_, group=AndGroup, fields=("text",)):
    """The query tree of what a visitor typed (``fields``: bench/analyzers.py searches a
    schema of its own)."""
    try:
        parsed = parser(schema_, group, fields).parse(text)
    except Exception:  # whoosh's parser has many failure modes; plain words never fail
        logger.warning("query parse failed, searching plain words: %r", text)
        parsed = None
    if parsed is None or parsed is query.NullQuery:
        words = " ".join(re.sub(r"[\"()]", " ", text).split())
        parsed = parser(schema_, group, fields).parse(words)
    return parsed


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
    """One page of hits. With a preferred language, all its hits come first, then the
    other's; scores are BM25 over the whole index either way."""
    data = Searchable.of(s)
    if prefer_lang in ("ja", "en") and lang not in ("ja", "en"):
        other = "en" if prefer_lang == "ja" else "ja"
        groups = [data.filter(prefer_lang, kind, tag), data.filter(other, kind, tag)]
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


# -- snippets -----------------------------------------------------------------------------


class Highlights:
    """Snippets from the stored characters of each word: nothing is re-analysed. A phrase or
    an identifier is marked where its words stand together."""

    def __init__(self, q, data: Searchable):
        self.data = data
        self.runs = {}  # hashes as bytes: hashes
        self.collect(q)

    def collect(self, node):
        if isinstance(node, query.Not):
            return
        if isinstance(node, query.AndNot):
            self.collect(node.a)
            return
        if isinstance(node, query.Phrase) and node.fieldname == "text":
            groups = [node.words] if node.slop == 1 else [[word] for word in node.words]
        elif isinstance(node, query.Term) and node.fieldname == "text":
            groups = [[node.text]]
        else:
            groups = []
        for words in groups:
            run = run_of(words)
            self.runs[run.tobytes()] = run
        for child in node.children():
            self.collect(child)

    def spans(self, docnum):
        words, characters = self.data.sequence(docnum)
        if len(characters) != words.size:  # not written by this schema: no marks, no error
            return []
        return sorted(
            (int(characters[start, 0]), int(characters[start + run.size - 1, 1]))
            for run in self.runs.values()
            for start in ranking.run_starts(words, run)
        )

    def snippet(self, docnum, title, body):
        offset = len(title) + 1  # the indexed text is the title, a newline, then the body
        tokens = []
        for start, end in self.spans(docnum):
            if start >= offset:
                token = Token(startchar=start - offset, endchar=end - offset, matched=True)
                token.text = body[token.startchar : token.endchar]
                tokens.append(token)
        if not tokens:
            return escape(SPACES.sub(" ", body[:SNIPPET_CHARS]))
        fragments = FRAGMENTER.fragment_matches(body, tokens)
        best = highlight.top_fragments(fragments, 2, highlight.BasicFragmentScorer(), highlight.FIRST)
        return SPACES.sub(" ", MarkFormatter().format(best))


SPACES = re.compile(r"\s+")


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


FRAGMENTER = highlight.PinpointFragmenter(maxchars=SNIPPET_CHARS, surround=60, autotrim=True)


def suggest(s, text):
    """A "did you mean" for English words the index does not know; "" when none."""
    corrector = s.corrector("spelling")
    reader = s.reader()
    words, changed = text.split(), False
    for index_, word in enumerate(words):
        lowered = word.lower()
        if not re.fullmatch(r"[a-z]{4,}", lowered) or reader.frequency("spelling", lowered):
            continue
        # prefix=1: most typos keep the first letter, and it spares a scan of every word.
        found = corrector.suggest(lowered, limit=1, maxdist=2, prefix=1)
        if found:
            words[index_], changed = found[0], True
    return " ".join(words) if changed else ""
