"""Pins the private parts of whoosh that kb/search/whoosh_private.py relies on, on the pinned
Whoosh-Reloaded version: an upgrade that changes them fails here, not in a visitor's search.
(The only test that imports whoosh itself: it is about whoosh.)"""

import shutil

import numpy as np
import pytest
import whoosh
from whoosh import writing

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


def test_the_codec_without_length_statistics_never_reads_lengths_back_while_writing(monkeypatch, tmp_path):
    reads = []
    original = writing.SegmentWriter.per_document_reader
    monkeypatch.setattr(writing.SegmentWriter, "per_document_reader", lambda self: reads.append(1) or original(self))
    from kb.search.documents import schema

    def write(codec):
        folder = tmp_path / type(codec).__name__
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        ix = whoosh.index.create_in(folder, schema())
        writer = ix.writer(codec=codec)
        writer.add_document(key="k", slug="s", lang="en", text="a disk")
        writer.commit()

    write(whoosh_private.Codec())
    assert reads == []
    write(whoosh.codec.whoosh3.W3Codec())
    assert reads == [1]  # whoosh's own codec does: the attribute is what decides


def segment_files(folder):
    """Each file of the index's one segment, by what it holds (the segment's name is random)."""
    (segment,) = {path.name.split(".", 1)[0] for path in folder.glob("MAIN_*.*")}
    return {path.name.split(".", 1)[1]: path.read_bytes() for path in folder.glob(f"{segment}.*")}


@pytest.mark.django_db
def test_the_builder_writes_exactly_the_files_whoosh_s_writer_writes(seeds, tmp_path):
    """kb.search.building gathers each term's postings and hands them to whoosh's postings
    writer a block at a time (whoosh_private.write_term): the index must be the one whoosh's
    own writer makes from the same documents, byte for byte. 30 copies of the seed texts:
    common words then fill several blocks of 128 postings."""
    from kb.search import building
    from kb.search.documents import document, indexable, schema

    texts = [document(revision) for revision in indexable()]
    documents = [dict(text, key=f"{text['key']}:{copy}") for copy in range(30) for text in texts]
    (tmp_path / "whoosh").mkdir()
    (tmp_path / "built").mkdir()
    ix = whoosh.index.create_in(tmp_path / "whoosh", schema())
    writer = ix.writer(**search_index.WRITER_OPTIONS)
    for fields in documents:
        writer.add_document(**fields)
    writer.commit()
    assert building.build(whoosh.index.create_in(tmp_path / "built", schema()), documents, procs=1) == 300

    written, built = segment_files(tmp_path / "whoosh"), segment_files(tmp_path / "built")
    assert {"pst", "trm", "sequence.col", "offsets.col", "_stored.col"} <= set(written)
    assert built == written
    with whoosh.index.open_dir(tmp_path / "built").reader() as reader:
        assert reader.doc_frequency("text", "仮想") > 128  # (the blocks above were really several)
        assert sorted(path.name for path in (tmp_path / "built").glob("*.toc")) == ["_MAIN_1.toc"]
        assert not (tmp_path / "built" / "MAIN.tmp").exists()
