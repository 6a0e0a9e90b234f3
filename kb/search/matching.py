"""A parsed query evaluated over the arrays of ``Searchable``: which documents match, with
their BM25 scores."""

import numpy as np
from whoosh import query

from kb.search import ranking
from kb.search.analysis import run_of
from kb.search.segments import Searchable


def evaluate(node, data: Searchable) -> ranking.Match:
    """The documents a parsed query matches, with their BM25 scores."""
    size = data.size
    if isinstance(node, query.Term):
        return data.term(node.text, node.boost) if node.fieldname == "text" else ranking.Match.none(size)
    if isinstance(node, query.Phrase):
        return phrase(node, data)
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


def phrase(node, data: Searchable) -> ranking.Match:
    """Words that must stand one after another, scored as the words together. (A proximity
    ``"a b"~3`` is read as the words anywhere.)"""
    words = list(node.words)
    size = data.size
    if not words or node.fieldname != "text":
        return ranking.Match.none(size)
    scored = ranking.all_of([data.term(word, node.boost) for word in words], size)
    if len(words) == 1 or node.slop != 1 or not scored.mask.any():
        return scored
    return ranking.restrict(scored, data.in_sequence(run_of(words), scored.mask))
