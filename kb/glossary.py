"""The glossary as a kind of content: content/glossary.yaml, the term bridge search uses at
query time (``kb.search.bridge``). Validated like every other content file, each problem
named with its line: a form listed twice, an entry missing a language, a form the analyzer
splits differently alone than inside a sentence (a query could never find it as written)."""

import hashlib
import json
import unicodedata
from pathlib import Path

import jsonschema
import yaml
from django.db.models import Max

from kb import caching, languages
from kb.importer import ContentKind, FileResult, Problem, stored_path
from kb.models import Glossary
from kb.search.bridge import EMPTY, Bridge, form_key, split_difference

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


class GlossaryError(Exception):
    def __init__(self, problems):
        super().__init__("; ".join(message for message, _line in problems))
        self.problems = problems  # [(message, line)]


def load(path: Path):
    """The glossary's entries ([{lang: [form, …]}]), or GlossaryError with every problem.
    Checking every form with the analyzer takes a moment: a text already checked in this
    process (the same bytes, the same languages) is not checked again."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise GlossaryError([(f"cannot read: {exc}", None)]) from exc
    key = (hashlib.sha256(raw).hexdigest(), languages.codes())
    if key not in _checked:
        try:
            _checked[key] = (check(raw), None)
        except GlossaryError as exc:
            _checked[key] = (None, exc)
    entries, error = _checked[key]
    if error:
        raise error
    return entries


_checked = {}


def check(raw: bytes):
    try:
        text = raw.decode("utf-8")
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except UnicodeDecodeError as exc:
        raise GlossaryError([(f"not UTF-8: {exc}", None)]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise GlossaryError([(f"not valid YAML: {getattr(exc, 'problem', exc)}", mark and mark.line + 1)]) from exc
    errors = sorted(jsonschema.Draft202012Validator(schema()).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise GlossaryError([(describe(error), line_at(node, error.absolute_path)) for error in errors])
    entries = data["terms"]
    problems = duplicates(entries, node) + split_differently(entries, node)
    if problems:
        raise GlossaryError(sorted(problems, key=lambda problem: problem[1] or 0))
    return entries


def describe(error):
    path = list(error.absolute_path)
    where = f"entry {path[1] + 1}: " if len(path) >= 2 else ""
    if error.validator == "required":
        return where + f"missing language: {error.message.split(' ')[0]}"
    return where + error.message


def line_at(node, path):
    """The line of a node of the composed YAML (1-based), or None."""
    try:
        for key in path:
            if isinstance(node, yaml.MappingNode):
                node = next(value for name, value in node.value if name.value == key)
            else:
                node = node.value[key]
        return node.start_mark.line + 1
    except (StopIteration, IndexError, AttributeError, TypeError):
        return None


def written_key(text):
    """A form as written, for "listed twice": NFKC, case-folded, spaces removed."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def duplicates(entries, node):
    """Forms listed twice (as written), and forms of different entries that the analyzer
    reads as the same words (a query would not know which concept it meant)."""
    problems, written, analysed = [], {}, {}
    for number, entry in enumerate(entries):
        for lang, forms in entry.items():
            for position, form in enumerate(forms):
                line = line_at(node, ["terms", number, lang, position])
                seen = written.get(written_key(form))
                if seen:
                    problems.append((f"{form!r} is listed twice (also on line {seen[1]})", line))
                    continue
                written[written_key(form)] = (form, line)
                other = analysed.setdefault(form_key(form), (form, line, number))
                if other[2] != number:
                    problems.append((f"{form!r} reads as the same words as {other[0]!r} (line {other[1]})", line))
    return problems


def split_differently(entries, node):
    problems = []
    for number, entry in enumerate(entries):
        for lang, forms in entry.items():
            for position, form in enumerate(forms):
                difference = split_difference(form, lang)
                if difference:
                    alone, inside = (" / ".join(words) for words in difference)
                    line = line_at(node, ["terms", number, lang, position])
                    problems.append((f"{form!r} splits as {alone} alone but as {inside} in a sentence", line))
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
        except GlossaryError as exc:
            plan.problems += [Problem(path, message, line) for message, line in exc.problems]

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


_current = {"version": None, "bridge": EMPTY}


def forget_current():
    _current["version"] = None


def current_bridge() -> Bridge:
    """The current glossary as a Bridge, read again only when the content version changes."""
    version = caching.content_version()
    if _current["version"] != version:
        entries = Glossary.objects.filter(is_current=True).values_list("entries", flat=True).first()
        _current["bridge"] = Bridge.from_entries(entries) if entries else EMPTY
        _current["version"] = version
    return _current["bridge"]
