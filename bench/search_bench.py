"""Search benchmark: index build, one-article update and query latency of kb.search on a
synthetic bilingual corpus, next to SQLite FTS5 (trigram tokenizer) on the same texts.

    .venv/bin/python bench/search_bench.py [--articles 10000] [--queries 240] [--seed 1]
    .venv/bin/python bench/search_bench.py --sizes 1000,10000,50000    # the cost curve

Everything runs in a temporary directory (its own SQLite database and index); nothing in
var/ is touched. With --sizes, each size runs in a process of its own (this script with
--articles N and a hidden --curve-out FILE), which also measures a gunicorn worker's memory;
then one table compares the sizes. The source text and the query mix are in bench/queries.py.
See bench/README.md for what each figure means.
"""

import argparse
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from html import escape
from itertools import islice
from pathlib import Path

from machine import cpu_count, cpu_model  # bench/ is on the path when a script runs
from queries import CATEGORY_SHARE, EN_WORD, JA_WORD, Material, build_queries
from workdir import setup_django

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JA_CORPUS = Path("/work/shared/corpus/jpaztech-blog/articles")

# -- what the generator inserts ------------------------------------------------------------------

# Identifiers inserted with a per-document probability (some common, some rare).
FIXED_IDENTIFIERS = [
    ("168.63.129.16", 0.20),
    ("VMExtensionProvisioningError", 0.06),
    ("/var/log/waagent.log", 0.08),
    ("Get-AzureRmVM", 0.03),
    ("0NC_-L9G", 0.002),
    ("port 32526", 0.02),
    ("WindowsAzureGuestAgent", 0.05),
    ("OSProvisioningTimedOut", 0.015),
    ("OSProvisioningClientError", 0.008),
    ("AllocationFailed", 0.02),
    ("Microsoft.Compute/CustomScriptExtension", 0.03),
    ("C:\\WindowsAzure\\Logs\\WaAppAgent.log", 0.03),
    ("Set-AzVMExtension", 0.02),
    ("az vm restart", 0.04),
    ("WALinuxAgent", 0.05),
    ("cloud-init", 0.05),
    ("/etc/waagent.conf", 0.03),
    ("KB5005565", 0.003),
    ("0x80070005", 0.01),
    ("169.254.169.254", 0.04),
    ("Microsoft.Azure.Diagnostics", 0.01),
    ("RDAgentBootLoader", 0.004),
    ("Standard_D2s_v3", 0.05),
    ("ERROR_FILE_NOT_FOUND", 0.005),
    ("HTTP 409 Conflict", 0.01),
]
JA_ID_TEMPLATES = [
    "エラー コード {x} が返されました。",
    "{x} を確認してください。",
    "ログに {x} が記録されています。",
    "詳細は {x} を参照してください。",
    "{x} のエラーで操作が失敗しました。",
    "この事象では {x} が出力されます。",
]
EN_ID_TEMPLATES = [
    "The operation failed with {x}.",
    "Check {x} for details.",
    "The log shows {x}.",
    "See {x} for more information.",
    "We observed {x} on the virtual machine.",
    "The response contained {x}.",
]


# -- generating documents -----------------------------------------------------------------------


