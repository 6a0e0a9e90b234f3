"""A parsed query evaluated over the arrays of ``Searchable``: which documents match, with
their BM25 scores."""

from dataclasses import dataclass

import numpy as np
from whoosh import query

from kb import languages
from kb.search import ranking
from kb.search.analysis import run_of
from kb.search.bridge import Concept
from kb.search.segments import Searchable


def evaluate(node, data: Searchable) -> ranking.Match:
    """The documents a parsed query matches, with their BM25 scores."""
    size = data.size
    if isinstance(node, query.Term):
        return data.term(node.text, node.boost) if node.fieldname == "text" else ranking.Match.none(size)
    if isinstance(node, query.Phrase):
        return phrase(node, data)
    if isinstance(node, Concept):
        return best_of([evaluate(child, data) for child in node.subqueries], size)
    if isinstance(node, query.And):
        return ranking.all_of([evaluate(child, data) for child in node.subqueries], size)
    if isinstance(node, query.Or):
        return ranking.any_of([evaluate(child, data) for child in node.subqueries], size)
    if isinstance(node, query.AndNot):
        positive = evaluate(node.a, data)
        return ranking.restrict(positive, ~evaluate(node.b, data).mask)
    if isinstance(node, query.AndMaybe):
        required, optional = evaluate(node.a, data), evaluate(node.b, data)
        return ranking.Match(required.mask, np.where(required.mask, required.score + optional.score, 0.0))
    if isinstance(node, query.Require):
        return ranking.restrict(evaluate(node.a, data), evaluate(node.b, data).mask)
    if isinstance(node, query.Not):
        return ranking.Match(data.live & ~evaluate(node.query, data).mask, np.zeros(size))
    if isinstance(node, query.Every):
        return ranking.Match.every(data.live)
    if node is query.NullQuery or isinstance(node, query.NullQuery.__class__):
        return ranking.Match.none(size)
    # Anything else (the parser is not expected to produce more): all of its parts.
    children = list(node.children())
    if children:
        return ranking.all_of([evaluate(child, data) for child in children], size)
    return ranking.all_of([data.term(text) for name, text in node.iter_all_terms() if name == "text"], size)


def best_of(matches, size) -> ranking.Match:
    """Any of the matches, scored as the best of them: a concept found in several forms is
    still one concept."""
    if not matches:
        return ranking.Match.none(size)
    return ranking.Match(np.logical_or.reduce([m.mask for m in matches]), np.maximum.reduce([m.score for m in matches]))


def phrase(node, data: Searchable, within=None) -> ranking.Match:
    """Words that must stand one after another, scored as the words together; only among
    the documents of the mask ``within`` when given. (A proximity ``"a b"~3`` is read as the
    words anywhere.)"""
    words = list(node.words)
    size = data.size
    if not words or node.fieldname != "text":
        return ranking.Match.none(size)
    scored = ranking.all_of([data.term(word, node.boost) for word in words], size)
    if within is not None:
        scored = ranking.restrict(scored, within)
    if len(words) == 1 or node.slop != 1 or not scored.mask.any():
        return scored
    if within is not None:
        return ranking.restrict(scored, data.in_sequence(run_of(words), scored.mask))
    return data.remembered(
        ("phrase", tuple(words), node.boost),
        lambda: ranking.restrict(scored, data.in_sequence(run_of(words), scored.mask)),
    )


# The ranked reading (``bridge.slots_of``), measured on the tuning half of tests/data/relevance:
COVERAGE_POWER_RANKED = 2.0
ALL_HELD_BONUS = 1.5  # a text that holds every slot: a strong signal, not a gate
RARITY_POWER = 1.0  # rare words lead: each slot's BM25 weighed again by its rarity (idf²)
MIN_COVERAGE = 0.0  # share of the query's weight a text must hold to be listed at all


@dataclass
class Ranked:
    """The ranked reading's match, and per text its coverage (weighs the score) and the share
    of the query it answers (``engine.Results.answered``)."""

    match: ranking.Match
    coverage: np.ndarray
    answered: np.ndarray


