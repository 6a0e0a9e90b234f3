"""Judged queries, measured as a visitor meets them: hit@5 and MRR per set, printed, and held
at the level reached (no timing here: speed is bench/'s business).

The sets (tests/data/relevance/) were written from reading the texts, not from the search's
output: Japanese and English queries on texts in their own language, English queries whose
answer is a Japanese-only post of the jpaztech corpus, and Japanese queries whose answer is
an English-only text (tests/data/english-only/); questions in customers' words and variant
spellings, typos and near-miss identifiers. Each set is split into a tuning half and a held-out
half (tests/data/relevance/tuning/, tests/data/relevance/held-out/, every entry marked `half:`);
the floors below are the held-out figures: tune on the tuning half (bench/relevance.py).
"""

from pathlib import Path

import pytest
import yaml
from django.test import override_settings

from kb import reports
from kb.forms import search_params
from kb.models import Revision
from kb.search import index as search_index
from tests.conftest import CONTENT, CORPUS, REPO, run, wipe_content

DATA = REPO / "tests" / "data"
RELEVANCE = DATA / "relevance"
HALVES = ("tuning", "held-out")
# set: (visitor's language unless an entry names its `lang`, hit@5 at least, MRR at least), on
# the held-out half. The floors are the levels reached (rounded down), so that a change that
# loses relevance fails here.
SETS = {
    "ja": ("ja", 1.00, 0.98),
    "en": ("en", 1.00, 1.00),
    "en-to-ja": ("en", 0.97, 0.87),
    "ja-to-en": ("ja", 1.00, 1.00),
    "questions": ("ja", 0.88, 0.79),
    "variants": ("ja", 1.00, 1.00),
}


def judgements(name, half="held-out"):
    """The judged queries of one set: one half ("tuning", "held-out") or "both"."""
    halves = HALVES if half == "both" else (half,)
    if not set(halves) <= set(HALVES):
        raise ValueError(f"half must be one of {HALVES} or 'both', not {half!r}")
    return [
        judgement
        for each in halves
        for judgement in yaml.safe_load((RELEVANCE / each / f"{name}.yaml").read_text(encoding="utf-8"))
    ]


def visitor_of(name, judgement):
    return judgement.get("lang", SETS[name][0])


@pytest.fixture(scope="module")
def everything(django_db_setup, django_db_blocker, tmp_path_factory):
    """The project's content, the jpaztech corpus and the English-only fixtures, imported
    once for the module."""
    index = tmp_path_factory.mktemp("relevance-index")
    with django_db_blocker.unblock(), override_settings(KB_INDEX_DIR=index):
        search_index.forget_searchers()
        for folder in (CONTENT, CORPUS, DATA / "english-only"):
            report = run(folder)
            assert report.ok, report.problems
        yield index
        wipe_content()
    search_index.forget_searchers()


def text_ids():
    """slug → the names a judgement may use for it: the slug, and a corpus post's path."""
    names = {}
    for slug, path in Revision.objects.current().values_list("article__slug", "source_path"):
        names.setdefault(slug, {slug})
        if "jpaztech-blog/articles/" in path:
            names[slug].add(path.split("jpaztech-blog/articles/", 1)[1])
    return names


def rank(query, visitor, expected, names):
    """The rank (1-based) of the first expected text among the first 10 hits, or None."""
    results = reports.search(search_params({"q": query}), visitor)
    for position, hit in enumerate(results.hits, 1):
        if names[hit.slug] & expected:
            return position
    return None


def measure(name, names, half="held-out"):
    ranks, same = [], []
    for judgement in judgements(name, half):
        visitor = visitor_of(name, judgement)
        if "same_as" in judgement:
            first = reports.search(search_params({"q": judgement["q"]}), visitor).hits[:3]
            other = reports.search(search_params({"q": judgement["same_as"]}), visitor).hits[:3]
            same.append([(h.slug, h.lang) for h in first] == [(h.slug, h.lang) for h in other] != [])
            continue
        ranks.append((judgement["q"], rank(judgement["q"], visitor, set(judgement["expect"]), names)))
    hit5 = sum(1 for _q, r in ranks if r and r <= 5) / len(ranks)
    mrr = sum(1 / r for _q, r in ranks if r) / len(ranks)
    return hit5, mrr, ranks, same


@pytest.mark.corpus
@pytest.mark.django_db
@pytest.mark.parametrize("name", list(SETS))
def test_judged_queries(name, everything, settings, capsys):
    settings.KB_INDEX_DIR = everything
    hit5, mrr, ranks, same = measure(name, text_ids())
    missed = [query for query, position in ranks if not position or position > 5]
    with capsys.disabled():
        print(f"\nrelevance {name}: {len(ranks)} queries, hit@5 {hit5:.1%}, MRR {mrr:.3f}; missed: {missed}")  # noqa: T201  (the figures are the point)
    _visitor, least_hits, least_mrr = SETS[name]
    assert all(same), "spelling variants must give the same results"
    assert hit5 >= least_hits and mrr >= least_mrr, (hit5, mrr, missed)


def test_every_judgement_names_a_text_that_exists():
    corpus_paths = {str(path.relative_to(CORPUS / "articles")) for path in (CORPUS / "articles").rglob("*.md")}
    slugs = {path.name for path in (CONTENT / "articles").iterdir()}
    slugs |= {path.name for path in (DATA / "english-only" / "articles").iterdir()}
    for name in SETS:
        for half in HALVES:
            for judgement in judgements(name, half):
                assert judgement.get("half") == half, (name, half, judgement)
        sizes = [len(judgements(name, half)) for half in HALVES]
        assert min(sizes) >= 0.45 * sum(sizes), (name, sizes)
        queries = [judgement["q"] for judgement in judgements(name, "both")]
        assert len(queries) == len(set(queries)), f"{name}: a query twice, or in both halves"
        for judgement in judgements(name, "both"):
            assert "q" in judgement and ("expect" in judgement or "same_as" in judgement), judgement
            assert visitor_of(name, judgement) in ("ja", "en"), judgement
            for expected in judgement.get("expect", []):
                assert expected in corpus_paths or expected in slugs, (name, expected)


def test_the_english_only_fixtures_have_no_japanese():
    for path in (DATA / "english-only" / "articles").glob("*/*.md"):
        assert Path(path).name == "en.md"
        assert not any("\u3040" <= char <= "\u9fff" for char in path.read_text(encoding="utf-8")), path
