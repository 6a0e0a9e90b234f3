"""Relevance of the search on the judged query sets (tests/data/relevance/), per set and half,
with two peers beside it: hit@5 and MRR, and the queries missed.

    .venv/bin/python bench/relevance.py                          # both halves, the project's glossary
    .venv/bin/python bench/relevance.py --half tuning -v         # the half to tune on, with the misses
    .venv/bin/python bench/relevance.py --glossary other.yaml    # another glossary, to compare
    .venv/bin/python bench/relevance.py --no-glossary            # without the term bridge

The measurement of tests/kb/test_relevance.py (which holds the held-out levels reached), in a
temporary database and index: content/, the jpaztech corpus and the English-only fixtures
imported, then every judged query searched as the search page does for a visitor of the
entry's language. Tune on the tuning half; the held-out half is the one that counts.

The peers search the same texts (the current revision of each article in each language, its
title and the plain text of its HTML), with no preference for the visitor's language:
  BM25-OR  kb.search.baseline: SudachiPy words with a part-of-speech stop filter, whoosh's
           BM25F (title 3x), the query's words OR'ed (what Elasticsearch's default `match`
           query does with a kuromoji analyzer);
  FTS5     SQLite FTS5 with the trigram tokenizer, every word of the query required, built and
           queried as bench/search_bench.py does.
A same_as judgement (two spellings must give the same results) is ours only.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_count, cpu_model  # bench/ is on the path when a script runs
from workdir import setup_django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "jpaztech-blog"
DATA = ROOT / "tests" / "data"
HALVES = ("tuning", "held-out")
ENGINES = ("ours", "BM25-OR", "FTS5")
FTS_SLUGS = "SELECT slug FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 20"  # a slug may hit in both languages


def import_all(content: Path, corpus: Path):
    from kb import importer, search

    for folder in (content, corpus, DATA / "english-only"):
        report = importer.run_import([folder])
        if not report.ok:
            raise SystemExit("\n".join(str(p) for p in report.problems))
    search.catch_up(force=True, wait=True)


def texts():
    """(slug, lang, title, html) of every text the search holds."""
    from kb.models import Revision

    return Revision.objects.current().visible().order_by("pk").values_list("article__slug", "lang", "title", "html")


def peers(workdir: Path):
    """The two peers, as functions from a query to the slugs found, best first."""
    from search_bench import fts_build, fts_expression

    from kb.search import clean_query
    from kb.search.baseline import Baseline
    from kb.search.documents import plain_text

    baseline = Baseline((slug, lang, title, plain_text(html)) for slug, lang, title, html in texts())
    con, _times = fts_build(str(workdir / "fts5.sqlite3"), texts)

    def fts5(query):
        expression = fts_expression(clean_query(query))
        slugs = []
        for (slug,) in con.execute(FTS_SLUGS, (expression,)) if expression else []:
            if slug not in slugs:
                slugs.append(slug)
        return slugs[:10]

    return {"BM25-OR": baseline.search, "FTS5": fts5}


def first_rank(slugs, expected, names):
    """The rank (1-based) of the first expected text among the slugs, or None."""
    for position, slug in enumerate(slugs, 1):
        if names.get(slug, {slug}) & expected:
            return position
    return None


def figures(ranks):
    """hit@5 and MRR of a list of ranks (None: not in the first 10)."""
    if not ranks:
        return 0.0, 0.0
    return sum(1 for r in ranks if r and r <= 5) / len(ranks), sum(1 / r for r in ranks if r) / len(ranks)


def measure_all(name, half, names, others):
    """{engine: [(query, rank)]} for one set's half; same_as judgements are left out."""
    from tests.kb.test_relevance import judgements, measure

    _hit5, _mrr, ours, _same = measure(name, names, half)
    ranks = {"ours": ours}
    for engine, search in others.items():
        ranks[engine] = [
            (str(j["q"]), first_rank(search(str(j["q"])), set(j["expect"]), names))
            for j in judgements(name, half)
            if "expect" in j
        ]
    return ranks


def show(rank):
    return "-" if not rank else str(rank)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=[*HALVES, "both"], default="both", help="which half of each set (both)")
    parser.add_argument("--glossary", type=Path, help="a glossary file in place of content/glossary.yaml")
    parser.add_argument("--no-glossary", action="store_true", help="no term bridge at all")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--no-peers", action="store_true", help="ours only")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="list the queries ours missed or did not rank first"
    )
    args = parser.parse_args()
    if not (args.corpus / "articles").is_dir():
        raise SystemExit(f"{args.corpus}: no articles/ folder (give the jpaztech corpus with --corpus)")
    workdir = Path(tempfile.mkdtemp(prefix="kb-relevance-"))
    try:
        content = workdir / "content"
        shutil.copytree(ROOT / "content", content)
        if args.no_glossary:
            (content / "glossary.yaml").unlink()
        elif args.glossary:
            shutil.copy(args.glossary, content / "glossary.yaml")
        started = time.perf_counter()
        setup_django(workdir)
        import_all(content, args.corpus)
        from tests.kb.test_relevance import SETS, text_ids

        names = text_ids()
        others = {} if args.no_peers else peers(workdir)
        glossary = "none" if args.no_glossary else args.glossary or "content/glossary.yaml"
        print(
            f"machine: {cpu_model()}, {cpu_count()} cores; glossary: {glossary}; ready in {time.perf_counter() - started:.0f} s"
        )
        engines = [e for e in ENGINES if e == "ours" or e in others]
        print(f"{'set':<10} {'half':<9} {'queries':>7}" + "".join(f" {e + ' hit@5':>14} {'MRR':>6}" for e in engines))
        halves = HALVES if args.half == "both" else (args.half,)
        for name, half in ((name, half) for name in SETS for half in halves):
            ranks = measure_all(name, half, names, others)
            cells = "".join(" {:14.1%} {:6.3f}".format(*figures([r for _q, r in ranks[e]])) for e in engines)
            print(f"{name:<10} {half:<9} {len(ranks['ours']):>7}{cells}")
            if args.verbose:
                others_by_query = {e: dict(ranks[e]) for e in engines if e != "ours"}
                for query, rank in ranks["ours"]:
                    if rank == 1:
                        continue
                    beside = ", ".join(f"{e} {show(others_by_query[e].get(query))}" for e in others_by_query)
                    label = "missed" if not rank or rank > 5 else f"rank {rank}"
                    print(f"    {label}: {query}" + (f"  ({beside})" if beside else ""))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
