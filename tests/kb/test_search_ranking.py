"""The array arithmetic behind search ranking, on small hand-made collections."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kb.search import ranking, snippets


def collection(lengths, deleted=()):
    live = np.ones(len(lengths), dtype=bool)
    live[list(deleted)] = False
    return ranking.Collection(live=live, lengths=np.array(lengths, dtype=float))


def term(col, postings):
    ids = np.array(list(postings), dtype=np.int64)
    return ranking.bm25(col, ids, np.array(list(postings.values()), dtype=float))


def test_a_rarer_word_scores_higher_and_more_occurrences_score_higher():
    col = collection([10] * 6)
    common = term(col, {0: 1, 1: 1, 2: 1, 3: 1})
    rare = term(col, {0: 1})
    assert rare.score[0] > common.score[0] > 0
    repeated = term(col, {0: 3, 1: 1})
    assert repeated.score[0] > repeated.score[1]
    assert common.mask.tolist() == [True, True, True, True, False, False]


def test_a_shorter_document_scores_higher_for_the_same_count():
    col = collection([5, 50, 20])
    match = term(col, {0: 1, 1: 1})
    assert match.score[0] > match.score[1]


def test_deleted_documents_neither_match_nor_count():
    with_deleted = term(collection([10] * 4, deleted=[1, 2]), {0: 1, 1: 1, 2: 1})
    assert with_deleted.mask.tolist() == [True, False, False, False]
    # Only one live document holds the word: it is as rare as a word found once.
    assert with_deleted.score[0] == term(collection([10, 10]), {0: 1}).score[0]


def test_all_of_and_any_of_combine_masks_and_add_scores():
    col = collection([10] * 4)
    a, b = term(col, {0: 1, 1: 1}), term(col, {1: 1, 2: 1})
    both = ranking.all_of([a, b], 4)
    either = ranking.any_of([a, b], 4)
    assert both.mask.tolist() == [False, True, False, False]
    assert both.score[1] == a.score[1] + b.score[1] and both.score[0] == 0
    assert either.mask.tolist() == [True, True, True, False]
    assert either.score[2] == b.score[2]
    assert not ranking.all_of([], 4).mask.any() and not ranking.any_of([], 4).mask.any()


def test_ranked_puts_groups_in_order_best_first_and_pages_across_the_boundary():
    scores = np.array([0.5, 3.0, 2.0, 0.0, 4.0, 1.0])
    match = ranking.Match(scores > 0, scores)
    first = np.array([True, True, True, False, False, False])
    second = ~first
    order = [1, 2, 0, 4, 5]
    for start in range(0, 6):
        for end in range(start, 7):
            page, total = ranking.ranked(match, [first, second], start, end)
            assert total == 5
            assert page == order[start:end], (start, end)


def test_ties_keep_index_order_whatever_the_page_size():
    scores = np.array([1.0, 2.0, 1.0, 1.0, 2.0, 1.0, 1.0])
    match = ranking.Match(np.ones(7, dtype=bool), scores)
    full = ranking.ranked(match, [match.mask], 0, 7)[0]
    assert full == [1, 4, 0, 2, 3, 5, 6]
    for end in range(1, 8):
        assert ranking.ranked(match, [match.mask], 0, end)[0] == full[:end]


def test_a_run_is_found_where_it_begins_and_never_across_two_documents():
    # document 0: 1 2 3 | document 1: 3 1 2 | document 2: (empty) | document 3: 2 3
    words = np.array([1, 2, 3, 3, 1, 2, 2, 3], dtype=np.uint32)
    starts, sizes = np.array([0, 3, 6, 6]), np.array([3, 3, 0, 2])
    assert ranking.run_starts(words, np.array([1, 2], dtype=np.uint32)).tolist() == [0, 4]
    assert ranking.run_starts(words, np.array([2, 3, 4], dtype=np.uint32)).tolist() == []

    # Gathering the documents' words, or scanning the whole segment: the same answers.
    def with_places(words, starts, sizes, run):
        return ranking.documents_holding_run(words, starts, sizes, run, np.flatnonzero(words == run[0]))

    for documents_with in (ranking.documents_with_run, ranking.documents_holding_run, with_places):
        with_run = documents_with(words, starts, sizes, np.array([2, 3], dtype=np.uint32))
        assert with_run.tolist() == [True, False, False, True]
        assert documents_with(words, starts, sizes, np.array([1, 2], dtype=np.uint32)).tolist() == [
            True,
            True,
            False,
            False,
        ]
        # 3 then 3 only across the boundary of documents 0 and 1; 2 then 2 across 1 and 3.
        for run in ([3, 3], [2, 2]):
            assert not documents_with(words, starts, sizes, np.array(run, dtype=np.uint32)).any()
    # Only the documents asked about are looked at.
    some = ranking.documents_with_run(words, starts[[1, 3]], sizes[[1, 3]], np.array([1, 2], dtype=np.uint32))
    assert some.tolist() == [True, False]


@given(
    words=st.lists(st.integers(0, 6), max_size=80).map(lambda xs: np.array(xs, dtype=np.uint32)),
    wanted=st.sets(st.integers(0, 7), min_size=1, max_size=4),
)
def test_the_single_words_of_a_snippet_are_found_in_one_scan_as_word_by_word(words, wanted):
    hashes = np.array(sorted(wanted), dtype=np.uint32)
    one_by_one = np.sort(
        np.concatenate(
            [ranking.run_starts(words, np.array([h], dtype=np.uint32))[: snippets.MARKS_PER_RUN] for h in hashes]
        )
    )
    assert snippets.first_places(words, hashes).tolist() == one_by_one.tolist()
