"""A full build of the index, written straight through whoosh's codec.

whoosh's writer sends every posting through a sorting pool (a Python call and a tuple each),
sorts them all, then hands them one at a time to the postings writer: at 10,000 texts that
was about half of a rebuild. A full build can do better because documents arrive in the
order they are numbered: each term's postings are gathered in arrays as the documents are
analysed, already in order, and written a block at a time. The files are whoosh's own (the
same codec, the same blocks, ``tests/kb/test_whoosh_private.py`` compares them byte for byte),
so searches and updates read and extend a built index as before.

With several processes, the documents are dealt out in chunks to forked worker processes,
each writing a segment of its own; the parent publishes them together. (Updates, with their
deletions and merges, go through whoosh's writer: see ``kb.search.index.write_documents``.)
"""

import itertools
import multiprocessing
import queue
import traceback
from array import array
from collections import defaultdict

import numpy as np

from kb.search.whoosh_private import Codec, publish_segments, write_term

CHUNK = 64  # documents per message to a worker process
WAIT_SECONDS = 1.0  # how often the parent checks that its workers are still alive


class BuildFailed(Exception):
    """A worker process of a build failed or died."""


class TermCounts:
    """The postings of a field that gives its terms' counts in bulk (``counts(value)``, a
    frequency-only field: weight = frequency, value = the frequency as whoosh packs it),
    gathered as three flat arrays with no Python loop per posting, grouped by term at the end."""

    value_size = 4  # whoosh's Frequency format

    def __init__(self):
        self.ids = defaultdict(itertools.count().__next__)  # term → its number, given on first sight
        self.terms, self.documents, self.frequencies = array("I"), array("I"), array("I")

    def add(self, docnum, field, value) -> int:
        counts = field.counts(value)
        self.terms.extend(map(self.ids.__getitem__, counts))
        self.frequencies.extend(counts.values())
        self.documents.extend(itertools.repeat(docnum, len(counts)))
        return sum(counts.values())

    def __bool__(self):
        return bool(self.ids)

    def posting_lists(self):
        """(term bytes, document numbers, weights, values) per term, in the order of the terms' bytes."""
        terms = np.frombuffer(self.terms, dtype=np.uint32)
        order = np.argsort(terms, kind="stable")  # stable: each term's documents stay ascending
        documents = np.frombuffer(self.documents, dtype=np.uint32)[order]
        frequencies = np.frombuffer(self.frequencies, dtype=np.uint32)[order]
        weights, values = frequencies.astype(np.float32), frequencies.astype(">u4").tobytes()
        bounds = np.concatenate(([0], np.cumsum(np.bincount(terms, minlength=len(self.ids))))).tolist()
        for tbytes, number in sorted((term.encode("utf-8"), number) for term, number in self.ids.items()):
            start, end = bounds[number], bounds[number + 1]
            yield tbytes, documents[start:end].tolist(), weights[start:end].tolist(), values[4 * start : 4 * end]


class TermLists:
    """The postings of any other field, gathered per term as they come."""

    def __init__(self, value_size):
        self.value_size, self.lists = value_size, {}

    def add(self, docnum, field, value) -> int:
        length = 0
        for tbytes, frequency, weight, vbytes in field.index(value):
            length += frequency
            found = self.lists.get(tbytes)
            if found is None:
                found = self.lists[tbytes] = (array("I"), array("f"), bytearray())
            found[0].append(docnum)
            found[1].append(weight)
            if self.value_size:
                found[2].extend(vbytes)
        return length

    def __bool__(self):
        return bool(self.lists)

    def posting_lists(self):
        for tbytes in sorted(self.lists):
            ids, weights, values = self.lists[tbytes]
            yield tbytes, ids, weights, bytes(values)


