"""The glossary as a kind of content: content/glossary.yaml, the term bridge search uses at
query time (``kb.search.bridge``). Validated like every other content file, each problem
named with its line: a form listed twice, an entry missing a language, a form the analyzer
splits differently alone than inside a sentence (a query could never find it as written)."""

import hashlib
import json
import unicodedata
from pathlib import Path

from django.db.models import Max

from kb import content_files, languages
from kb.content_files import ContentError, quote
from kb.importer import ContentKind, FileResult, Problem, stored_path
from kb.models import Glossary
from kb.search.bridge import current as current_bridge  # noqa: F401 (the glossary in force, for commands)
from kb.search.bridge import form_key, split_difference

FILE_NAME = "glossary.yaml"


def schema():
    forms = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}
    return {
        "type": "object",
        "required": ["terms"],
        "additionalProperties": False,
        "properties": {
            "terms": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": list(languages.codes()),
                    "properties": dict.fromkeys(languages.codes(), forms),
                    "additionalProperties": False,
                },
            }
        },
    }


def load(path: Path):
    """The glossary's entries ([{lang: [form, …]}]), or ContentError with every problem.
    Checking every form with the analyzer takes a moment: a text already checked in this
    process (the same bytes, the same languages) is not checked again."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ContentError([Problem(path, f"cannot read: {exc.strerror or exc}")]) from None
    key = (hashlib.sha256(raw).hexdigest(), languages.codes(), str(path))  # problems name the path
    if key not in _checked:
        try:
            _checked[key] = (check(raw, path), None)
        except ContentError as exc:
            _checked[key] = (None, exc)
    entries, error = _checked[key]
    if error:
        raise error
    return entries


_checked = {}


def check(raw: bytes, path: Path = Path(FILE_NAME)):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError([Problem(path, f"not UTF-8 (invalid byte at offset {exc.start})")]) from None
    document = content_files.parse(text, path)
    problems = content_files.schema_problems(document, schema(), describe)
    if problems:
        raise ContentError(problems)
    entries = document.data["terms"]
    problems = duplicates(entries, document) + split_differently(entries, document)
    if problems:
        raise ContentError(sorted(problems, key=lambda problem: problem.line or 0))
    return entries


def describe(error):
    path = list(error.absolute_path)
    where = f"entry {path[1] + 1}: " if len(path) >= 2 else ""
    if error.validator == "required":
        return where + f"missing language: {error.message.split(' ')[0]}"
    return where + error.message


def written_key(text):
    """A form as written, for "listed twice": NFKC, case-folded, spaces removed."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def duplicates(entries, document):
    """Forms listed twice (as written), and forms of different entries that the analyzer
    reads as the same words (a query would not know which concept it meant)."""
    problems, written, analysed = [], {}, {}
    for number, entry in enumerate(entries):
        for lang, forms in entry.items():
            for position, form in enumerate(forms):
                at = ("terms", number, lang, position)
                line = document.line(*at)
                seen = written.get(written_key(form))
                if seen:
                    problems.append(document.problem(f"{quote(form)} is listed twice (also on line {seen[1]})", *at))
                    continue
                written[written_key(form)] = (form, line)
                other = analysed.setdefault(form_key(form), (form, line, number))
                if other[2] != number:
                    message = f"{quote(form)} reads as the same words as {quote(other[0])} (line {other[1]})"
                    problems.append(document.problem(message, *at))
    return problems


def split_differently(entries, document):
    problems = []
    for number, entry in enumerate(entries):
        for lang, forms in entry.items():
            for position, form in enumerate(forms):
                difference = split_difference(form, lang)
                if difference:
                    alone, inside = (" / ".join(words) for words in difference)
                    message = f"{quote(form)} splits as {alone} alone but as {inside} in a sentence"
                    problems.append(document.problem(message, "terms", number, lang, position))
    return problems


def data_hash(entries):
    return hashlib.sha256(json.dumps(entries, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class GlossaryContent(ContentKind):
    name = "glossary"
    order = 30

    def marks_content_root(self, root):
        return (root / FILE_NAME).is_file()

    def read(self, plan, root, layout):
        path = root / FILE_NAME
        if layout != "content" or not path.is_file():
            return
        try:
            plan.parts[self.name] = (path, load(path))
        except ContentError as exc:
            plan.problems += exc.problems

    def sync(self, plan, report):
        if self.name not in plan.parts:
            return
        path, entries = plan.parts[self.name]
        digest = data_hash(entries)
        current = Glossary.objects.filter(is_current=True).first()
        if current and current.data_hash == digest:
            report.results.append(FileResult(path, "unchanged", "glossary"))
            return
        number = (Glossary.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        Glossary.objects.filter(is_current=True).update(is_current=False)
        Glossary.objects.create(number=number, entries=entries, data_hash=digest, source_path=stored_path(path))
        report.results.append(FileResult(path, "new" if number == 1 else "updated", f"glossary r{number}"))
        report.changed_kinds.add(self.name)

    def describe(self, plan):
        return f"{len(plan.parts[self.name][1])} glossary entries" if self.name in plan.parts else ""
