"""HTTP load test: gunicorn (2 sync workers, DEBUG off) under wrk, a realistic mix of pages.

    scripts/with_postgres.sh .venv/bin/python bench/load_bench.py [--duration 60] [--connections 50]
    .venv/bin/python bench/load_bench.py --duration 5        # SQLite in a temp dir, quick check

Everything happens in a temporary directory (database when DATABASE_URL is unset, search
index, collected static files, server log); ``var/`` is not touched. Steps:

1. migrate, collectstatic, import_content (content/) and import_content of the jpaztech blog
   corpus (../shared/corpus/jpaztech-blog), each a ``manage.py`` subprocess;
2. the URL list: article pages (ja and en) of the 5 content articles and a sample of corpus
   articles, search pages and the JSON API for a list of queries, wizard steps and result
   or candidates pages (every node of every tree reached by its shortest answers: the step
   the walk asks next there, or the outcome page it ends on), built from the database with
   the app's own URL functions; every URL is fetched once first and must answer 200. And
   the search-miss list: thousands of different queries drawn from the texts in the
   database (bench/queries.py), each sent once, never fetched beforehand;
3. gunicorn ``config.wsgi --workers 2`` on a free loopback port, waits for /healthz;
4. wrk with bench/load_mix.lua: a short warm-up, then each category alone (articles,
   search, wizard, results, search-miss; --category-duration, default 20 s), the mix
   (--duration, default 60 s), and /healthz (the ceiling: a view that touches neither
   database nor index);
5. a table: requests/s, p50/p95/p99, errors, CPU per request per run, ratios to /healthz,
   the goals (zero errors; articles, results and the mix >= 50 % of /healthz, search and
   wizard >= 25 %, search-miss >= 10 %), the machine;
6. with --profile-miss, the search-miss queries once more in this process under cProfile.

wrk is a system package: ``apt-get install wrk``. Exit status: 0 when every goal is met,
1 when a goal is missed, 2 when the benchmark itself could not run.
"""

import argparse
import http.client
import json
import math
import os
import platform
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from pathlib import Path

from machine import cpu_count, cpu_model  # bench/ is on the path when a script runs
from queries import MISS_SHARE, Material, distinct_queries

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "load_mix.lua"
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
DEFAULT_CORPUS = Path("../shared/corpus/jpaztech-blog")
CATEGORIES = ("articles", "search", "wizard", "results", "search-miss")
DEFAULT_MIX = "articles=50,search=30,wizard=15,results=5"
# Each run's requests/s as a share of /healthz's: the product owner's targets.
GOALS = {"articles": 0.50, "search": 0.25, "wizard": 0.25, "results": 0.50, "search-miss": 0.10, "mix": 0.50}
# The search-miss list must outlast its run: on 2 cores, with the 255 articles of content/ and
# the corpus, cache-miss searches run at about 300/s; a thread that runs out of queries stops.
MISS_QUERIES_MIN, MISS_PER_SECOND = 3000, 500
MISS_JA_SHARE = 0.75  # of the search-miss queries, sent to /ja/search/ (the rest to /en/search/)

QUERIES = [
    "更新中",
    "準備できていません",
    "VMExtensionProvisioningError",
    "168.63.129.16",
    "extensions",
    "プロビジョニング",
    "VM エージェント",
    "拡張機能 失敗",
    "RDP 接続できない",
    "ネットワーク セキュリティ グループ",
    "強制トンネリング",
    "waagent",
    "sysprep",
    "VM Agent is unresponsive",
    "0NC_-L9G",
    "ExpressRoute",
    "シリアル コンソール",
    "ディスク 拡張",
    "Application Gateway",
    "タイムアウト",
    "provisioning failed",
    "agent not ready",
    "/var/log/waagent.log",
    "サーバー",
    "存在しないはずの単語ぴよ",
    "xyzzyplugh",
]

