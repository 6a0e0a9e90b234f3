"""Split judged query sets into a tuning half and a held-out half (run once per new set).

    .venv/bin/python bench/split_relevance.py questions variants   # tests/data/relevance/<set>.yaml

Reads each flat file tests/data/relevance/<set>.yaml, writes tests/data/relevance/tuning/<set>.yaml
and tests/data/relevance/held-out/<set>.yaml, every entry marked `half: tuning|held-out`, and
removes the flat file. Every entry is kept as written (its text, its quoting, its notes), and the
comment lines that head a section go with the entries of that section in each half.

The halves are balanced by language and by difficulty, not the first half against the second.
The entries are sorted by (the visitor's language, the difficulty: how today's search ranks the
first expected text, first / 2-5 / missed / a same_as pair, the section the entry is written in,
a hash of the query), or for a set whose entries name their `kind` (variants) by (kind, language,
difficulty, hash), and dealt out alternately down that order: the leading keys are split within
one, the others about evenly. The difficulty is measured with
the engine of the day of the split; it only orders the dealing: no expectation comes from it.
Once split, a set stays split: re-running on a set that has halves refuses.
"""

import argparse
import hashlib
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml
from workdir import setup_django  # bench/ is on the path when a script runs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "data"
RELEVANCE = DATA / "relevance"
HALVES = ("tuning", "held-out")


def blocks(text):
    """(header lines, [(section comment lines, entry lines)]) of a judged-set file, as written."""
    header, entries, pending, current = [], [], [], None
    for line in text.splitlines():
        if line.startswith("- ") and current is None and "" in header:  # the first entry's section
            last_blank = len(header) - 1 - header[::-1].index("")
            header, pending = header[:last_blank], [c for c in header[last_blank:] if c.strip()]
        if line.startswith("- "):
            current = (pending, [line])
            entries.append(current)
            pending = []
        elif line.startswith("#") or not line.strip():
            if current is None:
                header.append(line)
            elif line.strip():
                pending.append(line)
        else:
            current[1].append(line)
    return header, entries


def difficulty(rank, same_as):
    if same_as:
        return 3
    if rank == 1:
        return 0
    return 1 if rank and rank <= 5 else 2


def split(name, ranks):
    path = RELEVANCE / f"{name}.yaml"
    header, entries = blocks(path.read_text(encoding="utf-8"))
    parsed = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert len(parsed) == len(entries), (name, len(parsed), len(entries))
    section, keyed, heads = "", [], []
    for position, ((comments, _lines), judgement) in enumerate(zip(entries, parsed, strict=True)):
        section = comments[-1] if comments else section
        heads.append(comments or (heads[-1] if heads else []))
        query = str(judgement["q"])
        key = (
            judgement.get("lang", ranks["visitor"]),
            difficulty(ranks[query], "same_as" in judgement),
            judgement.get("kind", section),
            hashlib.sha1(query.encode()).hexdigest(),
        )
        keyed.append((key, position))
    # Dealt out alternately down the entries sorted by (kind, language, difficulty, hash) for a
    # set whose entries name a kind, else by (language, difficulty, section, hash): the first keys
    # are split within one, the later ones about evenly.
    half_of, counts = {}, {half: Counter() for half in HALVES}
    kinds = all("kind" in judgement for judgement in parsed)
    order = sorted(keyed, key=lambda item: (item[0][2], *item[0][:2], item[0][3]) if kinds else item[0])
    for turn, ((language, level, kind, _digest), position) in enumerate(order):
        half = HALVES[turn % 2]
        counts[half].update([("all",), ("lang", language), ("level", level), ("kind", kind)])
        half_of[position] = half
    for half in HALVES:
        out = [
            *header,
            f"# This is the {half} half of the set; the other half is ../{HALVES[half == 'tuning']}/{name}.yaml",
            "# (split by bench/split_relevance.py: balanced by language and by difficulty).",
            "",
        ]
        shown = None
        for position, (_comments, lines) in enumerate(entries):
            if half_of[position] != half:
                continue
            comments = [] if heads[position] is shown else heads[position]
            shown = heads[position]
            for comment in comments:
                if out[-1].strip():
                    out.append("")
                out.append(comment)
            indent = re.match(r"\s*", lines[1]).group(0) if len(lines) > 1 else "  "
            out.extend([*lines, f"{indent}half: {half}"])
        (RELEVANCE / half).mkdir(exist_ok=True)
        (RELEVANCE / half / f"{name}.yaml").write_text("\n".join(out) + "\n", encoding="utf-8")
    back = [j for half in HALVES for j in yaml.safe_load((RELEVANCE / half / f"{name}.yaml").read_text())]
    assert sorted(str(j["q"]) for j in back) == sorted(str(j["q"]) for j in parsed), name
    assert all({k: v for k, v in j.items() if k != "half"} in parsed for j in back), name
    path.unlink()
    for half in HALVES:
        shares = {
            feature: n
            for feature, n in sorted(counts[half].items(), key=str)
            if feature[0] != "both" and feature[1:] != ("",)
        }
        print(f"{name} {half}: " + ", ".join(f"{'/'.join(map(str, f[1:])) or 'all'} {n}" for f, n in shares.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="+", help="names of flat files in tests/data/relevance/")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "jpaztech-blog")
    args = parser.parse_args()
    for name in args.sets:
        if any((RELEVANCE / half / f"{name}.yaml").exists() for half in HALVES):
            raise SystemExit(f"{name} is split already")
        if not (RELEVANCE / f"{name}.yaml").exists():
            raise SystemExit(f"no {RELEVANCE / name}.yaml")
    workdir = Path(tempfile.mkdtemp(prefix="kb-split-"))
    try:
        setup_django(workdir)
        from relevance import import_all

        import_all(ROOT / "content", args.corpus)
        from tests.kb.test_relevance import SETS, rank, text_ids

        names = text_ids()
        for name in args.sets:
            visitor = SETS[name][0]
            ranks = {"visitor": visitor}
            for judgement in yaml.safe_load((RELEVANCE / f"{name}.yaml").read_text(encoding="utf-8")):
                if "expect" in judgement:
                    query = str(judgement["q"])
                    ranks[query] = rank(query, judgement.get("lang", visitor), set(judgement["expect"]), names)
                else:
                    ranks[str(judgement["q"])] = None
            split(name, ranks)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
