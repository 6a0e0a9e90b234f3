"""The index lifecycle: build, update, catch up with the database, open for searching.

The index is derived data: ``rebuild`` makes it from the database, and every process keeps
its copy current by applying the import runs it has not seen yet (``catch_up``).
"""

import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from filelock import FileLock
from whoosh import index

from kb import caching
from kb.search.documents import document, indexable, schema
from kb.search.whoosh_private import Codec

# Bump when analysis, schema or the import path of a class whoosh pickles into the index
# (the tokenizer, the Sequence column, the codec) changes: older indexes are rebuilt.
INDEX_FORMAT = "7"
PARALLEL_BUILD_MIN = 2000  # documents from which a rebuild uses several processes
# compound=False: whoosh copies a compound segment into memory on every reader open.
WRITER_OPTIONS = {"codec": Codec(), "compound": False}

_local = threading.local()


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
    with FileLock(directory.with_name(directory.name + ".lock")):
        yield


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
    """Re-index the given articles (every language) in place."""
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
    """An index exists there and was built by this version of the analysis. The format is
    read first: whoosh's own check unpickles the index's classes, which for an index of
    another version may no longer exist."""
    try:
        return (directory / "format").read_text() == INDEX_FORMAT and index.exists_in(directory)
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
