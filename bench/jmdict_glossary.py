"""A glossary with general vocabulary from JMdict added: to measure whether it helps search.

Takes the project glossary (content/glossary.yaml) and, for each frequent Japanese noun of the
corpus that is not already one of its forms, looks the noun up in JMdict (the ``jamdict`` and
``jamdict-data`` packages) and appends an entry: the Japanese form and one or two short English
glosses of the dictionary's first noun sense (at most 3 words each, no vague ones such as
"thing" or "case", no notes in parentheses). Forms that would make the glossary invalid (listed
twice, reading as the same words as another entry's form, splitting differently alone than in
a sentence) are left out, checked with the project's own validator (``kb.glossary.check``).

Three steps, two interpreters (jamdict must not go into the project venv, Django is not in
the jamdict venv); the first and the last run themselves under the project venv:

    .venv/bin/python bench/jmdict_glossary.py nouns --out /tmp/nouns.tsv     # corpus nouns
    /tmp/jm/bin/python bench/jmdict_glossary.py glossary --out /tmp/g.yaml   # JMdict lookups
    .venv/bin/python bench/jmdict_glossary.py prune /tmp/g.yaml              # validator

or all three at once (nouns only when --nouns does not exist yet):

    /tmp/jm/bin/python bench/jmdict_glossary.py --out /tmp/glossary-jmdict.yaml --limit 1000
    .venv/bin/python bench/relevance.py --glossary /tmp/glossary-jmdict.yaml --verbose

``--limit N`` looks up the N most frequent nouns (by the number of corpus posts holding them),
``--min-count N`` only nouns found in at least N posts.

Result (measured 2026-12 with JMdict 2021 from jamdict-data 1.5, the jpaztech-blog corpus and
the 300 judged queries of tests/data/relevance/; hit@5 / MRR; mean query time over the 302
queries x 3, warm):

    glossary                         ja           en           en-to-ja      ja-to-en      ms
    none                             100% .991    96.3% .944   67.2% .532    65.7% .554    5.4
    project (922 entries)            100% .974    100% 1.000   91.1% .845    97.1% .952   10.8
    + JMdict, top 300 nouns (+64)    100% .974    100% 1.000   91.1% .845    97.1% .952   10.8
    + JMdict, top 1000 nouns (+274)  100% .974    100% 1.000   91.1% .844    97.1% .952   10.3
    + JMdict, all 2596 nouns (+1168) 100% .974    100% 1.000   90.6% .839    97.1% .971   10.8

No judged query is found that was not found before. With all nouns one gets worse (チケット =
ticket: "mask passwords ... attaching logs to a ticket" drops out of the top 5) and one better
by chance (予約 = "appointment, booking", not the "reservation" the post says). Before function
words were filtered, glosses such as 多く = many, 程度 = about, 一方 = the other cost three
more queries. The frequent corpus nouns the glossary lacks are general words (内容, 以下, 幸い),
JMdict's first sense is often the wrong one for IT text (ロード = road, 記録 = minutes,
作業 = manufacturing, サイン = autograph, 領域 = territory), and the domain words it gets
right are already in the glossary. Query time does not change measurably. Conclusion: not a
runtime dependency (311 MB of data for no gain); at most an offline source of proposals that an
editor reviews (``--pairs FILE`` lists them).
"""

import argparse
import ast
import atexit
import csv
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from workdir import setup_django  # bench/ is on the path when a script runs

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"
GLOSSARY = ROOT / "content" / "glossary.yaml"
CORPUS = ROOT.parent / "shared" / "corpus" / "jpaztech-blog"
NOUNS = Path(tempfile.gettempdir()) / "jmdict-nouns.tsv"

