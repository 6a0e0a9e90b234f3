"""Which Japanese analysis for kb.search: relevance, phrase precision and speed.

    .venv/bin/python bench/analyzers.py [--rounds 5] [--passes 2] [--only NAME ...] [--verbose]
                                        [--corpus DIR] [--keep]

The real search pipeline, with only the Japanese analysis swapped. kb.search.analysis cuts the
ASCII runs out first (indexed whole plus CamelCase/punctuation parts, English words stemmed)
and hands the Japanese between them to the module-level function
``kb.search.analysis.japanese_terms(segment)``, which yields (term, start, end).
HybridTokenizer and terms() look that function up at call time, so replacing the module
attribute changes both what the index holds and how a query is read. For each analyzer this
bench sets the attribute, empties the per-thread analysis cache, points KB_INDEX_DIR at the
analyzer's own folder, and forgets the per-thread searcher (and, where kb.glossary keeps a
term bridge, its glossary forms, which terms() analyses too). At the end it puts the original
function back. The bench imports no whoosh: it builds with kb.search.index.rebuild and
queries with kb.search.search, as the site does.

  sudachi-A   kb.search.analysis.japanese_terms itself (SudachiPy split mode A,
              normalized_form): the production analysis
  sudachi-C   the same with split mode C
  janome      janome (IPADIC), base_form
  fugashi     fugashi + unidic-lite (MeCab, UniDic), lemma (UniDic's "-english" gloss cut)
  bigram      overlapping character bigrams over each run of word characters; a run of one
              character is indexed as that character

Each analyzer drops punctuation and whitespace (Sudachi/UniDic 補助記号 and 空白, IPADIC 記号).
janome and fugashi are not project dependencies. To include them, run
`.venv/bin/pip install janome fugashi unidic-lite`, or to keep them out of the venv run
`pip install --target DIR janome fugashi unidic-lite` and then the bench with PYTHONPATH=DIR.
A missing one is skipped, with a line saying so.

Corpus: a fresh SQLite database in a temporary directory, migrated. The real importer loads
content/ first, then the jpaztech blog (/work/shared/corpus/jpaztech-blog, or --corpus). The
two are separate imports: in one import, the posts that share a slug with a content article
are duplicates, while in a second import they are numbered (vmagent-notready-2). The
documents are the current revisions, as the index holds them. A document's text is its title
and the plain text of its HTML (kb.search.documents.plain_text), which is the "title" + "body"
the index stores.

Judgements: tests/data/relevance/{tuning,held-out}/ja.yaml (both halves), a list of {q, expect}
or {q, same_as}. An expect
entry is a content slug (vmagent-notready) or a post's path under the corpus articles/ folder
(vm/vmagent-notready.md). A path is mapped to its imported slug through the source_path of the
current revisions.

Figures:
  hits@3     judgements whose expected text is among the first 3 hits of kb.search.search
             (any language). For same_as, the first 3 hits must equal those of the other
             query (サーバ / サーバー).
  FP         counted over the queries with a Japanese word that some analyzer of those run
             splits into several tokens, so that the word is searched as a phrase. FP is the
             number of exact results (Hit.exact: every word as typed; the term bridge adds others
             on purpose) whose text does not contain every Japanese word of the query.
             All the results are read (a page as large as the corpus). Text and query are compared
             after NFKC, lower-casing, and removing whitespace, punctuation and the long-vowel
             mark ー, so that "メモリダンプ" is found in "メモリ ダンプ" and サーバ in サーバー.
             This is a proxy: a lemmatising analyzer that finds できない for 出来ない is counted
             as a false positive here. Results of the relaxed OR retry (kb.search.search's
             fallback when nothing has all the words) are not counted: the query then found
             nothing.
  missed     over the same queries, when all-Japanese and longer than one character: the
             documents whose text contains the query (same comparison) but are not returned.
  init s     the first analysis of a short text (dictionary load; the Sudachi dictionary is
             shared by sudachi-A and sudachi-C, so the second pays nothing).
  tok MB/s   kb.search.analysis.terms() over title + body of every document (UTF-8 MB / s),
             after init. "terms" is the number of distinct terms it produced and "tokens"
             the number of terms produced.
  build s    kb.search.index.rebuild(procs=1) into the analyzer's own folder. This covers
             reading the revisions, analysis, and writing and committing the index.
             Throughput and build use --passes passes (default 2), with the analyzers
             interleaved, and the fastest pass is kept, so that a burst of load on the
             machine hits all of them alike.
  p50/p95    kb.search.search(query) with the default page size. It covers parse, match,
             rank, the relaxed OR retry, snippets and "did you mean", over every distinct
             judgement query. After one warm-up round, --rounds rounds are run, with the
             analyzers interleaved round by round (each switch reopens the searcher with one
             untimed query).
  index MB   the bytes of the files in the analyzer's index folder.

Dropped: "FP if AND", which was the FP count had the query's words been parsed as an AND of
their tokens (multitoken_query "default"). It needed a second whoosh schema that only this
bench parsed with. kb.search has one schema, which always reads a split word as a phrase, and
the bench no longer builds schemas of its own or imports whoosh.
"""

