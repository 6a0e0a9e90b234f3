"""One searcher's view of the index as arrays, and the per-segment caches behind it.

Every document is a slot numbered as in whoosh; ``live`` masks the deleted ones. Arrays
computed from one segment (posting lists, word sequences, field lengths) are cached under
the segment's identity: a segment never changes once written, so they stay true across
searchers, and those of segments gone from the index (merged away, rebuilt) are dropped as
soon as a searcher sees they are gone.
"""

import threading
from contextlib import suppress

import numpy as np
from cachetools import LRUCache

from kb.search import ranking
from kb.search.documents import FIELD_WEIGHTS, SCORED_FIELDS
from kb.search.whoosh_private import deleted_documents, kept_on, read_postings

# Dense matches of words and phrases a searcher keeps for later queries: a query read through
# the glossary looks up many forms, and the next query often shares some.
MATCHES_KEPT_BYTES = 32 * 2**20
FILTERS_KEPT = 256
# A phrase is looked for by gathering its candidate documents' words, unless they hold more
# than 1/GATHER_SHARE of the segment's words: then one scan of all of them is cheaper.
GATHER_SHARE = 8


def nbytes(arrays) -> int:
    return sum(array.nbytes for array in arrays)


class SegmentCache:
    """Arrays per segment, least recently used dropped beyond ``max_bytes``, thread-safe."""

    def __init__(self, max_bytes):
        self.items = LRUCache(maxsize=max_bytes, getsizeof=nbytes)
        self.lock = threading.Lock()

    def get(self, key, compute):
        with self.lock:
            found = self.items.get(key)
        if found is not None:
            return found
        arrays = compute()
        with self.lock, suppress(ValueError):  # larger than the whole cache: used once, not kept
            self.items[key] = arrays
        return arrays

    def keep_only(self, folder, segment_ids):
        with self.lock:
            for key in [key for key in self.items if key[0] == folder and key[1] not in segment_ids]:
                del self.items[key]

    @property
    def size(self):
        return self.items.currsize


POSTINGS = SegmentCache(64 * 1024 * 1024)  # a word in 5,000 documents takes 40 KB
SEQUENCES = SegmentCache(256 * 1024 * 1024)  # 4 bytes a word: ~36 MB for 10,000 articles
LENGTHS = SegmentCache(16 * 1024 * 1024)
# Where a phrase's first word stands in a segment's word sequences (4 bytes a place): a
# phrase over most of a large segment then checks those places, not every word again.
PLACES = SegmentCache(64 * 1024 * 1024)


def segment_key(reader):
    return (reader.storage().folder, reader.segment().segment_id())


def segment_postings(reader, fieldname, text):
    """(document numbers in the segment, weights) of one term."""
    return POSTINGS.get((*segment_key(reader), fieldname, text), lambda: read_postings(reader, fieldname, text))