# Glosses too general to bridge anything: a query word translated to these finds everything.
VAGUE = {
    "thing",
    "things",
    "matter",
    "case",
    "situation",
    "time",
    "way",
    "place",
    "one",
    "person",
    "something",
    "someone",
    "stuff",
    "point",
    "part",
    "kind",
    "type",
    "sort",
    "fact",
    "item",
    "aspect",
    "side",
    "affair",
    "affairs",
    "circumstances",
    "state",
    "condition",
    "object",
    "content",
    "contents",
    "reason",
    "purpose",
    "use",
    "matters",
    "detail",
    "details",
    "self",
    "whole",
    "all",
    "everything",
    "above",
    "below",
    "following",
    "this",
    "that",
    "here",
    "there",
    "now",
    "before",
    "after",
    "other",
    "others",
    "each",
    "every",
    "same",
    "top",
    "middle",
    "inside",
    "outside",
    "front",
    "back",
    "left",
    "right",
    "number",
    "amount",
    "on",
    "off",
    "in",
    "out",
    "up",
    "down",
    "yes",
    "no",
    "ok",
    "okay",
    "many",
    "since",
    "ago",
    "degree",
    "extent",
    "level",
    "relation",
    "relationship",
    "meaning",
    "sense",
    "form",
    "shape",
    "body",
    "end",
    "beginning",
    "word",
    "words",
    "thing in question",
}
NOUN_POS = ("noun (common)", "noun or participle which takes the aux. verb suru", "noun, used as")
KANA_ALONE = "word usually written using kana alone"
NUMERAL = re.compile(r"^[0-9０-９一二三四五六七八九十百千万億兆]+$")


# --- step 1 (project venv): the corpus nouns, by the number of posts holding them


def nouns_command(args):
    django_setup()
    from sudachipy import tokenizer as sudachi_tokenizer

    from kb.search.analysis import ASCII_RUN, SENTENCE_CONTEXT, chunks, normalize, sudachi

    counts = Counter()
    for path in sorted(Path(args.corpus).rglob("*.md")):
        found = set()
        for segment in ASCII_RUN.split(normalize(path.read_text(encoding="utf-8", errors="replace"))):
            if not segment.strip():
                continue
            for _start, chunk in chunks(segment):
                for m in sudachi().tokenize(SENTENCE_CONTEXT + chunk, sudachi_tokenizer.Tokenizer.SplitMode.A):
                    pos = m.part_of_speech()
                    if pos[0] == "名詞" and pos[1] in ("普通名詞", "固有名詞"):
                        found.add(m.normalized_form())
        counts.update(found)
    with open(args.out, "w", encoding="utf-8") as out:
        for noun, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            out.write(f"{noun}\t{count}\n")
    print(f"{len(counts)} nouns → {args.out}", file=sys.stderr)


# --- step 2 (jamdict venv): JMdict lookups