import argparse
import importlib.util
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
import unicodedata
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml
from machine import cpu_count, cpu_model  # bench/ is on the path when a script runs
from workdir import setup_django

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = Path("/work/shared/corpus/jpaztech-blog")
JUDGEMENTS_FILES = [ROOT / "tests" / "data" / "relevance" / half / "ja.yaml" for half in ("tuning", "held-out")]
TOP = 3  # hits@3
EVERYTHING = 1_000_000  # a page size larger than any result list: all the results
INIT_TEXT = "準備できていません サーバー"


def kb_analysis():
    """kb.search.analysis, imported only once Django is set up."""
    from kb.search import analysis

    return analysis


# -- the Japanese part of each analyzer ----------------------------------------------------------

_cache = {}


def sudachi_c_terms(segment):
    """kb.search.analysis.japanese_terms with split mode C instead of A (same sentence context)."""
    from sudachipy import tokenizer as sudachi_tokenizer

    analysis = kb_analysis()
    if segment.isspace():
        return
    context = analysis.SENTENCE_CONTEXT
    mode = sudachi_tokenizer.Tokenizer.SplitMode.C
    for start, chunk in analysis.chunks(segment):
        for morpheme in analysis.sudachi().tokenize(context + chunk, mode):
            begin = morpheme.begin() - len(context)
            if begin < 0 or morpheme.part_of_speech()[0] in analysis.SKIPPED_POS:
                continue
            yield morpheme.normalized_form().lower(), start + begin, start + morpheme.end() - len(context)


def janome_tokenizer():
    if "janome" not in _cache:
        from janome.tokenizer import Tokenizer as JanomeTokenizer

        _cache["janome"] = JanomeTokenizer()
    return _cache["janome"]


def janome_terms(segment):
    tokenizer = janome_tokenizer()
    for start, chunk in kb_analysis().chunks(segment):
        cursor = 0
        for t in tokenizer.tokenize(chunk):
            surface = t.surface
            found = chunk.find(surface, cursor)
            begin = found if found >= 0 else cursor
            cursor = begin + len(surface)
            if t.part_of_speech.startswith("記号") or not surface.strip():
                continue
            form = t.base_form if t.base_form and t.base_form != "*" else surface
            yield form.lower(), start + begin, start + cursor


def fugashi_tagger():
    if "fugashi" not in _cache:
        import fugashi

        _cache["fugashi"] = fugashi.Tagger()  # finds unidic-lite
    return _cache["fugashi"]


def unidic_form(word):
    lemma = getattr(word.feature, "lemma", None)
    if not lemma or lemma == "*":
        return word.surface
    head, sep, gloss = lemma.rpartition("-")  # サーバー-server → サーバー
    return head if sep and head and gloss.isascii() else lemma


