"""One index lifecycle, safe across processes: a request never rebuilds nor waits for the
index lock; a missing or damaged index is rebuilt once, in the background, while the last
good index answers; builds have an identity searchers compare. (Rebuilds in the background
use their own database connection: these tests commit their data, transactional_db.)"""

import shutil
import threading

import pytest
from django.conf import settings
from django.db import DatabaseError

from kb import search
from kb.models import ImportRun, Revision
from kb.search import index as search_index
from tests.conftest import CONTENT, make_article, run


def found(query, **kwargs):
    return [(hit.slug, hit.lang) for hit in search.search(query, **kwargs).hits]


@pytest.fixture
def imported(transactional_db):
    assert run(CONTENT).ok


def rebuilt_in_the_background(query):
    """The first search says the index is being rebuilt; once the rebuild has run, it answers."""
    with pytest.raises(search.SearchRebuilding):
        search.search(query)
    search_index.wait_for_rebuild(timeout=120)
    return found(query, lang="ja")


def test_a_deleted_index_is_rebuilt_in_the_background(imported, isolated_index):
    search.forget_searchers()
    shutil.rmtree(isolated_index)
    assert rebuilt_in_the_background("0NC_-L9G") == [("20211013-rca-azure-vm", "ja")]


def test_an_index_of_a_site_with_no_texts_yet_answers_nothing_found(transactional_db, isolated_index):
    """A fresh site before its first import: the rebuild gives an index with no segment at all."""
    search.forget_searchers()
    shutil.rmtree(isolated_index, ignore_errors=True)
    assert rebuilt_in_the_background("waagent") == []
    assert search.search("VM エージェント", lang="ja").total == 0


def test_a_damaged_index_is_rebuilt_in_the_background(imported, isolated_index):
    search.forget_searchers()
    for toc in isolated_index.glob("*.toc"):
        toc.write_bytes(b"garbage")
    assert rebuilt_in_the_background("0NC_-L9G") == [("20211013-rca-azure-vm", "ja")]


def test_while_the_index_is_rebuilt_the_last_good_one_answers(imported, isolated_index):
    assert found("0NC_-L9G", lang="ja") == [("20211013-rca-azure-vm", "ja")]  # opens a searcher
    for toc in isolated_index.glob("*.toc"):
        toc.write_bytes(b"garbage")
    make_article("fresh", title="新しい記事", body="0NC_-L9G を含む新しい記事")  # a change to apply
    ImportRun.objects.create(changed_slugs=["fresh"])
    assert found("0NC_-L9G", lang="ja") == [("20211013-rca-azure-vm", "ja")]  # the open searcher
    search_index.wait_for_rebuild(timeout=120)
    search.catch_up(force=True, wait=True)
    assert sorted(found("0NC_-L9G", lang="ja")) == [("20211013-rca-azure-vm", "ja"), ("fresh", "ja")]


def test_an_index_written_by_the_previous_code_is_rebuilt_never_read(transactional_db, isolated_index):
    """tests/data/index-format-4 was written by the code before kb/search became a package:
    its metadata names kb.search.HybridTokenizer, which no longer exists. Opening it would
    fail (or, worse, read it with other analysis); its format number says to rebuild."""
    shutil.copytree(settings.BASE_DIR / "tests" / "data" / "index-format-4", isolated_index)
    assert (isolated_index / "format").read_text() == "4" and not search_index.usable(isolated_index)
    make_article("fresh", title="新しい記事", body="更新中のまま終わらない。")
    search.forget_searchers()
    assert rebuilt_in_the_background("更新中") == [("fresh", "ja")]  # not the old index's "old-index"
    assert search_index.usable(isolated_index)


def test_a_replaced_index_is_noticed_though_its_generation_is_the_same(imported, isolated_index):
    """Every fresh build is whoosh generation 1: the build's identity tells them apart."""
    before = search_index.searcher()
    Revision.objects.filter(article__slug="vmagent-notready", lang="ja").update(title="置き換えられた題名")
    search.rebuild(procs=1)
    after = search_index.searcher()
    assert after is not before and after.reader().generation() == before.reader().generation()
    assert found("置き換えられた題名") == [("vmagent-notready", "ja")]


def test_a_request_does_not_wait_for_the_lock_and_catches_up_once_it_is_free(imported, isolated_index):
    make_article("fresh", title="新しい記事", body="ロックの試験")
    ImportRun.objects.create(changed_slugs=["fresh"])
    done = []
    with search_index.locked(isolated_index):  # another process rebuilding or updating
        worker = threading.Thread(target=lambda: done.append(search.catch_up(force=True)))
        worker.start()
        worker.join(timeout=30)
        assert done == [0]  # returned at once, applied nothing
    assert found("ロックの試験")[0] == ("fresh", "ja")  # the next search applies the run (the words apart rank below)


def test_update_waits_for_a_rebuild_in_progress(imported, isolated_index, monkeypatch):
    """The update writes only once the lock is free: what it sees when it writes is recorded,
    not guessed from how long a thread took."""
    lock_held, writing, about_to_update = threading.Event(), threading.Event(), threading.Event()
    seen_while_writing, updated = [], []
    original = search_index.write_documents

    def write_documents(directory, slugs):
        seen_while_writing.append(lock_held.is_set())
        writing.set()
        return original(directory, slugs)

    monkeypatch.setattr(search_index, "write_documents", write_documents)

    def update():
        about_to_update.set()
        updated.append(search.update(["vmagent-notready"]))

    with search_index.locked(isolated_index):
        lock_held.set()
        worker = threading.Thread(target=update)
        worker.start()
        assert about_to_update.wait(timeout=30)
        assert not writing.wait(timeout=2)  # a lock that let it through would have written by now
        lock_held.clear()
    worker.join(timeout=60)
    assert seen_while_writing == [False] and updated == [2]  # both texts of the article


def test_a_database_that_is_away_does_not_rebuild_the_index(imported, isolated_index, monkeypatch):
    identity = search_index.build_id(isolated_index)
    ImportRun.objects.create(changed_slugs=["vmagent-notready"])

    def away(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(search_index, "apply_new_runs", away)
    assert found("0NC_-L9G", lang="ja") == [("20211013-rca-azure-vm", "ja")]
    assert search_index.build_id(isolated_index) == identity and search_index.usable(isolated_index)
