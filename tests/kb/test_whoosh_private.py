"""Pins the private parts of whoosh that kb/search/whoosh_private.py relies on, on the pinned
Whoosh-Reloaded version: an upgrade that changes them fails here, not in a visitor's search.
(The only test that imports whoosh itself: it is about whoosh.)"""

import numpy as np
import pytest
import whoosh

from kb.search import index as search_index
from kb.search import whoosh_private
from kb.search.segments import Searchable
from tests.conftest import make_article


def test_the_pinned_version():
    assert whoosh.versionstring() == "2.7.5"


@pytest.fixture
def index_with_deletions(db, settings, tmp_path):
    """Three articles indexed, then one re-indexed: its old document is deleted in the segment."""
    settings.KB_INDEX_DIR = tmp_path / "index"
    for slug, body in (("one", "disk cache"), ("two", "disk disk cache"), ("three", "network")):
        make_article(slug, lang="en", title=slug, body=body)
    search_index.forget_searchers()
    search_index.rebuild(procs=1)
    search_index.update(["one"])
    search_index.forget_searchers()
    return search_index.open_index()


def public_postings(reader, fieldname, text):
    matcher = reader.postings(fieldname, text)
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return ids, weights


def test_reading_whole_blocks_gives_the_public_postings_plus_the_deleted_ones(index_with_deletions):
    with index_with_deletions.reader() as reader:
        (segment, _offset), (added, _) = list(reader.leaf_readers())  # the update added a segment
        assert not added.has_deletions()
        deleted = set(whoosh_private.deleted_documents(segment))
        assert deleted == set(range(segment.doc_count_all())) - set(segment.all_doc_ids()) != set()
        matcher = segment.postings("text", "disk")
        assert hasattr(matcher, "child") and hasattr(matcher.child, "_next_block")
        ids, weights = whoosh_private.read_postings(segment, "text", "disk")
        live = [(i, w) for i, w in zip(ids.tolist(), weights.tolist(), strict=True) if i not in deleted]
        assert live == list(zip(*public_postings(segment, "text", "disk"), strict=True))
        assert len(ids) == len(live) + 1  # the deleted copy of "one" is read too, for the mask
        assert whoosh_private.read_postings(segment, "text", "absent") == whoosh_private.EMPTY_POSTINGS


def test_state_kept_on_a_searcher_lives_and_dies_with_it(index_with_deletions):
    first = index_with_deletions.searcher()
    made = []
    for _ in range(2):
        whoosh_private.kept_on(first, "_test_state", lambda s: made.append(s) or len(made))
    assert made == [first]
    assert Searchable.of(first) is Searchable.of(first)
    second = index_with_deletions.searcher()
    assert Searchable.of(second) is not Searchable.of(first)
    assert np.array_equal(Searchable.of(second).live, Searchable.of(first).live)
