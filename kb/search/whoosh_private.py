"""Every use of whoosh's private parts, in one module.

The search reads whoosh's posting lists whole into arrays (``kb.search.ranking`` matches and
ranks over them), which whoosh's public matcher API can only give one posting at a time.
Nothing here writes a private attribute of whoosh: it reads some, and
writes one table of contents with whoosh's own class. Each private name below says what it
relies on; ``tests/kb/test_whoosh_private.py`` pins
that behaviour on the pinned version (Whoosh-Reloaded 2.7.5, see pyproject.toml), so an
upgrade that changes it fails a test instead of misreading an index.
"""

import os

import numpy as np
from whoosh import index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, clean_files

EMPTY_POSTINGS = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


def publish_segments(ix, parts):
    """Make the segments of the indexes at ``parts`` (folders, each written by whoosh's own
    writer with the schema of the empty index ``ix``), in that order, the content of ``ix``."""
    segments = []
    for part in parts:
        with index.open_dir(part).reader() as reader:
            segment = reader.segment()  # (public: each part's writer committed one segment)
        for name in segment.list_files(FileStorage(str(part))):
            os.replace(os.path.join(part, name), os.path.join(ix.storage.folder, name))
        segments.append(segment)
    # Private: whoosh's writer commits by writing a new table of contents (TOC) listing the
    # segments, one generation after the latest (``SegmentWriter._commit_toc``), then removes
    # the files of older generations: what ``MpWriter(multisegment=True)`` does with its
    # workers' segments, in the order they finish; here in the order of the runs.
    generation = ix.latest_generation() + 1
    TOC(ix.schema, segments, generation).write(ix.storage, ix.indexname)
    clean_files(ix.storage, ix.indexname, generation, segments)  # the empty index's TOC


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
