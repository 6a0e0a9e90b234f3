"""Relevance of the search on the judged query sets (tests/data/relevance/), with a glossary of
your choice: hit@5 and MRR per set, and the queries missed.

    .venv/bin/python bench/relevance.py                          # the project's glossary
    .venv/bin/python bench/relevance.py --glossary other.yaml    # another one, to compare
    .venv/bin/python bench/relevance.py --no-glossary            # without the term bridge

The measurement of tests/kb/test_relevance.py (which holds the levels reached), in a
temporary database and index: content/, the jpaztech corpus and the English-only fixtures
imported, then every judged query searched as the search page does for a visitor of the
set's language. Used to decide whether a dictionary (JMdict) helps: see bench/README.md.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from workdir import setup_django  # bench/ is on the path when a script runs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "jpaztech-blog"
DATA = ROOT / "tests" / "data"


def import_all(content: Path, corpus: Path):
    from kb import importer, search

    for folder in (content, corpus, DATA / "english-only"):
        report = importer.run_import([folder])
        if not report.ok:
            raise SystemExit("\n".join(str(p) for p in report.problems))
    search.catch_up(force=True, wait=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--glossary", type=Path, help="a glossary file in place of content/glossary.yaml")
    parser.add_argument("--no-glossary", action="store_true", help="no term bridge at all")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--half", choices=["tuning", "held-out", "both"], default="both", help="which half of each set")
    parser.add_argument("--verbose", action="store_true", help="list the queries missed or not ranked first")
    args = parser.parse_args()
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
        from tests.kb.test_relevance import SETS, measure, text_ids

        names = text_ids()
        glossary = "none" if args.no_glossary else args.glossary or "content/glossary.yaml"
        print(f"glossary: {glossary}; imported in {time.perf_counter() - started:.0f} s")
        print(f"{'set':<10} {'half':<9} {'queries':>7} {'hit@5':>7} {'MRR':>6}")
        halves = ["tuning", "held-out"] if args.half == "both" else [args.half]
        for name, half in ((name, half) for name in SETS for half in halves):
            hit5, mrr, ranks, _same = measure(name, names, half)
            count, below = len(ranks), [(query, rank) for query, rank in ranks if rank != 1]
            not_found = sum(1 for _q, rank in below if not rank or rank > 5)
            print(f"{name:<10} {half:<9} {count:>7} {hit5:7.1%} {mrr:6.3f}  ({not_found} missed)")
            if args.verbose:
                for query, rank in below:
                    print(f"    {'missed' if not rank or rank > 5 else f'rank {rank}'}: {query}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
