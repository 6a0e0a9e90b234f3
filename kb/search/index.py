"""The index lifecycle: build, update, catch up with the database, open for searching.

The index is derived data: ``rebuild`` makes it from the database, and every process keeps
its copy current by applying the import runs it has not seen yet (``catch_up``).

Across processes (the workers of a node share one index folder):

* rebuild, update and catch-up take one lock per folder (a file lock), so a rebuild never
  swaps the folder while an update writes, and two processes never apply the same runs;
* a request never waits for that lock, and never rebuilds: it searches the last good index
  it has, and when there is none at all it starts a rebuild in the background and says
  ``SearchRebuilding`` (the page asks to try again in a minute, the API answers 503);
* every build has an identity (a random id in the folder); a searcher is reopened when the
  identity changes, not only when whoosh's generation does (a fresh build starts again at
  generation 1, so the generation alone cannot tell a replaced index);
* only an index that cannot be opened is rebuilt: a database that is away, or a lock held by
  another process, leaves the index as it is.
"""

import functools
import json
import logging
import os
import pickle
import shutil
import struct
import threading
import time
import uuid
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import whoosh
from django.conf import settings
from django.db import DatabaseError, connection
from filelock import FileLock, Timeout
from whoosh import index
from whoosh.automata.fst import FileVersionError
from whoosh.filedb.filetables import FileFormatError
from whoosh.index import IndexError as WhooshIndexError

from kb import caching, process_state
from kb.search import analysis, building, suggestions
from kb.search.documents import document, english_words, indexable, schema

logger = logging.getLogger(__name__)

# Bump when the schema, or the import path of a class whoosh pickles into the index (the
# tokenizer, the Sequence column), changes. The versions of what decides the index's words
# are part of its identity on their own (``identity``): an index of another one is rebuilt.
INDEX_FORMAT = "10"
IDENTITY_FILE = "identity.json"
PARALLEL_BUILD_MIN = 2000  # documents from which a rebuild uses several processes
# What whoosh raises reading a damaged or half-written index, and only that: whoosh's own
# errors for a table of contents or a file that is not one (EmptyIndexError and
# IndexVersionError are WhooshIndexError), and what its readers raise on a truncated file, a
# garbled pickle or a file the table of contents names that is gone. Anything else (too many
# open files, a bug) is logged and the last good searcher answers (``searcher``).
CORRUPTION = (
    WhooshIndexError,
    FileFormatError,
    FileVersionError,
    pickle.UnpicklingError,
    EOFError,
    struct.error,
    FileNotFoundError,
)

_local = threading.local()
_background: dict[str, threading.Thread | None] = {"thread": None}
_locks = {}
_damaged: set[str] = set()  # the build ids this process found damaged: see ``mark_unusable``


class SearchUnavailable(Exception):
    """The search cannot answer now."""


class SearchRebuilding(SearchUnavailable):
    """There is no usable index yet; one is being built."""


def index_dir() -> Path:
    return Path(settings.KB_INDEX_DIR)


def marker_path(directory: Path) -> Path:
    return directory / "applied_import_run"


def read_marker(directory: Path) -> int:
    try:
        return int(marker_path(directory).read_text())
    except (OSError, ValueError):
        return 0


def build_id(directory: Path) -> str:
    try:
        return (directory / "build").read_text()
    except OSError:
        return ""


def lock_for(directory: Path) -> FileLock:
    """The one lock of an index folder, shared by rebuild, update and catch-up."""
    path = str(directory.with_name(directory.name + ".lock"))
    if path not in _locks:
        directory.parent.mkdir(parents=True, exist_ok=True)
        _locks[path] = FileLock(path)
    return _locks[path]


@contextmanager
def locked(directory: Path, wait=True):
    """The folder's lock; with ``wait`` False, Timeout at once if another process holds it."""
    with lock_for(directory).acquire(timeout=-1 if wait else 0):
        yield


rebuilding = locked  # (the name the lock had when only rebuilds took it)


def rebuild(directory: Path | None = None, *, procs: int = 0, if_unusable: bool = False) -> int:
    """Build a fresh index next to the live one, then swap it in; readers are never blocked.
    ``procs`` 0: one process per CPU (at most 4) when there are many documents.
    ``if_unusable``: nothing to do if another process rebuilt it while this one waited."""
    directory = directory or index_dir()
    with locked(directory):
        if if_unusable and usable(directory):
            return 0
        return build(directory, procs)


