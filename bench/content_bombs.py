"""Hostile content files through the real import: what a YAML alias bomb, a deep list and a
backtracking staleness pattern cost, beside a dry-run import of the project's own content/.

Each case is a copy of content/ with one file made hostile, imported by
``manage.py import_content --dry-run --no-index`` in a process of its own under a memory
ceiling and a time limit, and measured with getrusage: wall time, peak RSS, how the import
ended, and the length of its error output. ``--repo`` runs another checkout's manage.py
(e.g. the code before a change) on the same cases.

    .venv/bin/python bench/content_bombs.py [--levels 6,7,8] [--repo DIR] [--limit-mb 4000]
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def alias_bomb(levels, width=9):
    items = [f"&l0 [{', '.join(['lol'] * width)}]"]
    items += [f"&l{n} [{', '.join([f'*l{n - 1}'] * width)}]" for n in range(1, levels + 1)]
    return "[" + ", ".join(items) + "]"


def append(path, text):
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def hostile_cases(levels):
    """(name, function that makes a copy of content/ hostile)."""
    cases = [("content/ as shipped (the peer)", lambda root: None)]
    for n in levels:
        bomb = alias_bomb(n)
        cases += [
            (
                f"glossary, {n}-level bomb",
                lambda root, b=bomb: append(root / "glossary.yaml", f"  - ja: [爆弾]\n    en: {b}\n"),
            ),
            (
                f"rules, {n}-level bomb",
                lambda root, b=bomb: append(
                    root / "staleness.yaml",
                    f"  - id: bomb\n    type: tag\n    severity: info\n    message: {{ja: x, en: x}}\n    tags: {b}\n",
                ),
            ),
            (
                f"tree, {n}-level bomb",
                lambda root, b=bomb: (root / "wizard" / "bomb.yaml").write_text(
                    f"start: q\nnodes: {{}}\ntitle: {{ja: x, en: {b}}}\n", encoding="utf-8"
                ),
            ),
            (
                f"front matter, {n}-level bomb",
                lambda root, b=bomb: write_article(root, f"---\ntitle: 爆弾\ntags: {b}\n---\n本文\n"),
            ),
        ]
    deep = "[" * 10_000 + "]" * 10_000
    cases += [
        (
            "glossary, a list 10,000 deep",
            lambda root: append(root / "glossary.yaml", f"  - ja: [深い]\n    en: {deep}\n"),
        ),
        (
            "rule (a+)+b, 30 a's in an article",
            lambda root: (
                append(
                    root / "staleness.yaml",
                    "  - id: slow\n    type: text\n    severity: info\n    pattern: '(a+)+b'\n"
                    "    message: {ja: x, en: x}\n    examples: {match: [ab], no_match: [a]}\n",
                ),
                write_article(root, "---\ntitle: slow\n---\n" + "a" * 30 + "\n"),
            ),
        ),
    ]
    return cases


def write_article(root, text):
    folder = root / "articles" / "hostile"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ja.md").write_text(text, encoding="utf-8")


def measure(repo, content, env, limit_mb, timeout):
    """(seconds, peak RSS MB, exit code or "killed", characters of stderr, its first error line)."""

    def ceiling():
        resource.setrlimit(resource.RLIMIT_AS, (limit_mb << 20, limit_mb << 20))

    command = [sys.executable, "manage.py", "import_content", "--dry-run", "--no-index", "-v0", str(content)]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            command, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=ceiling
        )
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        while not pid and time.perf_counter() - start < timeout:
            time.sleep(0.05)
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if not pid:
            process.kill()
            _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = 0  # reaped here: Popen must not wait for it again
        seconds = time.perf_counter() - start
        err.seek(0)
        output = err.read().decode(errors="replace")
    ended = os.waitstatus_to_exitcode(status) if pid else f"killed at {timeout} s"
    first = next((line for line in output.splitlines() if line.startswith(("error", "CommandError"))), "")
    return seconds, usage.ru_maxrss / 1024, ended, len(output), first[:110]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="6,7,8", help="bomb levels, comma-separated (9 strings per level)")
    parser.add_argument("--repo", default=str(ROOT), help="the checkout whose manage.py imports")
    parser.add_argument("--limit-mb", type=int, default=4000, help="address-space ceiling of each import")
    parser.add_argument("--timeout", type=int, default=120, help="seconds before an import is killed")
    args = parser.parse_args()
    repo = Path(args.repo).resolve()
    with tempfile.TemporaryDirectory(prefix="content-bombs-") as scratch:
        scratch = Path(scratch)
        env = {
            **os.environ,
            "DJANGO_SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
            "KB_INDEX_DIR": str(scratch / "index"),
        }
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=repo, env=env, check=True)
        print(f"{repo}: import_content --dry-run, {args.limit_mb} MB address space, {args.timeout} s at most")
        print(f"{'case':<36} {'seconds':>8} {'peak MB':>8}  {'ended':<16} {'stderr chars':>12}  first error line")
        for name, make_hostile in hostile_cases([int(n) for n in args.levels.split(",")]):
            content = scratch / "content"
            shutil.rmtree(content, ignore_errors=True)
            shutil.copytree(ROOT / "content", content)
            make_hostile(content)
            seconds, peak, ended, chars, first = measure(repo, content, env, args.limit_mb, args.timeout)
            print(f"{name:<36} {seconds:8.1f} {peak:8.0f}  {ended!s:<16} {chars:>12}  {first}", flush=True)


if __name__ == "__main__":
    main()