def ranked(slots, data: Searchable) -> Ranked:
    """Every text that holds any slot, scored as the BM25 of what it holds (each slot by its
    best alternative) times its coverage: the share of the query's weight (each slot by its
    rarity) it holds, among the slots a text in its script could hold (a Japanese word is not
    expected of an English text)."""
    size = data.size
    latin = np.zeros(size, dtype=bool)
    for code in languages.latin_script():
        latin |= data.filter(code)
    total, held_weight, asked_weight = np.zeros(size), np.zeros(size), np.zeros(size)
    asked_held_weight, unheld_expected, rarest_held = np.zeros(size), np.zeros(size), 0.0
    any_held, every_held = np.zeros(size, dtype=bool), data.live.copy()
    required = data.live.copy()
    count = max(int(data.live.sum()), 1)
    for slot in slots:
        held, score = np.zeros(size, dtype=bool), np.zeros(size)
        for node, weight in slot.alternatives:
            found = evaluate(node, data)
            held |= found.mask
            np.maximum(score, found.score * weight, out=score)
        documents = int((held & data.live).sum())
        rarity = np.log(1.0 + (count - documents + 0.5) / (documents + 0.5))
        expected = np.where(latin, slot.latin, slot.other) | held
        total += score * rarity**RARITY_POWER
        held_weight += rarity * held
        asked_weight += rarity * expected
        if documents:
            asked_held_weight += rarity * expected
            rarest_held = max(rarest_held, rarity)
        else:
            unheld_expected += expected
        any_held |= held
        every_held &= held
        if slot.required:
            required &= held
    coverage = held_weight / np.maximum(asked_weight, 1e-9)
    mask = any_held & required & data.live & (coverage >= MIN_COVERAGE)
    score = total * coverage**COVERAGE_POWER_RANKED * np.where(every_held, ALL_HELD_BONUS, 1.0)
    # How much of the query a text answers: as coverage, but a word no text holds weighs only
    # as much as the rarest word some text holds (by rarity alone it would weigh most of all,
    # and one word the texts put otherwise would make every answer look like a stray match).
    answered = held_weight / np.maximum(asked_held_weight + rarest_held * unheld_expected, 1e-9)
    return Ranked(
        ranking.Match(mask, np.where(mask, score, 0.0)), np.where(mask, coverage, 0.0), np.where(mask, answered, 0.0)
    )


PROXIMITY_TOP = 50  # texts re-ranked by how close the query's neighbouring slots stand
PROXIMITY_WINDOW = 4  # words between two slots that still count as close (particles count)
PROXIMITY_BONUS = 0.6  # the most a text gains when every neighbouring pair stands close


def proximity(slots, data: Searchable, match: ranking.Match, among: np.ndarray) -> ranking.Match:
    """The match with its best ``PROXIMITY_TOP`` texts gaining up to ``PROXIMITY_BONUS`` for
    each pair of the query's neighbouring slots that stand within ``PROXIMITY_WINDOW`` words
    of each other (ロードバランサー の 正常性プローブ): a text about the question, not one that
    holds its words in different places."""
    if len(slots) < 2:
        return match
    ids = best_texts(match, among, PROXIMITY_TOP)
    firsts, lasts = ([edge_words(slot, end) for slot in slots] for end in (0, -1))
    if not ids.size:
        return match
    words, owner = gathered(data, ids)
    starts = [np.flatnonzero(np.isin(words, first)) for first in firsts]
    ends = [np.flatnonzero(np.isin(words, last)) for last in lasts]
    close = np.zeros(ids.size)
    for a, b in zip(ends, starts[1:], strict=False):  # from where a slot ends to where the next begins
        close += close_pairs(a, b, owner, ids.size)
    score = match.score.copy()
    score[ids] *= 1.0 + PROXIMITY_BONUS * close / (len(slots) - 1)
    return ranking.Match(match.mask, score)


