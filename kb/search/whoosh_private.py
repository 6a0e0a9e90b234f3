"""Every use of whoosh's private parts, in one module.

The search reads whoosh's posting lists whole into arrays (``kb.search.ranking`` matches and
ranks over them), which whoosh's public matcher API can only give one posting at a time.
Each private name below says what it relies on; ``tests/kb/test_whoosh_private.py`` pins
that behaviour on the pinned version (Whoosh-Reloaded 2.7.5, see pyproject.toml), so an
upgrade that changes it fails a test instead of misreading an index.
"""

import numpy as np
from whoosh.codec.whoosh3 import W3Codec

EMPTY_POSTINGS = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


class Codec(W3Codec):
    """whoosh's own file format without what only whoosh's scoring reads: block statistics
    of document lengths (a column lookup per posting while writing) and zlib compression of
    posting blocks (the ranking reads whole posting lists; uncompressed they load faster)."""

    # Private: W3Codec reads this class attribute in its field writer to decide whether to
    # record per-block min/max lengths (used only by whoosh's BM25 block quality).
    length_stats = False

    def __init__(self):
        super().__init__(compression=0)


def read_postings(reader, fieldname, text):
    """(document numbers in the segment, weights) of one term, deleted documents included
    (the caller masks them: see ``deleted_documents``)."""
    if (fieldname, text) not in reader:
        return EMPTY_POSTINGS
    matcher = reader.postings(fieldname, text)
    # Private: a segment with deletions wraps its matcher in a filter kept as ``child``.
    matcher = getattr(matcher, "child", matcher)
    ids, weights = [], []
    if hasattr(matcher, "_next_block"):
        # Private: W3LeafMatcher decodes one block at a time; ``_read_ids``/``_read_weights``
        # fill ``_ids``/``_weights`` with the whole block and ``_next_block`` moves on.
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            matcher._next_block()
    else:  # any other matcher: the public API, one posting at a time
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
    return np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float32)


def deleted_documents(reader):
    """The deleted document numbers of one segment reader."""
    # Private: SegmentReader keeps its deletions as a set (``deleted_docs_set``) that
    # ``all_doc_ids()`` would otherwise walk one number at a time.
    return reader.deleted_docs_set if reader.has_deletions() else ()


def kept_on(searcher, name, make):
    """Per-searcher state that lives exactly as long as the searcher (and so the index
    version it reads): made once by ``make(searcher)``, then reused."""
    # Private: whoosh's Searcher is a plain object; its ``__dict__`` is ours to extend, and a
    # refreshed searcher is a new object, so nothing stale is carried over.
    state = searcher.__dict__
    if name not in state:
        state[name] = make(searcher)
    return state[name]
