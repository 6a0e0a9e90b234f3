"""Every use of whoosh's private parts, in one module.

The search reads whoosh's posting lists whole into arrays (``kb.search.ranking`` matches and
ranks over them), which whoosh's public matcher API can only give one posting at a time.
Each private name below says what it relies on; ``tests/kb/test_whoosh_private.py`` pins
that behaviour on the pinned version (Whoosh-Reloaded 2.7.5, see pyproject.toml), so an
upgrade that changes it fails a test instead of misreading an index.
"""

import numpy as np
from whoosh.codec.whoosh3 import W3Codec
from whoosh.index import TOC, clean_files

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


def write_term(field_writer, tbytes, ids, weights, values, value_size):
    """One term's whole posting list (``ids`` ascending, ``weights``, and ``values``: the
    postings' fixed-size values one after another), in exactly the blocks whoosh's writer makes
    when it is given the postings one at a time (``start_term``, ``add`` each, ``finish_term``)."""
    field_writer.start_term(tbytes)
    # Private: W3FieldWriter's postings writer of the current field, and the block it
    # buffers: ``add_posting`` appends to ``_ids``/``_weights``/``_values`` (non-empty values
    # only), raises ``_maxweight``, and writes the block (``_write_block``) once it holds
    # ``_blocklimit`` postings, before adding the next; ``finish_term`` writes the last one.
    postings = field_writer._postwriter
    limit = postings._blocklimit
    for start in range(0, len(ids), limit):
        if start:
            postings._write_block()
        end = start + limit
        postings._ids, postings._weights = ids[start:end], weights[start:end]
        postings._values = [bytes(values[start * value_size : end * value_size])] if value_size else []
        postings._maxweight = max(0, max(postings._weights))
    field_writer.finish_term()


def publish_segments(ix, segments):
    """Make ``segments`` (written beside an empty index ``ix``) the index's content."""
    # Private: whoosh's writer commits by writing a new table of contents (TOC) that lists the
    # segments, one generation after the latest, then removes the files of older generations
    # (``SegmentWriter._commit_toc``).
    generation = ix.latest_generation() + 1
    TOC(ix.schema, segments, generation).write(ix.storage, ix.indexname)
    clean_files(ix.storage, ix.indexname, generation, segments)  # the empty index's TOC
    # The per-document writers keep their columns' temporary files in "<indexname>.tmp",
    # which whoosh's writer removes when it finishes.
    ix.storage.temp_storage(f"{ix.indexname}.tmp").destroy()


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