def fugashi_terms(segment):
    tagger = fugashi_tagger()
    skipped = kb_analysis().SKIPPED_POS
    for start, chunk in kb_analysis().chunks(segment):
        cursor = 0
        for word in tagger(chunk):
            surface = word.surface
            found = chunk.find(surface, cursor)
            begin = found if found >= 0 else cursor
            cursor = begin + len(surface)
            if getattr(word.feature, "pos1", "") in skipped or not surface.strip():
                continue
            yield unidic_form(word).lower(), start + begin, start + cursor


WORD_RUN = re.compile(r"[^\W_]+")


def bigram_terms(segment):
    for run in WORD_RUN.finditer(segment):
        text, offset = run.group(0).lower(), run.start()
        if len(text) == 1:
            yield text, offset, offset + 1
            continue
        for i in range(len(text) - 1):
            yield text[i : i + 2], offset + i, offset + i + 2


ANALYZERS = [
    # name, required modules, Japanese function (None: the production one), description
    ("sudachi-A", ["sudachipy"], None, "SudachiPy mode A normalized_form (kb.search.analysis, production)"),
    ("sudachi-C", ["sudachipy"], sudachi_c_terms, "SudachiPy mode C normalized_form"),
    ("janome", ["janome"], janome_terms, "janome (IPADIC) base_form"),
    ("fugashi", ["fugashi", "unidic_lite"], fugashi_terms, "fugashi + unidic-lite lemma"),
    ("bigram", [], bigram_terms, "character bigrams (1-char runs as unigrams)"),
]
NAMES = [name for name, *_rest in ANALYZERS]


def use(analyzer):
    """Make ``analyzer`` the one kb.search indexes and queries with, on its own index folder."""
    from django.conf import settings

    from kb.search import index

    analysis = kb_analysis()
    analysis.japanese_terms = analyzer["japanese"]
    analysis._local.__dict__.pop("analysed", None)  # the last text analysed, by the previous analyzer
    settings.KB_INDEX_DIR = analyzer["dir"]
    index.forget_searchers()
    glossary = sys.modules.get("kb.glossary")
    if isinstance(getattr(glossary, "_current", None), dict):
        # The term bridge keeps the glossary's forms as the previous analyzer read them.
        glossary._current["version"] = None


# -- text comparison ----------------------------------------------------------------------------

SQUASH = re.compile(r"[\W_ー]+")


def squash(text):
    """For the literal-containment proxy: NFKC, lower case, no spaces/punctuation/ー."""
    return SQUASH.sub("", unicodedata.normalize("NFKC", text).lower())


def japanese_words(query):
    return [w for w in query.split() if not w.isascii()]


# -- setup: database, import, documents, judgements ---------------------------------------------


def import_content(corpus_dir):
    """content/ then the corpus, each one import run; exits on any problem."""
    from kb import importer

    counts = []
    for root in (ROOT / "content", corpus_dir):
        report = importer.run_import([root])
        if not report.ok:
            print(f"import of {root} failed:")
            for problem in report.problems:
                print(f"  {problem}")
            raise SystemExit(1)
        counts.append(f"{root}: {report.count('new')} new, {len(report.warnings)} warnings")
    return counts


def load_documents():
    """{(slug, lang): title + "\\n" + plain body} of the revisions the index holds."""
    from kb.models import Revision
    from kb.search.documents import plain_text

    revisions = Revision.objects.current().visible().select_related("article").order_by("pk")
    return {(r.article.slug, r.lang): f"{r.title}\n{plain_text(r.html)}" for r in revisions}


def load_judgements(paths):
    """[(query, set of slugs | None, same_as query | None)], expect entries resolved to slugs."""
    from kb.models import Revision

    slug_of_path = dict(Revision.objects.current().values_list("source_path", "article__slug"))
    slugs = set(slug_of_path.values())
    judgements, unknown = [], []
    for item in (item for path in paths for item in yaml.safe_load(path.read_text(encoding="utf-8"))):
        query = str(item["q"])
        if "same_as" in item:
            judgements.append((query, None, str(item["same_as"])))
            continue
        expected = set()
        for entry in item["expect"]:
            if entry.endswith(".md") or "/" in entry:
                found = {s for p, s in slug_of_path.items() if p == entry or p.endswith("/" + entry)}
            else:
                found = {entry} & slugs
            if not found:
                unknown.append(f"{query}: {entry}")
            expected |= found
        judgements.append((query, expected, None))
    if unknown:
        raise SystemExit(f"{', '.join(map(str, paths))}: expected texts not imported: {unknown}")
    return judgements


