"""A full build of the index, through whoosh's own writer.

One process: whoosh's writer, as an update uses it. Several: the documents are split into
consecutive runs, one per worker process; each worker writes a whole index of its own, in a
folder of the build, through the same public writer; the parent then lists the workers'
segments, in the order of their runs, in the new index's table of contents
(``whoosh_private.publish_segments``). Every document gets the number a one-process build
gives it, so results tied on score keep their order from one rebuild to the next.

The workers are started with multiprocessing's "spawn": a fresh interpreter that inherits
nothing of the process that started the build (a web worker's threads and their locks, an
open database connection). A worker that raises or dies ends the build with its message.
"""

import itertools
import multiprocessing
import queue
import shutil
import traceback
from pathlib import Path

from whoosh import index
from whoosh.codec.whoosh3 import W3Codec

from kb.search.whoosh_private import publish_segments

CHUNK = 64  # documents per message to a worker process
WAIT_SECONDS = 1.0  # how often the parent checks that its workers are still alive
SPAWN = multiprocessing.get_context("spawn")


class BuildFailed(Exception):
    """A worker process of a build failed or died."""


def writer(ix, **options):
    """whoosh's writer of ``ix``, as every write of the index uses it: compound=False (whoosh
    copies a compound segment into memory on every reader open), posting blocks not
    compressed (the ranking reads whole posting lists, which load faster so)."""
    return ix.writer(codec=W3Codec(compression=0), compound=False, **options)


def build(ix, documents, procs: int, total: int, *, in_workers: bool = False, limitmb: int = 128) -> int:
    """Index ``documents`` (field dicts, in order; about ``total`` of them) into the empty
    index ``ix`` with ``procs`` processes: the number of documents indexed. ``in_workers``:
    even one process is a worker of its own, not the caller. ``limitmb``: the memory each
    process's writer may hold before it sorts postings through temporary files."""
    if procs <= 1 and not in_workers:
        return write_all(ix, documents, limitmb)
    return build_in_workers(ix, documents, max(procs, 1), total, limitmb)


def write_all(ix, documents, limitmb: int = 128) -> int:
    """One commit of whoosh's writer: one segment."""
    w, count = writer(ix, limitmb=limitmb), 0
    try:
        for fields in documents:
            w.add_document(**fields)
            count += 1
    except BaseException:
        w.cancel()
        raise
    w.commit()
    return count


def build_in_workers(ix, documents, procs, total, limitmb):
    root = Path(ix.storage.folder) / "parts"
    parts = [root / str(number) for number in range(procs)]
    for part in parts:
        part.mkdir(parents=True)
        index.create_in(part, ix.schema)
    results = SPAWN.Queue()
    inboxes = [SPAWN.Queue() for _ in parts]  # unbounded: a later run waits while an earlier one is analysed
    workers = [
        SPAWN.Process(target=work, args=(number, str(part), inbox, results, limitmb), daemon=True)
        for number, (part, inbox) in enumerate(zip(parts, inboxes, strict=True))
    ]
    for worker in workers:
        worker.start()
    try:
        for number, chunk in enumerate(chunks(documents, CHUNK)):
            inboxes[run_of(number * CHUNK, procs, total)].put(chunk)
        for inbox in inboxes:
            inbox.put(None)
        counts = dict(collect(results, workers) for _ in workers)
    finally:
        for worker in workers:
            worker.join(WAIT_SECONDS)
            if worker.is_alive():
                worker.kill()
    publish_segments(ix, [part for number, part in enumerate(parts) if counts[number]])
    shutil.rmtree(root)
    return sum(counts.values())


def run_of(position: int, procs: int, total: int) -> int:
    """The worker whose consecutive run holds the document at ``position`` of ``total``."""
    return min(procs - 1, position * procs // max(total, 1))


def work(number, part, inbox, results, limitmb):
    """A worker process: its run of documents, until None, written into the index at ``part``."""
    try:
        documents = itertools.chain.from_iterable(iter(inbox.get, None))
        count = write_all(index.open_dir(part), documents, limitmb)
        results.put((number, count))
    except BaseException as exc:  # reported to the parent, which raises it
        results.put(BuildFailed(f"build worker failed: {exc!r}\n{traceback.format_exc()}"))


def chunks(items, size):
    items = iter(items)
    while chunk := list(itertools.islice(items, size)):
        yield chunk


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