# Runs inside ``manage.py shell``: the URLs to load, what the database is, and the texts it
# holds (written to TEXTS_PATH, for the cache-miss queries).
URLS_CODE = r"""
import json, random, sqlite3
from urllib.parse import quote
from django.db import connection
from django.utils import timezone, translation
from kb.models import Article, Revision
from wizard import incidents as incident_windows
from wizard import links, paste, tree_cache, walking

content = sorted(Article.objects.visible().filter(source_root="content").values_list("slug", flat=True))
others = sorted(Article.objects.visible().exclude(source_root="content").values_list("slug", flat=True))
sample = random.Random(1).sample(others, min(SAMPLE, len(others)))
unicode_slugs = [s for s in others if not s.isascii()]
if unicode_slugs and not any(s in sample for s in unicode_slugs):
    sample[-1:] = unicode_slugs[:1]  # one Unicode slug, for the percent-encoding
rows = []
for slug, weight in [(s, 3) for s in content] + [(s, 1) for s in sample]:
    for lang in ("ja", "en"):
        rows.append(["articles", weight, f"/{lang}/articles/{quote(slug, safe='')}/"])
# The wizard: every node of every live tree, by the answers that reach it by the fewest
# questions; where the walk ends there, its result or candidates page (what support agents
# paste into tickets), else the step it asks next.
incidents = incident_windows.impact_windows()
today = timezone.localdate()
seen = set()
for live in tree_cache.live_trees():
    tree = live.tree
    for node_id in tree.nodes:
        answers = paste.path_answers(tree, node_id)
        if answers is None:
            continue
        step = walking.next_step(tree, answers, incidents)
        for lang in ("ja", "en"):
            with translation.override(lang):
                if step.finished:
                    row = ["results", 1, links.outcome_url(live, step, answers, today)]
                else:
                    row = ["wizard", 3, links.step_url(tree.slug, answers)]
            if row[2] not in seen:
                seen.add(row[2])
                rows.append(row)
texts = list(Revision.objects.current().visible().order_by("pk").values_list("lang", "title", "body"))
with open(TEXTS_PATH, "w", encoding="utf-8") as out:
    json.dump(texts, out, ensure_ascii=False)
if connection.vendor == "postgresql":
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        engine = "PostgreSQL " + cursor.fetchone()[0]
else:
    engine = f"{connection.vendor} {sqlite3.sqlite_version}"
print("LOADBENCH-URLS " + json.dumps({
    "rows": rows, "engine": engine, "articles": Article.objects.visible().count(),
    "content_slugs": content, "sample": sample, "texts": len(texts),
}))
"""


class BenchError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env, *args, capture=False):
    command = [str(PYTHON), "manage.py", *args]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args[:1])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return (done.stdout if capture else None), time.monotonic() - started


def prepare(env, corpus):
    steps = [
        ("migrate", ["migrate", "--noinput", "-v0"]),
        ("collectstatic", ["collectstatic", "--noinput", "-v0"]),
        ("import content/", ["import_content", "-v0"]),
    ]
    if corpus:
        steps.append((f"import {corpus}", ["import_content", "-v0", str(corpus)]))
    for label, args in steps:
        _, took = manage(env, *args)
        print(f"  {label:<44} {took:6.1f} s", flush=True)


def url_list(env, sample, tmp, miss_count, seed):
    texts_path = tmp / "texts.json"
    code = URLS_CODE.replace("SAMPLE", str(int(sample))).replace("TEXTS_PATH", repr(str(texts_path)))
    out, _ = manage(env, "shell", "-c", code, capture=True)
    line = next((x for x in out.splitlines() if x.startswith("LOADBENCH-URLS ")), None)
    if line is None:
        raise BenchError(f"could not list URLs:\n{out}")
    info = json.loads(line.split(" ", 1)[1])
    rows = info["rows"]
    for q in QUERIES:
        encoded = urllib.parse.urlencode({"q": q})
        rows += [
            ["search", 2, f"/ja/search/?{encoded}"],
            ["search", 1, f"/en/search/?{encoded}"],
            ["search", 1, f"/api/search?{encoded}"],
        ]
    info["miss"] = miss_queries(texts_path, miss_count, seed)
    rows += [
        ["search-miss", "once", f"/{lang}/search/?{urllib.parse.urlencode({'q': q})}"] for _k, lang, q in info["miss"]
    ]
    rows.append(["healthz", 1, "/healthz"])
    for _, _, path in rows:
        if not path.isascii() or "\t" in path or " " in path:
            raise BenchError(f"URL not encoded: {path!r}")
    miss_paths = [path for category, _, path in rows if category == "search-miss"]
    if len(set(miss_paths)) != len(miss_paths):
        raise BenchError("the search-miss list repeats a URL")
    paths_file = tmp / "paths.tsv"
    paths_file.write_text("".join(f"{c}\t{w}\t{p}\n" for c, w, p in rows), encoding="ascii")
    info["paths_file"] = paths_file
    return info