def written_key(text):
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def read_candidates(path, min_count, limit):
    rows = []
    with open(path, encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t"):
            if len(row) >= 2 and row[1].strip().isdigit() and int(row[1]) >= min_count:
                rows.append((row[0].strip(), int(row[1])))
    return rows[:limit] if limit else rows


def usable_noun(noun):
    return (
        len(noun) >= 2
        and not noun.isascii()
        and not NUMERAL.match(noun)
        and not re.search(r"[\x00-\x7f]", noun)
        and not re.fullmatch(r"[\u3040-\u309f]{1,2}", noun)  # short hiragana: こと, もの, ため
    )


def clean_gloss(text):
    """A gloss as a glossary form, or None: short, no notes, not vague."""
    text = text.strip()
    if "(" in text or ")" in text or not text.isascii():
        return None
    if re.search(r"\b(etc|e\.g|i\.e|one's|someone|something|somebody|oneself)\b", text):
        return None
    if text.startswith(("to ", "-")) or text.endswith("-") or "/" in text or ";" in text:
        return None
    words = text.split()
    if not 1 <= len(words) <= 3 or not all(re.fullmatch(r"[A-Za-z][A-Za-z'-]*", w) for w in words):
        return None
    text = text if text.isupper() else text.lower()
    if text in VAGUE or all(w in VAGUE for w in text.split()):
        return None
    return text


def best_entry(jam, noun):
    """The JMdict entry the noun most likely means: written with it as a kanji form (or as a
    kana form when the word has no kanji or is usually written in kana), most frequent first."""
    found = []
    for position, entry in enumerate(jam.lookup(noun, lookup_chars=False, lookup_ne=False).entries):
        forms = [k for k in entry.kanji_forms if k.text == noun]
        if not forms:
            usually_kana = any(KANA_ALONE in s.misc for s in entry.senses[:1])
            if not entry.kanji_forms or usually_kana:
                forms = [k for k in entry.kana_forms if k.text == noun]
        if forms:
            priority = max(len(f.pri) for f in forms)
            found.append((-priority, position, entry))
    if not found:
        return None
    found.sort(key=lambda item: item[:2])
    # two common words written alike (e.g. 家: いえ / け): no way to tell which one the corpus means
    if len(found) > 1 and found[0][0] == found[1][0] < 0 and first_glosses(found[0][2]) != first_glosses(found[1][2]):
        return None
    return found[0][2]


def first_glosses(entry):
    for sense in entry.senses:
        if any(p.startswith(NOUN_POS) for p in sense.pos):
            return [g.text for g in sense.gloss]
        if sense.pos:  # the first sense is not a noun: not a noun reading of the word
            return []
    return []


def glossary_command(args):
    from jamdict import Jamdict

    if not Path(args.nouns).exists():
        run_project(["nouns", "--out", str(args.nouns), "--corpus", str(args.corpus)])
    project_text = Path(args.glossary).read_text(encoding="utf-8")
    # the project glossary's forms, without PyYAML (not in the jamdict venv): its entries are
    # one-line flow lists; a form this misses is still caught by the validator (prune)
    taken = {
        written_key(form.strip().strip("'\""))
        for match in re.finditer(r"^\s*-?\s*\w+: \[(.*)\]", project_text, re.M)
        for form in match.group(1).split(",")
    }
    jam = Jamdict()
    added, lines, skipped = [], [], Counter()
    for noun, count in read_candidates(args.nouns, args.min_count, args.limit):
        if written_key(noun) in taken:
            skipped["already in the glossary"] += 1
            continue
        if not usable_noun(noun):
            skipped["too short, numeral or ASCII"] += 1
            continue
        entry = best_entry(jam, noun)
        if entry is None:
            skipped["not in JMdict or ambiguous"] += 1
            continue
        glosses = []
        for gloss in first_glosses(entry):
            gloss = clean_gloss(gloss)
            if gloss and written_key(gloss) not in taken and gloss not in glosses:
                glosses.append(gloss)
        glosses = glosses[: args.glosses]
        if not glosses:
            skipped["no short, precise noun gloss"] += 1
            continue
        taken.update(written_key(f) for f in [noun, *glosses])
        added.append((noun, glosses, count, entry.idseq))
        lines.append(
            f"  - ja: [{quote(noun)}]\n    en: [{', '.join(quote(g) for g in glosses)}]  # JMdict {entry.idseq}, in {count} posts\n"
        )
    text = (
        project_text.rstrip("\n")
        + "\n\n# -- General vocabulary from JMdict (bench/jmdict_glossary.py)\n"
        + "".join(lines)
    )
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"{len(added)} entries added; skipped: {dict(skipped)}", file=sys.stderr)
    if args.pairs:
        with open(args.pairs, "w", encoding="utf-8") as f:
            for noun, glosses, count, idseq in added:
                f.write(f"{noun}\t{' | '.join(glosses)}\t{count}\t{idseq}\n")
    if not args.no_prune:
        run_project(["prune", str(args.out)])


YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n"}  # read as booleans or None


def quote(text):
    return (
        text
        if text.lower() not in YAML_WORDS and re.fullmatch(r"[\w][\w '\-ー・]*", text) and not text.endswith(" ")
        else json.dumps(text, ensure_ascii=False)
    )


def run_project(arguments):
    subprocess.run([str(PROJECT_PYTHON), __file__, *arguments], check=True, cwd=ROOT)


# --- step 3 (project venv): leave out what the project's validator refuses