def build(directory: Path, procs: int, *, in_workers: bool = False) -> int:
    """The rebuild itself, under the lock. ``in_workers``: even a one-process build is
    written by a worker process of its own (a rebuild started from a web worker)."""
    fresh = directory.with_name(directory.name + ".building")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    caching.forget_content_version()
    run_id = caching.content_version()
    built_as = identity()
    ix = index.create_in(fresh, schema())
    words = set()

    def documents():
        for revision in indexable():
            doc = document(revision)
            words.update(english_words(doc))
            yield doc

    total = indexable_count()
    procs = procs or build_processes(total)
    count = building.build(ix, documents(), procs, total, in_workers=in_workers, limitmb=settings.KB_INDEX_BUILD_MB)
    suggestions.write(fresh, words)
    marker_path(fresh).write_text(str(run_id))
    (fresh / IDENTITY_FILE).write_text(json.dumps(built_as, sort_keys=True))
    (fresh / "build").write_text(uuid.uuid4().hex)
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        directory.rename(old)
    fresh.rename(directory)
    shutil.rmtree(old, ignore_errors=True)
    return count


def identity() -> dict:
    """What decides the words of an index: its format, the versions of whoosh, SudachiPy
    and the dictionary, the analyzer's settings, and the glossary."""
    return {**fixed_identity(), "glossary": glossary_hash()}


@functools.cache
def fixed_identity() -> dict:
    return {
        "format": INDEX_FORMAT,
        "whoosh": whoosh.versionstring(),
        "sudachipy": version("SudachiPy"),
        "sudachidict": version("SudachiDict-core"),
        "analysis": analysis.settings(),
    }


_glossary: dict[str, Any] = {"version": None, "hash": ""}


def glossary_hash() -> str:
    """The current glossary's hash, read again only when the content version changes (and
    kept as it was while the database is away)."""
    from kb.models import Glossary

    current = caching.content_version()
    if _glossary["version"] != current:
        try:
            found = Glossary.objects.filter(is_current=True).values_list("data_hash", flat=True).first()
        except DatabaseError:
            return _glossary["hash"]
        _glossary.update(version=current, hash=found or "")
    return _glossary["hash"]


def read_identity(directory: Path) -> dict | None:
    try:
        return json.loads((directory / IDENTITY_FILE).read_text())
    except (OSError, ValueError):
        return None


def indexable_count() -> int:
    from kb.models import Revision

    return Revision.objects.current().visible().count()


def build_processes(total: int | None = None) -> int:
    if (indexable_count() if total is None else total) < PARALLEL_BUILD_MIN:
        return 1
    return max(1, min(4, len(os.sched_getaffinity(0))))


def update(slugs) -> int:
    """Re-index the given articles (every language) in place, under the folder's lock."""
    directory = index_dir()
    with locked(directory):
        return write_documents(directory, slugs)


def write_documents(directory: Path, slugs) -> int:
    writer = building.writer(index.open_dir(directory), timeout=30)
    words = set()
    try:
        for slug in slugs:
            writer.delete_by_term("slug", slug)
        count = 0
        for revision in indexable(slugs):
            doc = document(revision)
            words |= english_words(doc)
            writer.add_document(**doc)
            count += 1
    except Exception:
        writer.cancel()
        raise
    writer.commit()
    suggestions.add(directory, words)
    return count


def catch_up(force: bool = False, wait: bool = False) -> int:
    """Apply the import runs this folder's index has not seen: the number of articles
    re-indexed. Cheap when there are none: the content version is read at most once a
    second (kb.caching), the same version that keys cached pages, so a page is never cached
    with an older index. Without ``wait`` (a request), nothing happens while another process
    holds the folder's lock: it is rebuilding or applying the same runs."""
    if force:
        caching.forget_content_version()
    directory = index_dir()
    if recently_usable(directory) and caching.content_version() <= read_marker(directory):
        return 0
    if not usable(directory):
        if wait:
            rebuild(directory, if_unusable=True)
        else:
            start_rebuild()  # the searcher answers meanwhile if it can (kb.search.index.searcher)
        return -1
    if caching.content_version() <= read_marker(directory):
        return 0
    try:
        with locked(directory, wait=wait):
            return apply_new_runs(directory)
    except Timeout:
        return 0