def miss_queries(texts_path, count, seed):
    """(kind, lang, query) of ``count`` different queries drawn from the texts the database
    holds (bench/queries.py: search_bench.py's kinds, with a fifth of questions in customers'
    words, MISS_SHARE), none of them one of QUERIES; three in four are sent to /ja/search/, the rest to /en/search/."""
    if count <= 0:
        return []
    texts = json.loads(texts_path.read_text(encoding="utf-8"))
    rng = random.Random(seed)
    material = Material(None, rng, texts=texts, en_extra=False)
    found = distinct_queries(count, material, rng, exclude=QUERIES, shares=MISS_SHARE)
    if len(found) < count:
        raise BenchError(f"only {len(found)} distinct queries could be drawn from the texts (--miss-queries {count})")
    return [(kind, "ja" if rng.random() < MISS_JA_SHARE else "en", q) for kind, q in found]


def fetch(port, path, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started, response.getheader("Location")
    finally:
        conn.close()


def start_server(env, port, workers, log_path):
    command = [str(GUNICORN), "config.wsgi", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    with open(log_path, "ab") as log:  # gunicorn keeps its own copy of the descriptor
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(
                f"gunicorn exited with {process.returncode}:\n{Path(log_path).read_text(errors='replace')}"
            )
        try:
            if fetch(port, "/healthz", timeout=2)[0] == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError("gunicorn did not answer /healthz within 60 s")


def stop_server(process):
    if process is None or process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop; its workers follow
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def preflight(port, rows):
    """Every URL once, without following redirects: all must answer 200. Not the paths sent
    only once (search-miss): fetching them here would put them in the page cache."""
    seen, timings, bad = set(), {}, []
    for category, weight, path in rows:
        if path in seen or weight == "once":
            continue
        seen.add(path)
        status, took, location = fetch(port, path)
        timings.setdefault(category, []).append(took)
        if status != 200:
            bad.append((status, path, location))
    return timings, bad


def median(values):
    values = sorted(values)
    n = len(values)
    return (values[n // 2] + values[(n - 1) // 2]) / 2 if values else float("nan")


CURRENT = {"wrk": None}
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_cpu(pids):
    """utime + stime in seconds of each pid still alive."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def children_of(pid):
    """The gunicorn workers: processes whose parent is the master."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def machine_jiffies():
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    return sum(fields[:8]) - fields[3] - fields[4], sum(fields[:8])  # busy, total


class CpuMeter:
    """CPU used during one wrk run: by the gunicorn master + workers, by wrk, by the machine."""

    def __init__(self, master_pid):
        self.master = master_pid

    def start(self):
        self.pids = [self.master, *children_of(self.master)]
        self.server0 = proc_cpu(self.pids)
        self.machine0 = machine_jiffies()
        self.wall0 = time.monotonic()

    def stop(self, wrk_cpu):
        wall = time.monotonic() - self.wall0
        pids = set(self.pids) | set(children_of(self.master))
        server1 = proc_cpu(pids)
        server = sum(server1[p] - self.server0.get(p, 0.0) for p in server1)
        machine1 = machine_jiffies()
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        busy = None
        if self.machine0 and machine1:
            busy = (machine1[0] - self.machine0[0]) / max(1, machine1[1] - self.machine0[1])
        return {"server_s": server, "wrk_s": wrk_cpu, "wall_s": wall, "cpus": cpus, "machine_busy": busy}


def run_wrk(port, paths_file, what, duration, connections, threads, timeout, verbose, meter=None):
    # Where the first wrk thread that runs out of "once" paths tells the others to stop.
    stop_file = paths_file.with_name(f"once-stop-{secrets.token_hex(8)}")
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        f"--timeout={timeout}s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        str(paths_file),
        what,
        str(threads),
        str(stop_file),
    ]
    if meter:
        meter.start()
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    CURRENT["wrk"] = process
    out, err = process.communicate()
    CURRENT["wrk"] = None
    stop_file.unlink(missing_ok=True)
    cpu = None
    if meter:
        # wrk is reaped by communicate(): its CPU time is in this process's children usage.
        usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = meter.stop(usage1.ru_utime + usage1.ru_stime - usage0.ru_utime - usage0.ru_stime)
    if verbose:
        print(out, err, sep="\n")
    line = next((x for x in out.splitlines() if x.startswith("LOADBENCH ")), None)
    if process.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({process.returncode}):\n{out}\n{err}")
    result = json.loads(line.split(" ", 1)[1])
    # wrk's own summary, as a cross-check of the script's numbers.
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["wrk_rps"] = float(match.group(1)) if match else None
    once = result.get("once") or {}
    once = {"taken": 0, "threads": threads, "ran_out": 0, "stopped": 0, "active_us": result["duration_us"], **once}
    result["once"] = once
    if once["stopped"] and once["stopped"] == once["threads"] and once["active_us"] > 0:
        # A thread ran out of its "once" paths and every thread stopped: the run lasted until then.
        result["duration_us"] = once["active_us"]
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    statuses = {int(k): v for k, v in result["statuses"].items()}
    result["statuses"] = statuses
    socket_errors = sum(result["errors"][k] for k in ("connect", "read", "write", "timeout"))
    result["error_count"] = socket_errors + sum(n for s, n in statuses.items() if s >= 400)
    result["redirects"] = sum(n for s, n in statuses.items() if 300 <= s < 400)
    result["raw"] = out
    result["cpu"] = cpu
    if cpu:
        # Threads that stopped early left requests in flight that the server still answered
        # (and wrk did not count): the server's work is per request sent (wrk's first call of
        # request() only checks what the script returns; it is not sent).
        sent = max(result["requests"], once["taken"] - 1 if once["stopped"] else 0)
        cpu["server_ms_per_req"] = cpu["server_s"] * 1000 / max(1, sent)
    return result


def describe(result):
    lat = result["latency_us"]
    e = result["errors"]
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(result["statuses"].items()))
    sock = ", ".join(f"{k} {v}" for k, v in e.items() if v and k != "status")
    text = (
        f"{result['rps']:8.1f} req/s  p50 {lat['p50'] / 1000:7.1f} ms  p95 {lat['p95'] / 1000:7.1f} ms  "
        f"p99 {lat['p99'] / 1000:7.1f} ms  [{statuses}]" + (f"  socket errors: {sock}" if sock else "")
    )
    cpu = result.get("cpu")
    if cpu:
        cap = cpu["wall_s"] * cpu["cpus"]
        text += (
            f"\n           CPU: gunicorn {cpu['server_ms_per_req']:.2f} ms/request; of the machine's {cpu['cpus']} CPUs "
            f"gunicorn used {cpu['server_s'] / cap * 100:.0f} %, wrk {cpu['wrk_s'] / cap * 100:.0f} %"
        )
        if cpu["machine_busy"] is not None:
            other = cpu["machine_busy"] - (cpu["server_s"] + cpu["wrk_s"]) / cap
            text += f", everything else (database server, other processes) {max(0.0, other) * 100:.0f} %"
    return text


def server_errors(log_path):
    text = Path(log_path).read_text(errors="replace") if Path(log_path).exists() else ""
    tracebacks = text.count("Traceback (most recent call last)")
    first = ""
    if tracebacks:
        start = text.index("Traceback (most recent call last)")
        # Include the log line before the traceback (Django's "Internal Server Error: /path").
        start = text.rfind("\n", 0, max(0, text.rfind("\n", 0, start))) + 1
        first = text[start : start + 6000]
    worker_trouble = len(re.findall(r"WORKER TIMEOUT|Worker exiting|Booting worker", text))
    return tracebacks, first, worker_trouble, text


def cpu_busy(seconds=2.0):
    """Share of all CPUs busy over a short sample (our server idle): other load skews the run."""

    def sample():
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return fields[3] + fields[4], sum(fields[:8])  # idle + iowait, total

    try:
        idle1, total1 = sample()
        time.sleep(seconds)
        idle2, total2 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 1 - (idle2 - idle1) / max(1, total2 - total1)


def machine(engine, busy):
    version = lambda cmd: subprocess.run(cmd, capture_output=True, text=True).stdout.strip() or "?"  # noqa: E731
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    wrk_line = (
        (wrk_version.stdout + wrk_version.stderr).splitlines()[0] if (wrk_version.stdout + wrk_version.stderr) else "?"
    )
    return {
        "nproc": cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version() + f" ({sys.executable})",
        "database": engine,
        "gunicorn": version([str(GUNICORN), "--version"]),
        "wrk": " ".join(wrk_line.split()[:2]),
        "kernel": platform.release(),
        "other load": (
            f"{busy * 100:.0f} % of the CPUs busy just before the runs (server idle)" if busy is not None else "?"
        )
        + "; wrk runs on the same CPUs as gunicorn",
    }


def fmt_ms(us):
    return f"{us / 1000:.1f}"


def report(results, order, healthz, args, info, pre, env_machine):
    print()
    print(
        f"Load test: gunicorn config.wsgi --workers {args.workers} (sync), DEBUG off; "
        f"wrk -t{args.threads} -c{args.connections}, timeout {args.timeout} s"
    )
    print(
        f"Data: {info['articles']} articles (content/{' + ' + str(args.corpus) if str(args.corpus) != 'none' else ''}); mix {args.mix}"
    )
    header = (
        f"{'run':<11} {'secs':>5} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'errors':>7} {'3xx':>5} {'1-req ms':>9} {'cpu ms':>7} {'vs /healthz':>12}"
    )
    print()
    print(header)
    print("-" * len(header))
    for name in order:
        r = results[name]
        lat = r["latency_us"]
        single = median(pre.get(name, [])) * 1000 if name in pre else None
        ratio = r["rps"] / healthz["rps"] if healthz and healthz["rps"] and name != "healthz" else None
        cpu = f"{r['cpu']['server_ms_per_req']:.2f}" if r.get("cpu") else "-"
        print(
            f"{name:<11} {r['duration_us'] / 1e6:5.1f} {r['requests']:9d} {r['rps']:8.1f} {fmt_ms(lat['p50']):>8} "
            f"{fmt_ms(lat['p95']):>8} {fmt_ms(lat['p99']):>8} {fmt_ms(lat['max']):>8} {r['error_count']:7d} "
            f"{r['redirects']:5d} {(f'{single:.1f}' if single is not None else '-'):>9} {cpu:>7} "
            f"{(f'{ratio * 100:.1f} %' if ratio is not None else '-'):>12}"
        )
    print()
    print("1-req ms: median time of one request with nothing else running (the pre-flight fetch of every URL).")
    print("cpu ms: CPU time of the gunicorn processes per request (user + system), whatever else the machine ran.")
    print("errors: HTTP status >= 400 plus socket errors (connect/read/write/timeout); 3xx are counted apart.")
    failures = []
    miss = results.get("search-miss")
    if miss is not None:
        listed, once = len(info["miss"]), miss["once"]
        kinds = Counter(kind for kind, _lang, _q in info["miss"])
        langs = Counter(lang for _kind, lang, _q in info["miss"])
        print(
            f"search-miss: {listed} different queries drawn from the {info['texts']} texts in the database "
            f"({', '.join(f'{k} {n}' for k, n in kinds.items())}; /ja/search/ {langs['ja']}, /en/search/ {langs['en']}), "
            f"each sent once and never again, so every search misses the page cache; the run took {once['taken']} of them"
        )
        if once["stopped"]:
            everyone = once["stopped"] == once["threads"]
            print(
                f"  RAN OUT: {once['ran_out']} of {once['threads']} wrk threads used up their share of the list, "
                f"{once['stopped']} stopped then (no query was repeated); "
                + (
                    f"the run lasted {miss['duration_us'] / 1e6:.1f} s of the {args.category_duration} s asked, "
                    "and its figures are of that time."
                    if everyone
                    else "the others went on to the end against a server that idle connections may have stalled: "
                    "the figures are not valid."
                )
                + " For a full-length run, use --miss-queries "
                f"{math.ceil(miss['rps'] * args.category_duration * 1.5 / 1000) * 1000} or more"
            )
            if not everyone:
                failures.append("search-miss run not valid")
        else:
            print(f"  no thread ran out of queries: {listed - once['taken']} left unused")
    print()
    total_errors = sum(r["error_count"] for r in results.values())
    print("Goals:")
    line = f"  zero errors in every run: {total_errors} error(s)"
    print(line + ("  OK" if total_errors == 0 else "  MISSED"))
    if total_errors:
        failures.append("errors")
    for name, goal in GOALS.items():
        if name not in results or not healthz:
            continue
        ratio = results[name]["rps"] / healthz["rps"]
        ok = ratio >= goal
        print(
            f"  {name:<11} >= {goal * 100:.0f} % of /healthz throughput: {ratio * 100:5.1f} % "
            f"({results[name]['rps']:.1f} / {healthz['rps']:.1f} req/s)  {'OK' if ok else 'MISSED'}"
        )
        if not ok:
            failures.append(name)
    if healthz and healthz.get("cpu"):
        base = healthz["cpu"]["server_ms_per_req"]
        parts = [
            f"{name} {base / results[name]['cpu']['server_ms_per_req'] * 100:.1f} %"
            for name in GOALS
            if name in results and results[name].get("cpu")
        ]
        print(
            "  (by gunicorn CPU time per request, less sensitive to other load: /healthz cpu ms / page cpu ms = "
            + ", ".join(parts)
            + ")"
        )
    print()
    print("Machine:")
    for key, value in env_machine.items():
        print(f"  {key:<11} {value}")
    return failures


def profile_miss(env, misses, top=25):
    """The search-miss queries once each, in this process, under cProfile: the search page's
    own view (``kb.views.search_page`` without its decorators, so no page cache and no
    search log: search_params, kb.reports.search with snippets and flags, and rendering
    kb/search.html), on the benchmark's database and index, each query in its language."""
    if not misses:
        print("\n--profile-miss: no search-miss queries (--miss-queries 0)")
        return
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import cProfile
    import inspect
    import io
    import pstats

    import django

    django.setup()
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory
    from django.utils import translation
    from django_htmx.middleware import HtmxDetails

    from kb import views

    view = inspect.unwrap(views.search_page)
    factory = RequestFactory()
    statuses = Counter()

    def search_page(lang, q):
        request = factory.get(f"/{lang}/search/?{urllib.parse.urlencode({'q': q})}", HTTP_HOST="127.0.0.1")
        request.user = AnonymousUser()
        request.htmx = HtmxDetails(request)
        with translation.override(lang):
            request.LANGUAGE_CODE = lang
            response = view(request)
        statuses[response.status_code] += 1
        return response

    for q in QUERIES[:5]:  # warm-up: the Sudachi dictionary, the index, the templates
        search_page("ja", q)
    statuses.clear()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _kind, lang, q in misses:
        search_page(lang, q)
    profiler.disable()
    took = time.perf_counter() - started
    print()
    print(
        f"--profile-miss: {len(misses)} different queries, once each, in-process through the search page's view "
        f"({view.__module__}.{view.__qualname__}: search_params, kb.reports.search, kb/search.html), no page cache"
    )
    print(
        f"  {took:.1f} s under the profiler, {took / len(misses) * 1000:.1f} ms per query (profiling adds overhead); "
        f"statuses {dict(statuses)}"
    )
    for sort, count in (("cumulative", top), ("tottime", 15)):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(count)
        print(f"\n--- profile of the search-miss queries: the {count} functions with the most {sort} time ---")
        print("\n".join(out.getvalue().splitlines()[4:]).rstrip())


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of the mix (default 60)")
    parser.add_argument(
        "--category-duration",
        type=int,
        default=None,
        help="seconds of each category alone and of /healthz (default min(20, --duration))",
    )
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (default 50)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--timeout", type=int, default=30, help="wrk request timeout, seconds (default 30)")
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"category weights of the mix (default {DEFAULT_MIX})")
    parser.add_argument("--sample", type=int, default=20, help="corpus articles in the URL list (default 20)")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help=f"blog folder imported after content/ (default {DEFAULT_CORPUS}); 'none' to skip",
    )
    parser.add_argument(
        "--only",
        choices=[*CATEGORIES, "mix", "healthz"],
        action="append",
        help="run only these (repeatable); /healthz is always run for the ratios",
    )
    parser.add_argument(
        "--wait-quiet",
        type=int,
        default=0,
        metavar="SECONDS",
        help="before the runs, wait up to this long for other processes to leave the CPUs idle",
    )
    parser.add_argument(
        "--miss-queries",
        type=int,
        default=None,
        metavar="N",
        help=f"different queries of the search-miss category, each sent once (default {MISS_QUERIES_MIN}, or "
        f"{MISS_PER_SECOND} per second of --category-duration if more; 0 skips the category)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the search-miss queries (default 1)")
    parser.add_argument(
        "--profile-miss",
        action="store_true",
        help="after the runs, profile the search-miss queries in-process (cProfile, top 25 by cumulative time)",
    )
    parser.add_argument(
        "--no-search-log",
        action="store_true",
        help="run the server with KB_SEARCH_LOG=0 (to measure what recording searches costs)",
    )
    parser.add_argument(
        "--metrics-cost",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="afterwards, /healthz with the metrics middleware on and off (KB_METRICS=0), alternating, ROUNDS "
        "rounds of --category-duration each: the middleware's cost (README goal < 5 %%)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--verbose", action="store_true", help="print wrk's own output too")
    args = parser.parse_args(argv)
    if args.category_duration is None:
        args.category_duration = min(20, args.duration)
    if args.miss_queries is None:
        args.miss_queries = max(MISS_QUERIES_MIN, MISS_PER_SECOND * args.category_duration)
    return args


