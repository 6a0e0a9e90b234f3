"""Array arithmetic for search: BM25 scores, matches as masks, one page of ranked hits, and
phrases found in documents' word sequences.

Every document of the index is a slot in a dense array, so combining the parts of a query
(AND, OR, NOT) and counting its matches are single vectorised operations, and only the hits
on the requested page are ever sorted. ``kb.search`` reads the postings out of whoosh and
hands them here as arrays; nothing in this module knows about whoosh.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

K1 = 1.2
B = 0.75


@dataclass
class Match:
    """The documents a query (or part of one) matches, and how well."""

    mask: np.ndarray  # bool per document
    score: np.ndarray  # float per document; 0 where mask is False

    @classmethod
    def none(cls, size):
        return cls(np.zeros(size, dtype=bool), np.zeros(size, dtype=np.float64))

    @classmethod
    def every(cls, live):
        return cls(live.copy(), np.zeros(live.size, dtype=np.float64))


@dataclass
class Collection:
    """What BM25 needs to know about the whole index."""

    live: np.ndarray  # bool: not deleted
    lengths: np.ndarray  # tokens per document

    @property
    def size(self):
        return self.live.size

    @cached_property
    def count(self):
        return int(self.live.sum())

    @cached_property
    def average_length(self):
        live_lengths = self.lengths[self.live]
        # 1 when no document has this field (no headings anywhere): avoids 0 / 0.
        return float(live_lengths.mean()) if live_lengths.any() else 1.0


def bm25(collection: Collection, ids: np.ndarray, weights: np.ndarray, boost: float = 1.0) -> Match:
    """One term: ``ids`` are the documents that contain it, ``weights`` its (boosted) frequency
    in each. Deleted documents neither match nor count towards the term's rarity."""
    keep = collection.live[ids]
    ids, weights = ids[keep], weights[keep]
    match = Match.none(collection.size)
    if not ids.size:
        return match
    documents = collection.count
    idf = np.log(1.0 + (documents - ids.size + 0.5) / (ids.size + 0.5))
    norm = K1 * (1.0 - B + B * collection.lengths[ids] / collection.average_length)
    match.mask[ids] = True
    match.score[ids] = boost * idf * weights * (K1 + 1.0) / (weights + norm)
    return match


def presence(size: int, ids: np.ndarray) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[ids] = True
    return mask


def all_of(matches: list[Match], size: int) -> Match:
    if not matches:
        return Match.none(size)
    mask = np.logical_and.reduce([m.mask for m in matches])
    return Match(mask, np.where(mask, np.add.reduce([m.score for m in matches]), 0.0))


def any_of(matches: list[Match], size: int) -> Match:
    if not matches:
        return Match.none(size)
    return Match(np.logical_or.reduce([m.mask for m in matches]), np.add.reduce([m.score for m in matches]))


def either(a: Match, b: Match) -> Match:
    """Documents either matches; each scored by the better of the two."""
    return Match(a.mask | b.mask, np.maximum(a.score, b.score))


def restrict(match: Match, mask: np.ndarray) -> Match:
    keep = match.mask & mask
    return Match(keep, np.where(keep, match.score, 0.0))


def ranked(match: Match, groups: list[np.ndarray], start: int, end: int) -> tuple[list[int], int]:
    """Documents ``start:end`` of the ranking, and the number of matches. Groups come one
    after the other (the visitor's language first); within a group, best score first, ties
    in index order. Only the documents up to ``end`` are sorted."""
    page, seen = [], 0
    for group in groups:
        ids = np.flatnonzero(match.mask & group)
        wanted = min(end - seen, ids.size)
        if wanted > 0 and start < seen + ids.size:
            page += [int(i) for i in best(ids, match.score[ids], wanted)[max(start - seen, 0) :]]
        seen += ids.size
    return page, seen


def best(ids: np.ndarray, scores: np.ndarray, count: int) -> np.ndarray:
    if count < ids.size:
        top = np.argpartition(-scores, count - 1)[:count]
        # argpartition is not stable: take every document tied with the last one kept, so
        # the final order (score, then index order) does not depend on the partition.
        threshold = scores[top].min()
        top = np.flatnonzero(scores >= threshold)
        ids, scores = ids[top], scores[top]
    order = np.lexsort((ids, -scores))
    return ids[order][:count]


# -- word sequences -------------------------------------------------------------------------
# Each document's words in order, as hashes, all documents one after another in one array
# (``words``), with where each document starts and how many words it has.


def run_starts(words: np.ndarray, run: np.ndarray) -> np.ndarray:
    """Positions in ``words`` where ``run`` (hashes) begins."""
    if run.size == 0 or words.size < run.size:
        return np.zeros(0, dtype=np.int64)
    found = np.flatnonzero(words[: words.size - run.size + 1] == run[0])
    for k in range(1, run.size):
        found = found[words[found + k] == run[k]]
    return found


def documents_holding_run(words, starts, sizes, run, first_places=None) -> np.ndarray:
    """For every document of a segment (``starts`` ascending, as the words were laid out),
    whether ``run`` stands in it: all the words looked at, cheaper than gathering when many
    documents are candidates. ``first_places``: where run[0] stands in ``words``, if known."""
    if first_places is None:
        found = run_starts(words, run)
    else:
        found = first_places.astype(np.int64)
        found = found[found + run.size <= words.size]
        for k in range(1, run.size):
            found = found[words[found + k] == run[k]]
    owner = np.searchsorted(starts, found, side="right") - 1
    inside = found + run.size <= starts[owner] + sizes[owner]  # not across two documents
    return presence(sizes.size, owner[inside])


def documents_with_run(words: np.ndarray, starts: np.ndarray, sizes: np.ndarray, run: np.ndarray) -> np.ndarray:
    """For each document given by (start, size), whether ``run`` stands in it. Only these
    documents' words are compared."""
    if not sizes.size:
        return np.zeros(0, dtype=bool)
    total = int(sizes.sum())
    owner = np.repeat(np.arange(sizes.size), sizes)
    before = np.cumsum(sizes) - sizes  # where each document starts in the gathered words
    gathered = words[np.repeat(starts - before, sizes) + np.arange(total)]
    found = run_starts(gathered, run)
    found = found[owner[found] == owner[found + run.size - 1]]  # not across two documents
    return presence(sizes.size, owner[found])