def edge_words(slot, end: int) -> np.ndarray:
    """The hashes of the first (``end`` 0) or last (-1) word of each of the slot's alternatives."""
    return np.array(
        sorted({int(run_of(words)[end]) for node, _w in slot.alternatives if (words := node_words(node))}),
        dtype=np.uint32,
    )


def best_texts(match: ranking.Match, among: np.ndarray, count: int) -> np.ndarray:
    """The (at most) ``count`` best-scored texts of the match among ``among``, in no order."""
    ids = np.flatnonzero(match.mask & among)
    if ids.size > count:
        ids = ids[np.argpartition(-match.score[ids], count - 1)[:count]]
    return ids


def gathered(data: Searchable, ids) -> tuple[np.ndarray, np.ndarray]:
    """The word hashes of the texts ``ids`` end to end, and the number (in ``ids``) of the
    text each word belongs to."""
    texts = [data.words_of(int(docnum)) for docnum in ids]
    return np.concatenate(texts), np.repeat(np.arange(len(texts)), [text.size for text in texts])


AS_TYPED_TOP = 200  # the best texts checked for holding the query as typed


def as_typed(node, data: Searchable, match: ranking.Match, among: np.ndarray) -> np.ndarray:
    """Which of the best ``AS_TYPED_TOP`` texts hold the query as typed (every word, a
    Japanese word typed whole in sequence), as a mask: read from their word sequences, so
    the particles of a typed sentence (を, の: in every Japanese text) cost no posting list."""
    mask = np.zeros(data.size, dtype=bool)
    ids = best_texts(match, among, AS_TYPED_TOP)
    if ids.size:
        words, owner = gathered(data, ids)
        mask[ids] = holds(node, words, owner, ids.size)
    return mask


def holds(node, words: np.ndarray, owner: np.ndarray, count: int) -> np.ndarray:
    """For each of ``count`` texts laid end to end, whether it holds a query of words, phrases,
    AND and OR (anything else: False, as if not held)."""
    if isinstance(node, (query.Term, query.Phrase)) and node.fieldname == "text":
        run = run_of(node_words(node))
        found = ranking.run_starts(words, run) if node_words(node) else np.zeros(0, dtype=np.int64)
        found = found[owner[found] == owner[found + run.size - 1]]
        return ranking.presence(count, owner[found])
    if isinstance(node, query.And) and node.subqueries:
        return np.logical_and.reduce([holds(child, words, owner, count) for child in node.subqueries])
    if isinstance(node, query.Or) and node.subqueries:
        return np.logical_or.reduce([holds(child, words, owner, count) for child in node.subqueries])
    return np.zeros(count, dtype=bool)


def close_pairs(a: np.ndarray, b: np.ndarray, owner: np.ndarray, count: int) -> np.ndarray:
    """For each of ``count`` texts laid end to end (``owner`` of each place), 1 where a place
    of ``a`` and one of ``b`` stand within PROXIMITY_WINDOW words of each other, else 0."""
    held = np.zeros(count)
    if not a.size or not b.size:
        return held
    places = np.concatenate([a, b])
    kinds = np.concatenate([np.zeros(a.size, dtype=bool), np.ones(b.size, dtype=bool)])
    order = np.argsort(places, kind="stable")
    places, kinds = places[order], kinds[order]
    # neighbours of the other kind, in the same text, close enough
    near = (kinds[1:] != kinds[:-1]) & (owner[places[1:]] == owner[places[:-1]])
    near &= places[1:] - places[:-1] <= PROXIMITY_WINDOW
    held[owner[places[1:][near]]] = 1.0
    return held


def node_words(node) -> list:
    """The words of a Term or Phrase (of the first of an Or of them: a split variant)."""
    if isinstance(node, query.Term):
        return [node.text]
    if isinstance(node, query.Phrase):
        return list(node.words)
    if isinstance(node, query.Or) and node.subqueries:
        return node_words(node.subqueries[0])
    return []