def metrics_cost(env, info, args, tmp):
    """/healthz (no database, no index: the request path alone) on a server with the metrics
    middleware on, in multiprocess mode as in production, and on one with KB_METRICS=0,
    alternating so that both see the same machine. Requests/s move with whatever else runs on
    the machine; the server's CPU time per request much less: the cost is read from it (on a
    server whose CPUs are the limit, throughput goes as one over the CPU per request)."""
    rps, cpu = {"on": [], "off": []}, {"on": [], "off": []}
    for round_number in range(args.metrics_cost):
        for mode in ("on", "off"):
            server_env = {**env, "KB_METRICS": "1" if mode == "on" else "0"}
            if mode == "on":
                server_env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp / f"prometheus-{round_number}")
                os.makedirs(server_env["PROMETHEUS_MULTIPROC_DIR"])
            port = free_port()
            server = start_server(server_env, port, args.workers, tmp / f"gunicorn-metrics-{mode}.log")
            try:
                result = run_wrk(
                    port,
                    info["paths_file"],
                    "healthz",
                    args.category_duration,
                    args.connections,
                    args.threads,
                    args.timeout,
                    args.verbose,
                    CpuMeter(server.pid),
                )
            finally:
                stop_server(server)
            rps[mode].append(result["rps"])
            cpu[mode].append(result["cpu"]["server_ms_per_req"])
            print(
                f"  metrics {mode:<3} round {round_number + 1}: /healthz {result['rps']:8.0f} req/s, "
                f"server CPU {result['cpu']['server_ms_per_req']:.3f} ms/request, machine "
                f"{(result['cpu']['machine_busy'] or 0) * 100:.0f} % busy",
                flush=True,
            )
    on, off = median(cpu["on"]), median(cpu["off"])
    print(
        f"Metrics middleware (medians of {args.metrics_cost} rounds): /healthz {median(rps['on']):.0f} req/s with it, "
        f"{median(rps['off']):.0f} without; server CPU {on:.3f} ms/request with it, {off:.3f} without: "
        f"costs {(1 - off / on) * 100:.1f} % of throughput (goal < 5 %)"
    )
    # The same cost measured alone: the middleware's work for one /healthz request, in this
    # process's CPU time (what other processes on the machine do moves it little).
    folder = tmp / "prometheus-alone"
    folder.mkdir()
    out, _ = manage({**env, "PROMETHEUS_MULTIPROC_DIR": str(folder)}, "shell", "-c", MIDDLEWARE_CODE, capture=True)
    alone_us = float(out.strip().splitlines()[-1])
    print(
        f"Metrics middleware alone: {alone_us:.1f} us of CPU per /healthz request, {alone_us / 10 / off:.1f} % of "
        f"the {off:.3f} ms a /healthz request costs without it (goal < 5 %)"
    )