class Generator:
    def __init__(self, material: Material, rng: random.Random):
        self.m = material
        self.rng = rng
        self.used_tracking_ids = Counter()
        self.used_error_codes = Counter()

    def recombine_ja(self, sentence, topic_words, p=0.3):
        rng = self.rng

        def replace(match):
            if rng.random() >= p:
                return match.group(0)
            katakana = "ァ" <= match.group(0)[0] <= "ヴ"
            if rng.random() < 0.7:
                return rng.choice(topic_words[0] if katakana else topic_words[1])
            return (self.m.kata if katakana else self.m.kanji).draw(rng)

        return JA_WORD.sub(replace, sentence)

    def recombine_en(self, sentence, topic_words, p=0.2):
        rng = self.rng

        def replace(match):
            if rng.random() >= p:
                return match.group(0)
            return rng.choice(topic_words) if rng.random() < 0.7 else self.m.english.draw(rng)

        return EN_WORD.sub(replace, sentence)

    def identifiers(self):
        rng = self.rng
        found = [ident for ident, p in FIXED_IDENTIFIERS if rng.random() < p]
        if rng.random() < 0.25:
            ident = rng.choice(self.m.tracking_ids)
            self.used_tracking_ids[ident] += 1
            found.append(ident)
        for _ in range(rng.choices([0, 1, 2], [0.5, 0.35, 0.15])[0]):
            ident = rng.choice(self.m.error_codes)
            self.used_error_codes[ident] += 1
            found.append(ident)
        return found

    def document(self, lang):
        """(title, markdown body, html, headings) of 3-6 KB of body text."""
        rng, m = self.rng, self.m
        target = rng.randint(3000, 5400)  # the last paragraph overshoots by up to ~600 bytes
        if lang == "ja":
            topic = rng.choice(m.ja_topics)
            words = ([m.kata.draw(rng) for _ in range(30)], [m.kanji.draw(rng) for _ in range(30)])

            def sentence():
                source = rng.choice(topic) if rng.random() < 0.6 else rng.choice(m.ja_all)
                return self.recombine_ja(source, words)

            def heading():
                return self.recombine_ja(rng.choice(m.ja_headings), words, p=0.5)

            title = self.recombine_ja(rng.choice(m.ja_titles), words, p=0.5)
            templates, joiner = JA_ID_TEMPLATES, ""
        else:
            words = [m.english.draw(rng) for _ in range(40)]

            def sentence():
                return self.recombine_en(rng.choice(m.en_all), words)

            def heading():
                return self.recombine_en(rng.choice(m.en_headings), words, p=0.4)

            title = self.recombine_en(rng.choice(m.en_titles + m.en_headings), words, p=0.5)
            templates, joiner = EN_ID_TEMPLATES, " "
        ids = [ident for ident in self.identifiers() for _ in range(rng.randint(1, 3))]
        if ids and rng.random() < 0.15:
            title = f"{title} ({ids[0]})"
        rng.shuffle(ids)
        blocks, size, headings = [], 0, []
        while size < target:
            if not blocks or rng.random() < 0.3:
                text = heading()
                heading_id = f"h-{len(headings) + 1}"
                headings.append({"id": heading_id, "text": text, "level": 2})
                blocks.append(("h", text, heading_id))
                size += len(text.encode()) + 4
                continue
            if rng.random() < 0.07 and m.code:
                lines = [rng.choice(m.code) for _ in range(rng.randint(2, 6))]
                blocks.append(("code", "\n".join(lines), None))
                size += sum(len(line) + 1 for line in lines)
                continue
            parts = [sentence() for _ in range(rng.randint(2, 5))]
            if ids and rng.random() < 0.5:
                parts.insert(rng.randrange(len(parts) + 1), rng.choice(templates).format(x=ids.pop()))
            text = joiner.join(parts)
            blocks.append(("p", text, None))
            size += len(text.encode()) + 2
        for ident in ids:  # whatever was not placed yet goes into a last paragraph
            blocks.append(("p", rng.choice(templates).format(x=ident), None))
        markdown, html = [], []
        for kind, text, heading_id in blocks:
            if kind == "h":
                markdown.append(f"## {text}")
                html.append(f'<h2 id="{heading_id}">{escape(text)}</h2>')
            elif kind == "code":
                markdown.append(f"```\n{text}\n```")
                html.append(f"<pre><code>{escape(text)}</code></pre>")
            else:
                markdown.append(text)
                html.append(f"<p>{escape(text)}</p>")
        return title[:480], "\n\n".join(markdown) + "\n", "\n".join(html), headings


BATCH = 1000  # rows per bulk_create