def apply_new_runs(directory: Path) -> int:
    from kb.models import ImportRun

    applied = read_marker(directory)  # again: another process may have applied them meanwhile
    runs = list(ImportRun.objects.filter(pk__gt=applied).order_by("pk").values_list("pk", "changed_slugs"))
    if not runs:
        return 0
    slugs = sorted({slug for _pk, changed in runs for slug in changed})
    write_documents(directory, slugs)
    marker_path(directory).write_text(str(runs[-1][0]))
    return len(slugs)


USABLE_SECONDS = 1.0  # how long a request trusts that an index found usable still is
_usable: dict[str, Any] = {"directory": None, "at": float("-inf")}


def recently_usable(directory: Path) -> bool:
    """Whether this process found the index usable less than USABLE_SECONDS ago: ``usable``
    reads the index's table of contents, too much to do on every search with nothing to
    apply. (A damaged index is still noticed at once: opening it fails, see ``searcher``.)"""
    return _usable["directory"] == directory and time.monotonic() - _usable["at"] < USABLE_SECONDS


def usable(directory: Path) -> bool:
    """An index exists there, was built as this code would build it now (``identity``), and
    was not found damaged. The identity is read first: whoosh's own check unpickles the
    index's classes, which for an index of another version may no longer exist."""
    try:
        found = (
            read_identity(directory) == identity()
            and build_id(directory) not in _damaged
            and index.exists_in(directory)
        )
    except CORRUPTION:
        found = False
    _usable.update(directory=directory if found else None, at=time.monotonic())
    return found


def start_rebuild():
    """Rebuild in a background thread of this process, unless one runs here already or
    another process holds the folder's lock (it is rebuilding)."""
    thread = _background["thread"]
    if thread is not None and thread.is_alive():
        return
    thread = threading.Thread(target=_rebuild_in_background, args=(index_dir(),), daemon=True)
    _background["thread"] = thread
    thread.start()


def _rebuild_in_background(directory):
    try:
        with locked(directory, wait=False):
            if not usable(directory):
                logger.warning("search index at %s unusable: rebuilding in the background", directory)
                build(directory, 0, in_workers=True)
    except Timeout:
        pass  # another process is at it
    except Exception:
        logger.exception("background rebuild of the search index failed")
    finally:
        connection.close()


def wait_for_rebuild(timeout=None):
    """For commands and tests: wait for a background rebuild of this process to end."""
    thread = _background["thread"]
    if thread is not None:
        thread.join(timeout)


def open_index():
    directory = index_dir()
    if not usable(directory):
        raise SearchRebuilding()
    return index.open_dir(directory)


@process_state.resettable
def forget_searchers():
    _local.searcher = None
    _local.build = None
    _usable["directory"] = None
    _damaged.clear()
    _glossary["version"] = None


def searcher():
    """A searcher per thread, reused across requests and reopened when the index changed: a
    new build (another identity) or new segments. When the index cannot be opened, the
    last good searcher of this thread goes on serving while it is rebuilt."""
    directory = index_dir()
    current = getattr(_local, "searcher", None)
    identity = build_id(directory)
    try:
        if current is not None and _local.build == identity and current.up_to_date():
            return current
        # Not Searcher.refresh(): it reuses segment readers and misses deletions made in them.
        fresh = open_index().searcher()
    except SearchRebuilding:
        return keep_serving(current)
    except CORRUPTION as exc:
        logger.warning("search index at %s damaged (%r): rebuilding in the background", directory, exc)
        mark_unusable(directory)
        return keep_serving(current)
    except Exception:
        logger.exception("search index at %s could not be opened; the last good searcher answers", directory)
        if current is None:
            raise SearchUnavailable() from None
        return current
    if current is not None:
        current.close()
    _local.searcher, _local.build = fresh, identity
    return fresh


def keep_serving(current):
    """No index to open: rebuild in the background; meanwhile this thread's last good
    searcher (its files are still open) answers, or there is nothing to search yet."""
    start_rebuild()
    if current is not None:
        return current
    raise SearchRebuilding()


def mark_unusable(directory: Path):
    """Make a damaged index count as missing in this process, so that its background rebuild
    replaces it. Nothing is written: a request thread never writes into the index folder."""
    _usable["directory"] = None
    _damaged.add(build_id(directory))
