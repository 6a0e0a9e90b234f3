"""Relevance of the search on the judged query sets (tests/data/relevance/), with a glossary of
your choice: hit@5 and MRR per set, and the queries missed.

    .venv/bin/python bench/relevance.py                          # the project's glossary
    .venv/bin/python bench/relevance.py --glossary other.yaml    # another one, to compare
    .venv/bin/python bench/relevance.py --no-glossary            # without the term bridge

The same measurement as tests/kb/test_relevance.py (which holds the levels reached), in a
temporary database and index: content/, the jpaztech corpus and the English-only fixtures
imported, then every judged query searched as the search page does for a visitor of the
set's language. Used to decide whether a dictionary (JMdict) helps: see bench/README.md.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "jpaztech-blog"
DATA = ROOT / "tests" / "data"
SETS = {"ja": "ja", "en": "en", "en-to-ja": "en", "ja-to-en": "ja"}


def setup(workdir: Path):
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY="relevance-bench",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        KB_INDEX_DIR=str(workdir / "index"),
        KB_VAR_DIR=str(workdir),
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def import_all(content: Path, corpus: Path):
    from kb import importer, search

    for folder in (content, corpus, DATA / "english-only"):
        report = importer.run_import([folder])
        if not report.ok:
            raise SystemExit("\n".join(str(p) for p in report.problems))
    search.catch_up(force=True, wait=True)


def names_of_texts():
    from kb.models import Revision

    names = {}
    for slug, path in Revision.objects.current().values_list("article__slug", "source_path"):
        names.setdefault(slug, {slug})
        if "jpaztech-blog/articles/" in path:
            names[slug].add(path.split("jpaztech-blog/articles/", 1)[1])
    return names


def measure(name, names):
    import yaml

    from kb import reports
    from kb.forms import search_params

    ranks = []
    for judgement in yaml.safe_load((DATA / "relevance" / f"{name}.yaml").read_text(encoding="utf-8")):
        if "expect" not in judgement:
            continue
        hits = reports.search(search_params({"q": judgement["q"]}), SETS[name]).hits
        rank = next((n for n, hit in enumerate(hits, 1) if names[hit.slug] & set(judgement["expect"])), None)
        ranks.append((judgement["q"], rank))
    hit5 = sum(1 for _q, r in ranks if r and r <= 5) / len(ranks)
    mrr = sum(1 / r for _q, r in ranks if r) / len(ranks)
    return len(ranks), hit5, mrr, [q for q, r in ranks if not r or r > 5]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--glossary", type=Path, help="a glossary file in place of content/glossary.yaml")
    parser.add_argument("--no-glossary", action="store_true", help="no term bridge at all")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--verbose", action="store_true", help="list the queries missed")
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
        setup(workdir)
        import_all(content, args.corpus)
        names = names_of_texts()
        glossary = "none" if args.no_glossary else args.glossary or "content/glossary.yaml"
        print(f"glossary: {glossary}; imported in {time.perf_counter() - started:.0f} s")
        print(f"{'set':<10} {'queries':>7} {'hit@5':>7} {'MRR':>6}")
        for name in SETS:
            count, hit5, mrr, missed = measure(name, names)
            print(f"{name:<10} {count:>7} {hit5:7.1%} {mrr:6.3f}  ({len(missed)} missed)")
            if args.verbose:
                for query in missed:
                    print(f"    missed: {query}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