def populate(args, generator, rng):
    """Articles, revisions, tags and one ImportRun, written with bulk_create."""
    from django.db import transaction

    from kb.models import Article, ImportRun, Revision, Tag

    layout = []  # (slug, langs)
    if args.layout == "split":
        layout = [(f"bench-{i:05d}", ["ja" if i % 2 == 0 else "en"]) for i in range(args.articles)]
    else:
        layout = [(f"bench-{i:05d}", ["ja", "en"]) for i in range(args.articles // 2)]
    tag_names = ["VM", "Windows", "Linux", "Network", "Storage", "Extension", "Agent", "RCA", "Backup", "AKS"]
    base = datetime(2016, 1, 1, tzinfo=UTC)
    with transaction.atomic():
        tags = Tag.objects.bulk_create([Tag(name=name) for name in tag_names])
        tags = {t.name: t.pk for t in Tag.objects.all()}
        # Streamed in batches (objects for 50,000 articles need not all be in memory at once);
        # the random draws stay in the same order as ever, so a seed gives the same corpus.
        articles = []
        for slug, langs in layout:
            kind = rng.choices(["guide", "reference", "rca"], [0.6, 0.3, 0.1])[0]
            articles.append(
                Article(
                    slug=slug,
                    kind=kind,
                    source_lang=langs[0],
                    source_root="bench",
                    tracking_id=Material.tracking_id(rng) if kind == "rca" else "",
                )
            )
            if len(articles) >= BATCH:
                Article.objects.bulk_create(articles)
                articles = []
        Article.objects.bulk_create(articles)
        ids = dict(Article.objects.values_list("slug", "pk"))
        through = Article.tags.through
        links = []
        for slug, _langs in layout:
            for name in rng.sample(tag_names, rng.randint(1, 3)):
                links.append(through(article_id=ids[slug], tag_id=tags[name]))
            if len(links) >= 2 * BATCH:
                through.objects.bulk_create(links)
                links = []
        through.objects.bulk_create(links)
        revisions, sizes = [], []
        for slug, langs in layout:
            for lang in langs:
                title, body, html, headings = generator.document(lang)
                sizes.append(len(body.encode()))
                revisions.append(
                    Revision(
                        article_id=ids[slug],
                        lang=lang,
                        number=1,
                        is_current=True,
                        title=title,
                        body=body,
                        body_hash=hashlib.sha256(body.encode()).hexdigest(),
                        html=html,
                        headings=headings,
                        published_at=base + timedelta(minutes=rng.randrange(60 * 24 * 3650)),
                        source_path=f"bench/{slug}/{lang}.md",
                    )
                )
                if len(revisions) >= BATCH:
                    Revision.objects.bulk_create(revisions)
                    revisions = []
        Revision.objects.bulk_create(revisions)
        ImportRun.objects.create(changed_slugs=[], summary={"bench": True})
        use_glossary()
    return layout, sizes


# Question-style queries, 10 to 25 words as customers type them (not the judged ones of
# tests/data/relevance/: those measure relevance, these only time the ranked reading).
QUESTIONS = [
    "VM を停止したのに課金が続いているのはどうしてですか",
    "ロードバランサーの正常性プローブが失敗する原因を知りたい",
    "仮想マシンに RDP で接続できなくなったのですが、どこから確認すればよいでしょうか",
    "拡張機能のインストールがずっと終わらず、プロビジョニングが失敗のままになっています",
    "ディスクのサイズを変更したあとに VM が起動しないのですが、何が原因でしょうか",
    "ネットワーク セキュリティ グループの規則を変えてから外部に通信できなくなりました",
    "why is my VM still billed after I stopped it from inside the operating system",
    "the load balancer health probe keeps failing and my backend VMs get no traffic at all",
    "how can I find out who deallocated my virtual machine last night in the activity log",
    "after resizing the VM the extension provisioning failed with an error, what should I check",
]


def use_glossary():
    """The project's glossary, as the import stores it: every query is read through the term
    bridge, as on the site."""
    from kb import glossary
    from kb.models import Glossary

    entries = glossary.load(ROOT / "content" / glossary.FILE_NAME)
    Glossary.objects.create(number=1, entries=entries, data_hash=glossary.data_hash(entries), source_path="bench")


# -- measuring ----------------------------------------------------------------------------------


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def ms(seconds):
    return f"{seconds * 1000:.1f}"


def bench_ours(queries, rounds):
    from kb import reports
    from kb.forms import search_params

    for _category, q in queries[:: max(1, len(queries) // 8)][:8]:  # warm-up
        reports.search(search_params({"q": q}), "ja")
    timings = defaultdict(list)
    info = {}
    for _ in range(rounds):
        for category, q in queries:
            params = search_params({"q": q})
            t0 = time.perf_counter()
            results = reports.search(params, "ja")
            timings[(category, q)].append(time.perf_counter() - t0)
            info[(category, q)] = (results.total, results.relaxed, len(results.hits))
    return timings, info


def fts_expression(q):
    return " ".join('"' + term.replace('"', '""') + '"' for term in q.split())


def fts_build(path, rows_source):
    """The FTS5 table from the rows, in batches (never every body in memory at once): HTML to
    text ("extract", reading the rows included), inserts, then optimize; each timed."""
    from kb.search.documents import plain_text

    con = sqlite3.connect(path)
    con.execute("CREATE VIRTUAL TABLE fts USING fts5(slug UNINDEXED, lang UNINDEXED, title, body, tokenize='trigram')")
    # Same field weights as ours (title 4, body 1); ORDER BY rank then uses them.
    con.execute("INSERT INTO fts(fts, rank) VALUES('rank', 'bm25(0.0, 0.0, 4.0, 1.0)')")
    extract = insert = 0.0
    rows = iter(rows_source())
    with con:
        while True:
            t0 = time.perf_counter()
            batch = [(slug, lang, title, plain_text(html)) for slug, lang, title, html in islice(rows, BATCH)]
            t1 = time.perf_counter()
            extract += t1 - t0
            if not batch:
                break
            con.executemany("INSERT INTO fts(slug, lang, title, body) VALUES (?, ?, ?, ?)", batch)
            insert += time.perf_counter() - t1
    t2 = time.perf_counter()
    with con:
        con.execute("INSERT INTO fts(fts) VALUES('optimize')")
    optimize = time.perf_counter() - t2
    return con, {"extract": extract, "insert": insert, "optimize": optimize, "total": extract + insert + optimize}


FTS_QUERY = (
    "SELECT slug, lang, title, snippet(fts, 3, '<mark>', '</mark>', '…', 32) FROM fts "
    "WHERE fts MATCH ? ORDER BY rank LIMIT 10"
)


def bench_fts(con, queries, rounds):
    from kb.search import clean_query

    for _category, q in queries[:8]:
        con.execute(FTS_QUERY, (fts_expression(clean_query(q)),)).fetchall()
    timings, returned = defaultdict(list), {}
    for _ in range(rounds):
        for category, q in queries:
            t0 = time.perf_counter()
            expression = fts_expression(clean_query(q))
            rows = con.execute(FTS_QUERY, (expression,)).fetchall() if expression else []
            timings[(category, q)].append(time.perf_counter() - t0)
            returned[(category, q)] = len(rows)
    counts = {}
    for key in timings:  # total matches, untimed, for the average
        expression = fts_expression(clean_query(key[1]))
        counts[key] = (
            con.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (expression,)).fetchone()[0] if expression else 0
        )
    return timings, returned, counts


def bench_updates(layout, runs, rng, first=0):
    from kb import search
    from kb.models import Revision

    chosen = rng.sample(layout, min(runs, len(layout)))
    update_times, refresh_times, misses = [], [], []
    for number, (slug, _langs) in enumerate(chosen, start=first):
        marker = "zqmark" + "".join(chr(97 + int(d)) for d in f"{number:03d}")
        revision = Revision.objects.current().filter(article__slug=slug).order_by("lang").first()
        Revision.objects.filter(pk=revision.pk).update(
            body=revision.body + f"\n\n{marker}\n",
            html=revision.html + f"\n<p>{marker}</p>",
            body_hash=hashlib.sha256((revision.body + marker).encode()).hexdigest(),
        )
        t0 = time.perf_counter()
        search.update([slug])
        update_times.append(time.perf_counter() - t0)
        t1 = time.perf_counter()
        found = search.search(marker)  # first search after the change: refreshes the searcher
        refresh_times.append(time.perf_counter() - t1)
        if found.total != 1 or found.hits[0].slug != slug:
            misses.append((slug, marker, found.total))
    return update_times, refresh_times, misses


def profile(label, function, top=25):
    profiler = cProfile.Profile()
    profiler.enable()
    function()
    profiler.disable()
    for sort in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(top)
        print(f"\n--- profile: {label}, by {sort} ---")
        print("\n".join(out.getvalue().splitlines()[4:]))


def machine():
    from importlib.metadata import version

    return {
        "nproc": cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "whoosh": version("Whoosh-Reloaded"),
        "sudachipy": version("SudachiPy"),
        "platform": platform.platform(),
    }


def cpu_busy_seconds():
    """CPU time used by the whole machine so far (all processes), from /proc/stat; None elsewhere."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    import resource

    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def table(headers, rows):
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]

    def line(cells):
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, rows)])


# -- main ---------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=10000, help="number of texts (index documents), default 10000")
    ap.add_argument("--queries", type=int, default=240, help="number of distinct queries, default 240")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds over the query set, default 3")
    ap.add_argument("--updates", type=int, default=20, help="one-article updates to time, default 20")
    ap.add_argument(
        "--layout",
        choices=["split", "both"],
        default="split",
        help="split: N articles, half ja, half en (default); both: N/2 articles with ja and en",
    )
    ap.add_argument("--ja-corpus", type=Path, default=DEFAULT_JA_CORPUS, help="folder of Japanese .md posts")
    ap.add_argument("--no-single", action="store_true", help="skip the one-process reference build")
    ap.add_argument("--profile", action="store_true", help="also print cProfile output for queries and updates")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument(
        "--dump", type=Path, help="write each query's total and first 10 hits here (JSON), to compare versions"
    )
    ap.add_argument(
        "--sizes",
        type=sizes_list,
        help="the cost curve: e.g. 1000,10000,50000; each size in a fresh database and index (its own process), "
        "then one table (build, index size, update, query p50/p95, gunicorn worker RSS, FTS5) and the growth",
    )
    ap.add_argument("--curve-out", type=Path, help=argparse.SUPPRESS)  # one size of --sizes: figures as JSON
    args = ap.parse_args()
    if args.sizes:
        return curve(args)

    workdir = Path(tempfile.mkdtemp(prefix="kb-search-bench-"))
    setup_django(workdir, migrate=False)
    from django.core.management import call_command

    from kb import search
    from kb.models import Revision
    from kb.search import analysis
    from kb.search import index as search_index

    started = time.perf_counter()
    busy_start, own_start = cpu_busy_seconds(), own_cpu_seconds()
    try:
        call_command("migrate", verbosity=0)
        rng = random.Random(args.seed)
        t0 = time.perf_counter()
        material = Material(args.ja_corpus, rng)
        if not material.ja_corpus_files:
            print(f"note: {args.ja_corpus} has no .md files; Japanese text comes from content/articles only")
        generator = Generator(material, rng)
        layout, sizes = populate(args, generator, rng)
        texts = len(sizes)
        generation = time.perf_counter() - t0
        print(
            f"generated {texts} texts ({len(layout)} articles, layout {args.layout}) in {generation:.1f} s; "
            f"body {min(sizes)}-{max(sizes)} bytes, mean {statistics.mean(sizes):.0f}; {material.summary()}",
            flush=True,
        )
        queries = build_queries(args.queries, material, generator, random.Random(args.seed + 1))
        queries += [("question", q) for q in QUESTIONS]  # (issue 20: customers type questions)

        # Warm what the first build would otherwise pay for: Sudachi's dictionary, the DB pages.
        list(analysis.terms("仮想マシンのサーバーを再起動します。VMExtensionProvisioningError"))
        for _html in Revision.objects.values_list("html", flat=True).iterator(chunk_size=BATCH):
            pass

        # The default build (what `manage.py rebuild_index` does) comes last: its index is queried.
        procs = search_index.build_processes()
        builds = {}
        for label, n in ([] if args.no_single or procs == 1 else [("one process", 1)]) + [("rebuild_index", 0)]:
            t0 = time.perf_counter()
            count = search.rebuild(procs=n)
            builds[label] = (time.perf_counter() - t0, count)
            print(f"rebuild(procs={n or procs}): {builds[label][0]:.1f} s for {count} documents", flush=True)
        default_build = builds["rebuild_index"][0]
        index_bytes = sum(f.stat().st_size for f in search_index.index_dir().iterdir() if f.is_file())

        ours, info = bench_ours(queries, args.rounds)
        print(f"queries (ours): {len(queries)} x {args.rounds} rounds done", flush=True)
        if args.dump:
            dump_results(args.dump, queries)

        def rows_source():
            return (
                Revision.objects.current()
                .order_by("pk")
                .values_list("article__slug", "lang", "title", "html")
                .iterator(chunk_size=1000)
            )

        fts_path = workdir / "fts5.sqlite3"
        con, fts_build_times = fts_build(str(fts_path), rows_source)
        fts_bytes = fts_path.stat().st_size
        print(f"FTS5 build: {fts_build_times['total']:.1f} s", flush=True)
        fts, fts_returned, fts_counts = bench_fts(con, queries, args.rounds)
        print("queries (FTS5) done", flush=True)

        update_times, refresh_times, misses = bench_updates(layout, args.updates, random.Random(args.seed + 2))
        print(f"updates: {len(update_times)} done", flush=True)
        with search_index.open_index().reader() as reader:
            segments = len(list(reader.leaf_readers()))
            deleted = reader.doc_count_all() - reader.doc_count()
        after, _info = bench_ours(queries, 1)  # the index as it stays after incremental updates
        print("queries (ours) after the updates done", flush=True)

        if args.profile:
            from kb import reports
            from kb.forms import search_params

            slowest = sorted(ours, key=lambda k: -statistics.median(ours[k]))[:20]
            print("\nslowest 20 queries (ours, median ms, hits):")
            for key in slowest:
                print(f"  {ms(statistics.median(ours[key])):>8}  {info[key][0]:>6}  {key[0]:<11} {key[1]}")
            profile(
                "all queries, one round", lambda: [reports.search(search_params({"q": q}), "ja") for _c, q in queries]
            )
            profile("slowest 20 queries", lambda: [reports.search(search_params({"q": q}), "ja") for _c, q in slowest])
            extra = bench_updates_profiled(layout, random.Random(args.seed + 3))
            profile("5 one-article updates", extra)

        # -- report --
        all_ours = [t for ts in ours.values() for t in ts]
        all_fts = [t for ts in fts.values() for t in ts]
        short = [key for key in fts if fts_returned[key] == 0 and any(len(term) < 3 for term in key[1].split())]
        short_ours_hit = [key for key in short if info[key][0] > 0]
        no_hit_ours = [key for key in info if info[key][0] == 0]
        relaxed = [key for key in info if info[key][1]]
        no_hit_fts = [key for key in fts if fts_counts[key] == 0]
        mach = machine()
        total_time = time.perf_counter() - started
        busy_end = cpu_busy_seconds()
        others = None if busy_start is None else max(0.0, (busy_end - busy_start) - (own_cpu_seconds() - own_start))

        print("\n" + "=" * 78)
        print(
            f"Search benchmark: {texts} texts ({len(layout)} articles, layout {args.layout}), "
            f"{len(queries)} queries x {args.rounds} rounds, seed {args.seed}"
        )
        print(
            f"machine: nproc {mach['nproc']}, {mach['cpu']}, Python {mach['python']}, SQLite {mach['sqlite']}, "
            f"whoosh {mach['whoosh']}, SudachiPy {mach['sudachipy']}"
        )
        print(f"platform: {mach['platform']}")
        print(
            f"corpus: body {min(sizes)}-{max(sizes)} bytes (mean {statistics.mean(sizes):.0f}), "
            f"{sum(sizes) / 1e6:.1f} MB in all; generated in {generation:.1f} s"
        )
        print()
        rows = [
            [
                f"full build, rebuild_index ({procs} proc.)",
                f"{default_build:.1f} s",
                f"{builds['rebuild_index'][1]} docs, index {index_bytes / 1e6:.0f} MB",
            ]
        ]
        if "one process" in builds:
            rows.append(["full build, one process", f"{builds['one process'][0]:.1f} s", "for reference"])
        rows.append(
            [
                "FTS5 trigram build",
                f"{fts_build_times['total']:.1f} s",
                f"text {fts_build_times['extract']:.1f} s + insert {fts_build_times['insert']:.1f} s + optimize "
                f"{fts_build_times['optimize']:.1f} s, db {fts_bytes / 1e6:.0f} MB",
            ]
        )
        rows.append(
            [
                "one-article update, median",
                f"{ms(statistics.median(update_times))} ms",
                f"n={len(update_times)}, min {ms(min(update_times))}, max {ms(max(update_times))} ms",
            ]
        )
        rows.append(
            [
                "first search after update",
                f"{ms(statistics.median(refresh_times))} ms",
                f"median; max {ms(max(refresh_times))} ms; found the change {len(update_times) - len(misses)}/{len(update_times)}",
            ]
        )
        print(table(["build / update", "time", "notes"], rows))
        print()
        rows = [
            [
                "ours: reports.search, snippets",
                ms(percentile(all_ours, 50)),
                ms(percentile(all_ours, 95)),
                ms(percentile(all_ours, 99)),
                ms(max(all_ours)),
                f"{statistics.mean(i[0] for i in info.values()):.0f}",
            ],
            [
                "FTS5 trigram, LIMIT 10 + snippet",
                ms(percentile(all_fts, 50)),
                ms(percentile(all_fts, 95)),
                ms(percentile(all_fts, 99)),
                ms(max(all_fts)),
                f"{statistics.mean(fts_counts.values()):.0f}",
            ],
        ]
        all_after = [t for ts in after.values() for t in ts]
        rows.append(
            [
                f"ours after the updates ({segments} segments, {deleted} deleted), 1 round",
                ms(percentile(all_after, 50)),
                ms(percentile(all_after, 95)),
                ms(percentile(all_after, 99)),
                ms(max(all_after)),
                "",
            ]
        )
        print(table(["query latency (ms)", "p50", "p95", "p99", "max", "avg hits"], rows))
        print()
        rows = []
        for category in [name for name, _share in CATEGORY_SHARE] + ["question"]:
            keys = [k for k in ours if k[0] == category]
            o = [t for k in keys for t in ours[k]]
            f = [t for k in keys for t in fts[k]]
            rows.append(
                [
                    category,
                    len(keys),
                    ms(percentile(o, 50)),
                    ms(percentile(o, 95)),
                    f"{statistics.mean(info[k][0] for k in keys):.0f}",
                    ms(percentile(f, 50)),
                    ms(percentile(f, 95)),
                    f"{statistics.mean(fts_counts[k] for k in keys):.0f}",
                ]
            )
        print(
            table(
                ["by kind of query", "n", "ours p50", "ours p95", "ours hits", "fts p50", "fts p95", "fts hits"], rows
            )
        )
        print()
        rows = [
            ["build time", f"{default_build / fts_build_times['total']:.1f}x"],
            ["query p50", f"{percentile(all_ours, 50) / percentile(all_fts, 50):.1f}x"],
            ["query p95", f"{percentile(all_ours, 95) / percentile(all_fts, 95):.1f}x"],
        ]
        print(table(["ratio ours / FTS5", "value"], rows))
        print()
        print(f"ours: {len(no_hit_ours)} queries found nothing; {len(relaxed)} fell back to the relaxed (OR) search")
        print(
            f"FTS5: {len(no_hit_fts)} queries matched nothing, of which {len(short)} because a term is shorter than "
            f"3 characters (trigram cannot match it); ours found hits for {len(short_ours_hit)} of those"
        )
        if short:
            print("  short-term queries with no FTS5 result: " + ", ".join(k[1] for k in short))
        goals = [
            ("p95 < 50 ms", percentile(all_ours, 95) < 0.05),
            ("build < 60 s", default_build < 60),
            ("update < 100 ms", statistics.median(update_times) < 0.1),
        ]
        print("goals: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in goals))
        if misses:
            print(f"WARNING: {len(misses)} updates not found by the following search: {misses[:3]}")
        print(f"total run time {total_time:.0f} s", end="")
        if others is not None:
            print(
                f"; CPU used by other processes meanwhile: {others:.0f} s (avg {others / total_time:.2f} cores)"
                + ("  <- the machine was not quiet: figures are inflated" if others / total_time > 0.1 else "")
            )
        else:
            print()
        con.close()
        if args.curve_out:
            rss, http = worker_rss(workdir, queries)
            figures = {
                "texts": texts,
                "articles": len(layout),
                "generation_s": generation,
                "build_s": default_build,
                "build_procs": procs,
                "index_mb": index_bytes / 1e6,
                "update_ms": statistics.median(update_times) * 1000,
                "p50_ms": percentile(all_ours, 50) * 1000,
                "p95_ms": percentile(all_ours, 95) * 1000,
                "rss_mb": rss,
                "http": http,
                "fts_build_s": fts_build_times["total"],
                "fts_mb": fts_bytes / 1e6,
                "fts_p50_ms": percentile(all_fts, 50) * 1000,
                "fts_p95_ms": percentile(all_fts, 95) * 1000,
                "others_cores": None if others is None else others / total_time,
            }
            args.curve_out.write_text(json.dumps(figures), encoding="utf-8")
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


# -- the cost curve (--sizes) -------------------------------------------------------------------


def sizes_list(text):
    sizes = [int(part) for part in text.replace(" ", "").split(",") if part]
    if not sizes or min(sizes) < 10:
        raise argparse.ArgumentTypeError("a comma list of sizes of at least 10, e.g. 1000,10000,50000")
    return sizes


def worker_rss(workdir, queries):
    """Resident memory (MB) of a gunicorn worker after the query set: `gunicorn config.wsgi
    --workers 1` on this size's database and index (DEBUG off, a random secret, ALLOWED_HOSTS
    127.0.0.1; collectstatic first), /healthz, then every query once through /ja/search/
    (HTTP, one after the other), then VmRSS of the worker (the master's child). Also the
    HTTP statuses and latency of those requests."""
    import secrets
    import subprocess
    import urllib.parse

    from load_bench import children_of, fetch, free_port, start_server, stop_server

    env = dict(os.environ)  # DATABASE_URL, KB_INDEX_DIR and KB_VAR_DIR of this size
    env.update(
        {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"collectstatic failed:\n{done.stdout}\n{done.stderr}")
    port = free_port()
    server = start_server(env, port, 1, workdir / "gunicorn.log")  # returns once /healthz answers 200
    try:
        statuses, times = Counter(), []
        for _category, q in queries:
            status, took, _location = fetch(port, f"/ja/search/?{urllib.parse.urlencode({'q': q})}")
            statuses[status] += 1
            times.append(took)
        workers = children_of(server.pid)
        if len(workers) != 1:
            raise RuntimeError(f"expected one gunicorn worker, found {workers}")
        status_text = Path(f"/proc/{workers[0]}/status").read_text()
        rss_kb = int(re.search(r"^VmRSS:\s+(\d+)\s+kB", status_text, re.M).group(1))
    finally:
        stop_server(server)
    http = {
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "p50_ms": percentile(times, 50) * 1000,
        "p95_ms": percentile(times, 95) * 1000,
    }
    print(
        f"gunicorn worker after {len(queries)} searches over HTTP: VmRSS {rss_kb / 1024:.0f} MB; "
        f"statuses {http['statuses']}, p50 {http['p50_ms']:.1f} ms, p95 {http['p95_ms']:.1f} ms",
        flush=True,
    )
    return rss_kb / 1024, http


CURVE_GOALS_AT = 50000  # the size the absolute goals are for
CURVE_FTS_AT = 10000  # the size where the build is compared with FTS5's


def curve(args):
    """Each size in its own process (a fresh database, index and Django), then the table."""
    import subprocess

    results, failed = {}, []
    with tempfile.TemporaryDirectory(prefix="kb-search-curve-") as tmp:
        for size in args.sizes:
            out = Path(tmp) / f"{size}.json"
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--articles",
                str(size),
                "--queries",
                str(args.queries),
                "--seed",
                str(args.seed),
                "--rounds",
                str(args.rounds),
                "--updates",
                str(args.updates),
                "--layout",
                args.layout,
                "--ja-corpus",
                str(args.ja_corpus),
                "--no-single",
                "--curve-out",
                str(out),
            ] + (["--keep"] if args.keep else [])
            print(f"\n{'#' * 30} size {size} {'#' * 30}", flush=True)
            started = time.perf_counter()
            done = subprocess.run(command)
            if done.returncode != 0 or not out.exists():
                print(f"size {size}: the run failed (exit status {done.returncode})", flush=True)
                failed.append(size)
                continue
            results[size] = json.loads(out.read_text(encoding="utf-8"))
            results[size]["run_s"] = time.perf_counter() - started
    print_curve(args, results, failed)
    return 2 if failed else 0


CURVE_COLUMNS = [  # (key, header, format)
    ("build_s", "build s", "{:.1f}"),
    ("index_mb", "index MB", "{:.0f}"),
    ("update_ms", "update ms", "{:.1f}"),
    ("p50_ms", "p50 ms", "{:.1f}"),
    ("p95_ms", "p95 ms", "{:.1f}"),
    ("rss_mb", "worker RSS MB", "{:.0f}"),
    ("fts_build_s", "FTS5 build s", "{:.1f}"),
    ("fts_mb", "FTS5 db MB", "{:.0f}"),
    ("fts_p50_ms", "FTS5 p50 ms", "{:.1f}"),
    ("fts_p95_ms", "FTS5 p95 ms", "{:.1f}"),
]


def print_curve(args, results, failed):
    sizes = [size for size in args.sizes if size in results]
    mach = machine()
    print("\n" + "=" * 78)
    print(
        f"Cost curve: {', '.join(map(str, args.sizes))} texts (layout {args.layout}), {args.queries} queries x "
        f"{args.rounds} rounds, {args.updates} updates, seed {args.seed}; each size in a fresh database and index"
    )
    print(
        f"machine: nproc {mach['nproc']}, {mach['cpu']}, Python {mach['python']}, SQLite {mach['sqlite']}, "
        f"whoosh {mach['whoosh']}, SudachiPy {mach['sudachipy']}"
    )
    if failed:
        print(f"FAILED sizes (see their output above): {', '.join(map(str, failed))}")
    if not sizes:
        return
    print()
    rows = [[size] + [fmt.format(results[size][key]) for key, _header, fmt in CURVE_COLUMNS] for size in sizes]
    print(table(["texts"] + [header for _key, header, _fmt in CURVE_COLUMNS], rows))
    print(
        "build: kb.search.index.rebuild() with its default processes ("
        + ", ".join(f"{results[s]['build_procs']} at {s}" for s in sizes)
        + "); index MB: its folder after the build\n"
        "update: one-article update (kb.search.update), median; p50/p95: reports.search with snippets, the search\n"
        "page's code path, in-process; worker RSS: VmRSS of a gunicorn worker (--workers 1) after every query once\n"
        "over HTTP; FTS5: trigram table, build = HTML to text + inserts + optimize, db = its file"
    )
    for size in sizes:
        http, busy = results[size]["http"], results[size]["others_cores"]
        print(
            f"  {size}: {results[size]['articles']} articles, run {results[size]['run_s']:.0f} s; the worker's "
            f"searches over HTTP: statuses {http['statuses']}, p50 {http['p50_ms']:.1f} ms, p95 {http['p95_ms']:.1f} ms"
            + (f"; other processes used {busy:.2f} cores meanwhile" if busy is not None else "")
            + ("  <- not quiet: figures inflated" if busy is not None and busy > 0.1 else "")
        )
    if len(sizes) > 1:
        print()
        rows = []
        for smaller, larger in zip(sizes, sizes[1:], strict=False):
            row = [f"{smaller} -> {larger} (x{larger / smaller:g})"]
            for key, _header, _fmt in CURVE_COLUMNS:
                a, b = results[smaller][key], results[larger][key]
                row.append(f"x{b / a:.2f}" if a else "-")
            rows.append(row)
        print(table(["growth"] + [header for _key, header, _fmt in CURVE_COLUMNS], rows))
        print(
            "(each figure at the larger size divided by the same figure at the smaller: x1 = flat, x10 = linear in x10)"
        )
    print()
    goals = []
    at = results.get(CURVE_GOALS_AT)
    checks = [
        ("p95 < 50 ms with snippets", "p95_ms", 50, "ms"),
        ("update < 150 ms", "update_ms", 150, "ms"),
        ("worker RSS < 600 MB", "rss_mb", 600, "MB"),
        ("build < 5 min", "build_s", 300, "s"),
    ]
    for name, key, limit, unit in checks:
        if at is None:
            goals.append(f"at {CURVE_GOALS_AT}: {name}: not measured (add {CURVE_GOALS_AT} to --sizes)")
        else:
            ok = at[key] < limit
            goals.append(f"at {CURVE_GOALS_AT}: {name}: {at[key]:.1f} {unit}  {'met' if ok else 'MISSED'}")
    at = results.get(CURVE_FTS_AT)
    if at is None:
        goals.append(f"at {CURVE_FTS_AT}: build within 2x of FTS5: not measured (add {CURVE_FTS_AT} to --sizes)")
    else:
        ratio = at["build_s"] / at["fts_build_s"]
        goals.append(
            f"at {CURVE_FTS_AT}: build within 2x of FTS5: {at['build_s']:.1f} s / {at['fts_build_s']:.1f} s = "
            f"{ratio:.1f}x  {'met' if ratio <= 2 else 'MISSED'}"
        )
    print("goals:")
    for line in goals:
        print("  " + line)


def dump_results(path, queries):
    from kb import reports
    from kb.forms import search_params

    rows = []
    for category, q in queries:
        results = reports.search(search_params({"q": q}), "ja")
        hits = [f"{hit.slug}:{hit.lang}" for hit in results.hits]
        rows.append({"kind": category, "query": q, "total": results.total, "relaxed": results.relaxed, "hits": hits})
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def bench_updates_profiled(layout, rng):
    def run():
        bench_updates(layout, 5, rng, first=500)

    return run


if __name__ == "__main__":
    sys.exit(main())