MIDDLEWARE_CODE = r"""
import time
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve
from kb.metrics import MetricsMiddleware
request = RequestFactory().get("/healthz")
request.resolver_match = resolve("/healthz")
response = HttpResponse("ok")
middleware = MetricsMiddleware(lambda request: response)
for _ in range(2000):
    middleware(request)
runs = 50000
started = time.process_time()
for _ in range(runs):
    middleware(request)
print((time.process_time() - started) / runs * 1e6)
"""


def on_signal(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None):
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk   (Debian/Ubuntu package 'wrk')", file=sys.stderr)
        return 2
    for tool in (PYTHON, GUNICORN):
        if not tool.exists():
            print(f"{tool} not found: run `make setup` first", file=sys.stderr)
            return 2
    corpus = None if str(args.corpus) == "none" else args.corpus
    if corpus is not None and not (ROOT / corpus).is_dir():
        print(f"warning: corpus {corpus} not found; only content/ is imported", file=sys.stderr)
        corpus = None
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    tmp = Path(tempfile.mkdtemp(prefix="kb-load."))
    server = None
    try:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "DJANGO_DEBUG": "0",
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,127.0.0.1:*",  # wrk and fetch() name the port
                "KB_VAR_DIR": str(tmp / "var"),
                "KB_INDEX_DIR": str(tmp / "index"),
                "PYTHONUNBUFFERED": "1",
                # One client sends thousands of searches a minute: the per-client limits are not measured here.
                "KB_RATE_SEARCH": "0",
                "KB_RATE_API": "0",
                "KB_RATE_SEARCH_LOG": "0",
            }
        )
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
        if args.no_search_log:
            env["KB_SEARCH_LOG"] = "0"
            print("Search log off (KB_SEARCH_LOG=0)", flush=True)
        shown_db = re.sub(r"//[^@/]*@", "//…@", env["DATABASE_URL"])
        print(f"Temporary directory {tmp}; database {shown_db}", flush=True)
        print("Preparing:", flush=True)
        prepare(env, corpus)
        info = url_list(env, args.sample, tmp, args.miss_queries, args.seed)
        rows = [line.split("\t") for line in info["paths_file"].read_text().splitlines()]
        counts = {c: sum(1 for r in rows if r[0] == c) for c in (*CATEGORIES, "healthz")}
        print(
            f"  URLs: {counts['articles']} article pages ({len(info['content_slugs'])} content + "
            f"{len(info['sample'])} corpus slugs, ja + en), {counts['search']} search URLs ({len(QUERIES)} queries "
            f"x /ja/search/, /en/search/, /api/search), {counts['wizard']} wizard steps, {counts['results']} result "
            f"and candidates pages, {counts['search-miss']} search-miss URLs (different queries, each sent once)"
        )

        port = free_port()
        log_path = tmp / "gunicorn.log"
        server = start_server(env, port, args.workers, log_path)
        print(f"gunicorn on 127.0.0.1:{port} (pid {server.pid}), log {log_path}", flush=True)

        pre, bad = preflight(port, rows)
        print(
            "Pre-flight (every URL once): "
            + ", ".join(f"{c} median {median(t) * 1000:.1f} ms / max {max(t) * 1000:.1f} ms" for c, t in pre.items()),
            flush=True,
        )
        if bad:
            print(f"  {len(bad)} URL(s) did not answer 200:")
            for status, path, location in bad:
                print(f"    {status} {urllib.parse.unquote(path)}" + (f" -> {location}" if location else ""))

        busy = cpu_busy()
        waited_until = time.monotonic() + args.wait_quiet
        while busy is not None and busy > 0.15 and time.monotonic() < waited_until:
            print(f"  {busy * 100:.0f} % of the CPUs busy with other work: waiting (--wait-quiet)", flush=True)
            time.sleep(5)
            busy = cpu_busy()
        if busy is not None and busy > 0.15:
            print(
                f"warning: {busy * 100:.0f} % of the CPUs are busy with other work: the figures will be low", flush=True
            )
        meter = CpuMeter(server.pid)
        wrk = lambda what, secs: run_wrk(  # noqa: E731
            port, info["paths_file"], what, secs, args.connections, args.threads, args.timeout, args.verbose, meter
        )
        only = set(args.only or [*CATEGORIES, "mix", "healthz"]) | {"healthz"}
        if not info["miss"]:
            only.discard("search-miss")
        if "search-miss" in args.mix and "search-miss" in only:
            print(
                "warning: the mix includes search-miss: it walks the same list again, so its searches repeat",
                flush=True,
            )
        print(f"Warm-up: mix for {min(5, args.duration)} s", flush=True)
        wrk(args.mix, min(5, args.duration))
        results, order = {}, []
        plan = [(c, c, args.category_duration) for c in CATEGORIES if c in only]
        if "mix" in only:
            plan.append(("mix", args.mix, args.duration))
        plan.append(("healthz", "healthz", args.category_duration))
        for name, what, secs in plan:
            print(f"Running {name} for {secs} s ...", flush=True)
            results[name] = wrk(what, secs)
            order.append(name)
            print(f"  {name:<11} {describe(results[name])}", flush=True)
        tracebacks, first, worker_trouble, log_text = server_errors(log_path)
        stop_server(server)  # after reading its log (stopping logs "Worker exiting"), before the profile
        failures = report(results, order, results.get("healthz"), args, info, pre, machine(info["engine"], busy))
        if bad:
            failures.append("preflight")
        boots = len(re.findall(r"Booting worker", log_text))
        print()
        print(
            f"Server log: {tracebacks} traceback(s); worker boots {boots} (expected {args.workers}); "
            f"timeouts/exits {len(re.findall(r'WORKER TIMEOUT|Worker exiting', log_text))}"
        )
        if tracebacks:
            print("First traceback in the server log:")
            print(first)
            failures.append("tracebacks")
        if boots > args.workers:
            failures.append("worker restarts")
        if args.profile_miss:
            profile_miss(env, info["miss"])
        if args.metrics_cost:
            server = None
            metrics_cost(env, info, args, tmp)
        print()
        not_run = [name for name in GOALS if name not in results]
        verdict = "every goal met" if not not_run else f"no goal missed ({', '.join(not_run)} not run)"
        print("Result: " + (verdict if not failures else "MISSED: " + ", ".join(failures)))
        return 1 if failures else 0
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        process = CURRENT.get("wrk")
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        stop_server(server)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