def django_setup():
    """Django configured on a throw-away directory (kb.search and kb.glossary need settings)."""
    work = Path(tempfile.mkdtemp(prefix="jmdict-glossary-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    setup_django(work, migrate=False)


def drop_function_words(path, marker):
    """Leave out English glosses made only of words a query's conceptual reading ignores (the
    bridge's FILLER, the analyzer's stop words): "the other", "many", "about", "since"."""
    from kb.search.analysis import STOP_WORDS, stem
    from kb.search.bridge import FILLER

    head, _, generated = path.read_text(encoding="utf-8").partition(marker)
    removed, lines = [], generated.splitlines(keepends=True)
    for number, line in enumerate(lines):
        match = re.match(r"(\s*en: \[)(.*)(\].*)", line, re.S)
        if not match:
            continue
        kept = []
        for form in (f.strip() for f in match.group(2).split(",")):
            words = form.strip('"').lower().split()
            if all(w in STOP_WORDS or stem(w) in FILLER for w in words):
                removed.append(f"{form!r}: function words only")
            else:
                kept.append(form)
        lines[number] = f"{match.group(1)}{', '.join(kept)}{match.group(3)}" if kept else ""
        if not kept:
            lines[number - 1] = ""
    path.write_text(head + marker + "".join(lines), encoding="utf-8")
    return removed


def prune_command(args):
    django_setup()
    from kb.content_files import ContentError
    from kb.glossary import check

    path = Path(args.file)
    marker = "# -- General vocabulary from JMdict"
    removed = drop_function_words(path, marker)
    for _round in range(20):
        text = path.read_text(encoding="utf-8")
        try:
            check(text.encode(), path)
            break
        except ContentError as exc:
            problems = [(problem.message, problem.line) for problem in exc.problems]
        first_added = next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(marker))
        lines = text.splitlines(keepends=True)
        fixed = [m for m, line in problems if not line or line <= first_added]
        if fixed:
            raise SystemExit("the project glossary itself is invalid: " + "; ".join(fixed))
        removed += [m for m, _line in problems]
        drop = set()
        for message, number in problems:
            line = lines[number - 1]
            start = number - 1 if line.lstrip().startswith("- ja:") else number - 2
            quoted = re.match(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", message)
            if not quoted:
                raise SystemExit(f"line {number}: {message}")
            form = ast.literal_eval(quoted.group(0))
            head, _, rest = line.partition("[")
            forms, _, tail = rest.rpartition("]")
            kept = [f for f in (f.strip() for f in forms.split(",")) if f.strip('"') != form]
            if kept and start != number - 1:  # another English form is left: keep the entry
                lines[number - 1] = f"{head}[{', '.join(kept)}]{tail}"
            else:
                drop.add(start)
        for start in sorted(drop, reverse=True):
            del lines[start : start + 2]
        path.write_text("".join(lines), encoding="utf-8")
    else:
        raise SystemExit("still invalid after 20 rounds")
    added = text.split(marker, 1)[1].count("- ja:")
    print(f"prune: {len(removed)} generated forms left out, {added} generated entries kept", file=sys.stderr)
    for message in removed:
        print(f"    {message}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="glossary", choices=["nouns", "glossary", "prune"])
    parser.add_argument("file", nargs="?", help="prune: the generated glossary")
    parser.add_argument("--out", type=Path, default=Path("/tmp/glossary-jmdict.yaml"))
    parser.add_argument("--glossary", type=Path, default=GLOSSARY, help="the glossary to extend")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--nouns", type=Path, default=NOUNS, help="noun<TAB>posts, most frequent first")
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--limit", type=int, default=1000, help="the N most frequent nouns (0: all)")
    parser.add_argument("--glosses", type=int, default=2, help="English forms per entry, at most")
    parser.add_argument("--pairs", type=Path, help="also write the added pairs as TSV")
    parser.add_argument("--no-prune", action="store_true")
    args = parser.parse_args()
    {"nouns": nouns_command, "glossary": glossary_command, "prune": prune_command}[args.command](args)


if __name__ == "__main__":
    main()