def all_queries(judgements):
    seen = {}
    for query, _expected, same_as in judgements:
        seen.setdefault(query)
        if same_as:
            seen.setdefault(same_as)
    return list(seen)


def phrase_queries(analyzers, queries):
    """Queries with a Japanese word that at least one analyzer splits into several tokens."""
    split = set()
    for analyzer in analyzers:
        use(analyzer)
        for query in queries:
            if any(len(list(kb_analysis().terms(w, "query"))) > 1 for w in japanese_words(query)):
                split.add(query)
    return [q for q in queries if q in split]


# -- measuring ----------------------------------------------------------------------------------


def missing_modules(modules):
    return [m for m in modules if importlib.util.find_spec(m) is None]


def dir_size(path):
    return sum(p.stat().st_size for p in Path(path).iterdir() if p.is_file())


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def found(query, page_size, exact_only=False):
    """((slug, lang) of the hits, total, relaxed) of kb.search.search; ``exact_only``: only the
    hits that hold every word as typed (not those the term bridge or the conceptual reading
    added on purpose, which the FP count is not about)."""
    from kb import search

    results = search.search(query, page_size=page_size)
    hits = [hit for hit in results.hits if hit.exact or not exact_only]
    return [(hit.slug, hit.lang) for hit in hits], len(hits) if exact_only else results.total, results.relaxed


def tokenize_all(texts):
    """(seconds, UTF-8 bytes, distinct terms, terms) for kb.search.analysis.terms over texts."""
    terms = kb_analysis().terms
    nbytes, ntokens, vocabulary = 0, 0, set()
    t0 = time.perf_counter()
    for text in texts:
        nbytes += len(text.encode("utf-8"))
        for term, _start, _end, _same in terms(text):
            vocabulary.add(term)
            ntokens += 1
    return time.perf_counter() - t0, nbytes, len(vocabulary), ntokens


def speed_pass(analyzer, texts):
    """One tokenisation pass and one index build; the fastest pass of each is kept."""
    from kb.search import index

    use(analyzer)
    seconds, nbytes, analyzer["vocab"], analyzer["tokens"] = tokenize_all(texts)
    analyzer["mbps"] = max(analyzer.get("mbps", 0.0), nbytes / 1e6 / seconds)
    use(analyzer)
    t0 = time.perf_counter()
    analyzer["count"] = index.rebuild(procs=1)
    analyzer["build"] = min(analyzer.get("build", float("inf")), time.perf_counter() - t0)
    analyzer["size"] = dir_size(analyzer["dir"])


def judge(analyzer, judgements, documents, fp_queries):
    """Relevance (hits@3), phrase false positives and substring misses on the analyzer's index."""
    use(analyzer)
    top, relaxed_used = {}, []
    for query in all_queries(judgements):
        keys, _total, relaxed = found(query, TOP)
        top[query] = keys
        if relaxed:
            relaxed_used.append(query)
    passed, failures = 0, []
    for query, expected, same_as in judgements:
        got = top[query]
        ok = (bool(got) and got == top[same_as]) if same_as else any(slug in expected for slug, _lang in got)
        if ok:
            passed += 1
        else:
            failures.append((query, expected, same_as, got))
    analyzer.update(passed=passed, failures=failures, top=top, relaxed=relaxed_used)

    squashed = {key: squash(text) for key, text in documents.items()}
    fp_total, results_total, missed_total, detail = 0, 0, 0, []
    for query in fp_queries:
        words = [squash(w) for w in japanese_words(query)]
        keys, total, relaxed = found(query, EVERYTHING)
        if total != len(keys):
            raise SystemExit(f"{query!r}: {total} results but {len(keys)} hits read")
        exact, _total, _relaxed = found(query, EVERYTHING, exact_only=True)
        returned = set() if relaxed else set(exact)
        fps = sorted(k for k in returned if not all(w in squashed[k] for w in words))
        missed = []
        if query == " ".join(japanese_words(query)) and len(squash(query)) > 1:
            literal = {k for k, text in squashed.items() if all(w in text for w in words)}
            missed = sorted(literal - (set() if relaxed else set(keys)))
        fp_total += len(fps)
        results_total += len(returned)
        missed_total += len(missed)
        if fps or missed:
            detail.append((query, len(returned), len(fps), len(missed), fps[:3], missed[:3]))
    analyzer.update(fp=fp_total, results=results_total, missed=missed_total, fp_detail=detail)