class SegmentBuilder:
    """One new segment of ``ix``: documents added in order, postings gathered per term."""

    def __init__(self, ix):
        self.schema, self.storage, self.codec = ix.schema, ix.storage, Codec()
        self.segment = self.codec.new_segment(self.storage, ix.indexname)
        self.per_document = self.codec.per_document_writer(self.storage, self.segment)
        self.postings = {name: self.gatherer(name) for name in self.schema.names() if self.schema[name].indexed}
        self.count = 0

    def gatherer(self, name):
        field = self.schema[name]
        size = field.format.fixed_value_size()
        if size is None or size < 0 or field.vector or field.separate_spelling():
            raise ValueError(f"field {name!r}: only fixed-size postings without vectors or spelling are built here")
        if not hasattr(field, "counts"):
            return TermLists(size)
        if size != TermCounts.value_size:
            raise ValueError(f"field {name!r}: counts are written as whoosh's Frequency format, 4 bytes a value")
        return TermCounts()

    def add(self, fields):
        """What whoosh's ``SegmentWriter.add_document`` does, without boosts, vectors or
        spelling words (the schema has none), and with postings gathered per term."""
        docnum = self.count
        self.per_document.start_doc(docnum)
        for name in sorted(fields):
            field, value = self.schema[name], fields[name]
            length = 0
            if field.indexed:
                words = self.postings[name].add(docnum, field, value)
                length = words if field.scorable else 0
            self.per_document.add_field(name, field, value if field.stored else None, length)
            if field.column_type:
                self.per_document.add_column_value(name, field.column_type, field.to_column_value(value))
        self.per_document.finish_doc()
        self.count += 1

    def finish(self):
        """Write the postings, close the segment's files: the segment, to publish."""
        self.per_document.close()
        field_writer = self.codec.field_writer(self.storage, self.segment)
        for name in sorted(self.postings):
            postings = self.postings[name]
            if not postings:
                continue
            field_writer.start_field(name, self.schema[name])
            for tbytes, ids, weights, values in postings.posting_lists():
                write_term(field_writer, tbytes, ids, weights, values, postings.value_size)
            field_writer.finish_field()
        field_writer.close()
        self.postings = {}
        self.segment.set_doc_count(self.count)
        return self.segment


def build(ix, documents, procs: int) -> int:
    """Index ``documents`` (field dicts, in order) into the empty index ``ix``, with ``procs``
    processes: the number of documents."""
    outcomes = [build_segment(ix, documents)] if procs <= 1 else build_in_workers(ix, documents, procs)
    publish_segments(ix, [segment for segment, _count in outcomes if segment is not None])
    return sum(count for _segment, count in outcomes)


def build_segment(ix, documents):
    """(the segment, or None when there were no documents; the number of documents)."""
    builder = SegmentBuilder(ix)
    for fields in documents:
        builder.add(fields)
    return (builder.finish() if builder.count else None), builder.count


def build_in_workers(ix, documents, procs):
    """Chunks of documents dealt out in turn to ``procs`` forked workers: each worker's
    (segment, number of documents), as ``build_segment`` gives them. Forked, not spawned: the workers need no Django of their own, they only analyse and write."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    inboxes = [context.Queue(maxsize=8) for _ in range(procs)]
    workers = [context.Process(target=work, args=(ix, inbox, results), daemon=True) for inbox in inboxes]
    for worker in workers:
        worker.start()
    try:
        for turn, chunk in enumerate(chunks(documents, CHUNK)):
            deliver(inboxes[turn % procs], chunk, workers)
        for inbox in inboxes:
            deliver(inbox, None, workers)
        return [collect(results, workers) for _ in workers]
    finally:
        for worker in workers:
            worker.join(WAIT_SECONDS)
            if worker.is_alive():
                worker.kill()


def work(ix, inbox, results):
    """A worker process: the segment of the chunks it is given, until None."""
    try:
        results.put(build_segment(ix, itertools.chain.from_iterable(iter(inbox.get, None))))
    except BaseException as exc:  # reported to the parent, which raises it
        results.put(BuildFailed(f"build worker failed: {exc!r}\n{traceback.format_exc()}"))


def chunks(items, size):
    items = iter(items)
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def deliver(inbox, item, workers):
    while True:
        try:
            return inbox.put(item, timeout=WAIT_SECONDS)
        except queue.Full:
            check_alive(workers)


def collect(results, workers):
    while True:
        try:
            outcome = results.get(timeout=WAIT_SECONDS)
        except queue.Empty:
            check_alive(workers)
            continue
        if isinstance(outcome, BuildFailed):
            raise outcome
        return outcome


def check_alive(workers):
    for worker in workers:
        if worker.exitcode not in (None, 0):
            raise BuildFailed(f"build worker {worker.pid} exited with code {worker.exitcode}")