def segment_sequences(reader):
    """(every word hash of the segment's documents, one after another; where each document
    starts in that array; its number of words)."""

    def read():
        values = [value or b"" for value in reader.column_reader("sequence")]
        sizes = np.array([len(value) // 4 for value in values], dtype=np.int64)
        return np.frombuffer(b"".join(values), dtype=np.uint32), np.cumsum(sizes) - sizes, sizes

    return SEQUENCES.get(segment_key(reader), read)


def word_places(reader, words, word) -> np.ndarray:
    """Where ``word`` (a hash) stands in the segment's word sequences."""

    def find():
        return (np.flatnonzero(words == word).astype(np.uint32),)

    return PLACES.get((*segment_key(reader), "places", int(word)), find)[0]


def segment_articles(reader) -> np.ndarray:
    """The article (hash of its slug) of each document of the segment."""

    def read():
        return (np.fromiter(reader.column_reader("article"), dtype=np.int64, count=reader.doc_count_all()),)

    return SEQUENCES.get((*segment_key(reader), "article"), read)[0]


def segment_lengths(reader, fieldname) -> np.ndarray:
    def read():
        length = reader.doc_field_length
        return (np.array([length(d, fieldname) or 0 for d in range(reader.doc_count_all())], dtype=float),)

    return LENGTHS.get((*segment_key(reader), fieldname), read)[0]


class Searchable:
    """A searcher's index as arrays: kept on the searcher, so it lives exactly as long as the
    index version it describes."""

    def __init__(self, s):
        self.searcher = s
        # An index with no texts has one reader with no segment (and no folder) behind it.
        self.leaves = [(reader, offset) for reader, offset in s.reader().leaf_readers() if reader.doc_count_all()]
        if self.leaves:
            folder = segment_key(self.leaves[0][0])[0]
            current = {segment_key(reader)[1] for reader, _offset in self.leaves}
            for cache in (POSTINGS, SEQUENCES, LENGTHS, PLACES):
                cache.keep_only(folder, current)
        self.size = s.doc_count_all()
        self.live = np.ones(self.size, dtype=bool)
        for reader, offset in self.leaves:
            deleted = [offset + docnum for docnum in deleted_documents(reader)]
            self.live[deleted] = False
        self.collections = {name: self.collection(name) for name in SCORED_FIELDS}
        self.articles = np.zeros(self.size, dtype=np.int64)
        for reader, offset in self.leaves:
            self.articles[offset : offset + reader.doc_count_all()] = segment_articles(reader)
        self.filters = {}
        self.matches = LRUCache(MATCHES_KEPT_BYTES, getsizeof=lambda match: match.mask.nbytes + match.score.nbytes)
        self.matches_lock = threading.Lock()
        self.characters = {}  # segment reader id: its column of word characters

    @classmethod
    def of(cls, s):
        return kept_on(s, "_kb_searchable", cls)

    def collection(self, fieldname):
        lengths = np.zeros(self.size, dtype=np.float64)
        for reader, offset in self.leaves:
            lengths[offset : offset + reader.doc_count_all()] = segment_lengths(reader, fieldname)
        return ranking.Collection(live=self.live, lengths=lengths)

    def postings(self, fieldname, text):
        parts = [segment_postings(reader, fieldname, text) for reader, _offset in self.leaves]
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        if len(parts) == 1:
            return parts[0]
        ids = np.concatenate([p[0] + offset for p, (_reader, offset) in zip(parts, self.leaves, strict=True)])
        return ids, np.concatenate([p[1] for p in parts])

    def term(self, text, boost=1.0) -> ranking.Match:
        """A word of the query: BM25 over the whole text, plus more where it is in the title
        or a heading (those words are in the whole text too, so the match is the same)."""
        return self.remembered(("term", text, boost), lambda: self.scored(text, boost))

    def scored(self, text, boost):
        match = ranking.bm25(self.collections["text"], *self.postings("text", text), boost=boost)
        for fieldname, weight in FIELD_WEIGHTS.items():
            extra = ranking.bm25(self.collections[fieldname], *self.postings(fieldname, text), boost=boost)
            match.score += weight * extra.score
        return match

    def remembered(self, key, compute) -> ranking.Match:
        """The match under ``key``, computed once and kept while there is room (callers must
        not change it in place)."""
        with self.matches_lock:
            match = self.matches.get(key)
        if match is None:
            match = compute()
            with self.matches_lock, suppress(ValueError):  # (larger than the whole cache)
                self.matches[key] = match
        return match

    def having(self, fieldname, text) -> np.ndarray:
        ids, _weights = self.postings(fieldname, text)
        return ranking.presence(self.size, ids) & self.live

    def filter(self, lang=None, kind=None, tag=None) -> np.ndarray:
        key = (lang, kind, tag)
        if key not in self.filters:
            if len(self.filters) > FILTERS_KEPT:
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
            wanted = candidates[offset : offset + sizes.size]
            local = np.flatnonzero(wanted)
            if int(sizes[local].sum()) * GATHER_SHARE > words.size:  # most of the words: look at them all
                places = word_places(reader, words, run[0])
                held = ranking.documents_holding_run(words, starts, sizes, run, places)
                mask[offset : offset + sizes.size] = held & wanted
            else:
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

    def words_of(self, docnum) -> np.ndarray:
        """The word hashes of one document, in order."""
        reader, local = self.leaf(docnum)
        words, starts, sizes = segment_sequences(reader)
        return words[starts[local] : starts[local] + sizes[local]]

    def leaf(self, docnum):
        """(segment reader, document number in it) of a global document number."""
        for reader, offset in reversed(self.leaves):
            if docnum >= offset:
                return reader, docnum - offset
        raise IndexError(docnum)