def latency_round(analyzers, queries, timings):
    """Each query once on each analyzer's index, analyzers one after the other."""
    from kb import search

    for analyzer in analyzers:
        use(analyzer)
        search.search(queries[0])  # reopens the searcher: not timed
        for query in queries:
            t0 = time.perf_counter()
            search.search(query)
            timings[analyzer["name"]].append(time.perf_counter() - t0)


def load_average():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def package_version(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def machine_line():
    versions = [("whoosh", "Whoosh-Reloaded"), ("SudachiPy", "SudachiPy"), ("SudachiDict-core", "SudachiDict-core")]
    versions += [("janome", "janome"), ("fugashi", "fugashi"), ("unidic-lite", "unidic-lite")]
    found_versions = [f"{label} {v}" for label, name in versions if (v := package_version(name))]
    return (
        f"machine: nproc {cpu_count()}, {cpu_model()}, Python {platform.python_version()}, "
        + ", ".join(found_versions)
        + f"; load average {load_average()} (timings are wall clock)"
    )


# -- main ---------------------------------------------------------------------------------------


def select(args):
    """The analyzers to run, as dicts; a line for each one skipped."""
    analyzers = []
    for name, modules, japanese, description in ANALYZERS:
        if args.only and name not in args.only:
            continue
        missing = missing_modules(modules)
        if missing:
            wanted = " ".join(m.replace("_", "-") for m in missing)
            print(f"skipped {name}: {', '.join(missing)} not installed (.venv/bin/pip install {wanted})")
            continue
        analyzers.append({"name": name, "japanese": japanese, "description": description})
    return analyzers


def run(args, workdir):
    t_start = time.perf_counter()
    print(machine_line())
    setup_django(workdir)
    for line in import_content(args.corpus):
        print(f"imported {line}")
    documents = load_documents()
    texts = list(documents.values())
    n_ja = sum(lang == "ja" for _slug, lang in documents)
    total_mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    print(f"corpus: {len(documents)} documents ({n_ja} ja, {len(documents) - n_ja} other), {total_mb:.2f} MB")
    judgements = load_judgements(JUDGEMENTS_FILES)
    queries = all_queries(judgements)

    from django.conf import settings

    from kb.search import index

    analysis = kb_analysis()
    original, original_dir = analysis.japanese_terms, settings.KB_INDEX_DIR
    analyzers = select(args)
    if not analyzers:
        raise SystemExit("no analyzer to run")
    for analyzer in analyzers:
        analyzer["japanese"] = analyzer["japanese"] or original
        analyzer["dir"] = workdir / "indexes" / analyzer["name"]
        print(f"analyzer {analyzer['name']}: {analyzer['description']}")
    try:
        for analyzer in analyzers:  # dictionary load
            use(analyzer)
            t0 = time.perf_counter()
            list(analysis.terms(INIT_TEXT))
            analyzer["init"] = time.perf_counter() - t0
        fp_queries = phrase_queries(analyzers, queries)
        n_single = sum(len(q) == 1 for q in queries)
        print(
            f"queries: {len(queries)} distinct ({n_single} of one character), {len(judgements)} judgements "
            f"(tests/data/relevance/*/ja.yaml); {len(fp_queries)} phrase queries for FP/missed"
        )
        print()
        for n in range(args.passes):  # passes interleaved across analyzers; the fastest is kept
            for analyzer in analyzers:
                t0 = time.perf_counter()
                speed_pass(analyzer, texts)
                print(f"  pass {n + 1}/{args.passes} {analyzer['name']}: {time.perf_counter() - t0:.1f} s", flush=True)
        for analyzer in analyzers:
            if analyzer["count"] != len(documents):
                raise SystemExit(f"{analyzer['name']}: indexed {analyzer['count']} of {len(documents)} documents")
            judge(analyzer, judgements, documents, fp_queries)
        timings = {a["name"]: [] for a in analyzers}
        latency_round(analyzers, queries, {a["name"]: [] for a in analyzers})  # warm-up
        for _ in range(args.rounds):
            latency_round(analyzers, queries, timings)
        for analyzer in analyzers:
            analyzer["p50"] = statistics.median(timings[analyzer["name"]]) * 1000
            analyzer["p95"] = percentile(timings[analyzer["name"]], 95) * 1000
    finally:
        analysis.japanese_terms = original
        analysis._local.__dict__.pop("analysed", None)
        settings.KB_INDEX_DIR = original_dir
        index.forget_searchers()
    report(analyzers, judgements, queries, args.verbose)
    print()
    print(f"total {time.perf_counter() - t_start:.0f} s; load average {load_average()}")


def report(analyzers, judgements, queries, verbose):
    print()
    header = (
        f"{'analyzer':<11} {'hits@3':>7} {'FP/results':>11} {'missed':>6} {'init s':>6} {'tok MB/s':>8} "
        f"{'build s':>7} {'p50 ms':>6} {'p95 ms':>6} {'index MB':>8} {'terms':>7} {'tokens':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in analyzers:
        print(
            f"{r['name']:<11} {r['passed']:>3}/{len(judgements):<3} {r['fp']:>5}/{r['results']:<5} {r['missed']:>6} "
            f"{r['init']:>6.2f} {r['mbps']:>8.2f} {r['build']:>7.1f} {r['p50']:>6.2f} {r['p95']:>6.2f} "
            f"{r['size'] / 1e6:>8.1f} {r['vocab']:>7} {r['tokens']:>8}"
        )
    print()

    def show(keys):
        return ", ".join(f"{slug}:{lang}" for slug, lang in keys) or "nothing"

    for r in analyzers:
        print(f"== {r['name']}: {len(r['failures'])} failed judgement(s)" + (":" if r["failures"] else ""))
        for query, expected, same_as, got in r["failures"]:
            want = f"same as {same_as} [{show(r['top'][same_as])}]" if same_as else "|".join(sorted(expected))
            print(f"   {query!r}: want {want}; got [{show(got)}]")
        if r["relaxed"]:
            print(f"   (found only by the relaxed OR query: {', '.join(r['relaxed'])})")
        if r["fp_detail"]:
            print("   phrase queries with FP or missed (query: results, FP, missed; examples):")
            for query, n, nfp, nmiss, fps, missed in r["fp_detail"]:
                examples = (" FP e.g. " + show(fps) if fps else "") + (" missed e.g. " + show(missed) if missed else "")
                print(f"     {query}: {n}, {nfp}, {nmiss};{examples}")
    if verbose:
        print()
        for query in queries:
            print(query)
            for r in analyzers:
                print(f"   {r['name']:<10} [{show(r['top'][query])}]")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS, help=f"blog posts to import (default {DEFAULT_CORPUS})"
    )
    parser.add_argument("--rounds", type=int, default=5, help="timed query rounds (default 5)")
    parser.add_argument("--passes", type=int, default=2, help="tokenisation + build passes, fastest kept (default 2)")
    parser.add_argument(
        "--only",
        action="append",
        choices=NAMES,
        metavar="NAME",
        help=f"run this analyzer (repeatable; {', '.join(NAMES)})",
    )
    parser.add_argument("--verbose", action="store_true", help="print every query's top 3 per analyzer")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database and indexes)")
    args = parser.parse_args()
    if args.rounds < 1 or args.passes < 1:
        parser.error("--rounds and --passes must be at least 1")

    workdir = Path(tempfile.mkdtemp(prefix="kb-analyzers-"))
    try:
        run(args, workdir)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
