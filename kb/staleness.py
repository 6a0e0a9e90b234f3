"""Staleness rules (data in content/staleness.yaml) and the flags they raise on revisions.

Loading validates the file with a JSON Schema and checks every rule against its own
examples, so a typo in a pattern is caught before it silently matches nothing. Evaluating a
rule is a pure function of a revision and its context; ``refresh_flags`` stores the results.
"""

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import yaml
from django.conf import settings
from django.db import transaction

from kb import languages
from kb.importer import ContentKind, ImportReport, Plan, Problem
from kb.models import Flag, Revision
from kb.sources import DURATION, DURATION_DAYS

URL = re.compile(r"https?://[^\s)\]>\"'<]+", re.IGNORECASE)
TRANSLATION_BEHIND = Flag.TRANSLATION_BEHIND


def message_schema():
    """A message in every content language."""
    return {
        "type": "object",
        "required": list(languages.codes()),
        "properties": {code: {"type": "string", "minLength": 1} for code in languages.codes()},
        "additionalProperties": False,
    }


RULE_SCHEMA = {
    "type": "object",
    "required": ["id", "type", "severity", "message"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "type": {"enum": ["tag", "text", "url", "age", "translation", "review"]},
        "code": {"type": "string"},
        "severity": {"enum": ["info", "warning", "critical"]},
        "message": {"$ref": "#/$defs/message"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "pattern": {"type": "string", "minLength": 1},
        "hosts": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "path_prefix": {"type": "string"},
        "kinds": {"type": "array", "items": {"enum": ["guide", "reference", "rca"]}, "minItems": 1},
        "older_than": {"type": "string", "pattern": DURATION.pattern},
        "retired": {"type": ["string", "object"]},
        "replacement": {"type": "string"},
        "examples": {
            "type": "object",
            "properties": {
                "match": {"type": "array", "items": {"type": "string"}},
                "no_match": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
    "allOf": [
        {"if": {"properties": {"type": {"const": "tag"}}}, "then": {"required": ["tags"]}},
        {"if": {"properties": {"type": {"const": "text"}}}, "then": {"required": ["pattern", "examples"]}},
        {"if": {"properties": {"type": {"const": "url"}}}, "then": {"required": ["hosts", "examples"]}},
        {"if": {"properties": {"type": {"const": "age"}}}, "then": {"required": ["kinds", "older_than"]}},
    ],
}


def rules_schema():
    return {
        "type": "object",
        "required": ["rules"],
        "properties": {"rules": {"type": "array", "items": RULE_SCHEMA}},
        "additionalProperties": False,
        "$defs": {"message": message_schema()},
    }


class RulesError(Exception):
    def __init__(self, message, line=None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class Rule:
    id: str
    type: str
    severity: str
    message: dict
    code: str = ""
    tags: list = field(default_factory=list)
    pattern: re.Pattern | None = None
    hosts: list = field(default_factory=list)
    path_prefix: str = ""
    kinds: list = field(default_factory=list)
    older_than_days: int = 0
    replacement: str = ""
    retired: str = ""
    examples: dict = field(default_factory=dict)

    def reason(self, in_lang, **values):
        values.setdefault("replacement", self.replacement)
        values.setdefault("retired", self.retired)
        return self.message[in_lang].format_map(FormatValues(values))


class FormatValues(dict):
    def __missing__(self, key):
        return "{" + key + "}"


@dataclass
class Rules:
    rules: list

    def __iter__(self):
        return iter(self.rules)


@dataclass
class Context:
    """What a rule may look at besides the revision's own text."""

    kind: str
    tags: list
    published_at: dt.datetime | None
    today: dt.date
    behind: tuple | None = None  # (made-from number, current number) for a translation behind
    review_due: dt.date | None = None


# -- loading ------------------------------------------------------------------------------


def load_rules(path: Path) -> Rules:
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"cannot read rules: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RulesError(f"not valid YAML: {getattr(exc, 'problem', exc)}", mark.line + 1 if mark else None) from exc
    try:
        jsonschema.validate(data, rules_schema())
    except jsonschema.ValidationError as exc:
        raise RulesError(describe_schema_error(data, exc), line_of(text, exc.absolute_path)) from exc
    rules = []
    for index, raw in enumerate(data["rules"]):
        try:
            rules.append(build_rule(raw))
        except RulesError as exc:
            raise RulesError(f"rule {raw['id']}: {exc.message}", line_of(text, ["rules", index])) from exc
    duplicates = [rule_id for rule_id, count in Counter(r.id for r in rules).items() if count > 1]
    if duplicates:
        raise RulesError(f"rule {duplicates[0]}: id used more than once")
    return Rules(rules)


def describe_schema_error(data, error):
    path = list(error.absolute_path)
    where = ""
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rule = data["rules"][path[1]]
        rule_id = rule.get("id", f"#{path[1] + 1}") if isinstance(rule, dict) else f"#{path[1] + 1}"
        field_path = ".".join(str(p) for p in path[2:])
        where = f"rule {rule_id}" + (f", {field_path}" if field_path else "") + ": "
    return where + error.message


def line_of(text, path):
    """Line number of a node of the YAML document, from PyYAML's composed node marks."""
    try:
        node = yaml.compose(text)
        for key in path:
            if isinstance(node, yaml.MappingNode):
                node = next(v for k, v in node.value if k.value == key)
            elif isinstance(node, yaml.SequenceNode):
                node = node.value[key]
        return node.start_mark.line + 1
    except (StopIteration, IndexError, yaml.YAMLError, TypeError):
        return None


def build_rule(raw) -> Rule:
    rule = Rule(
        id=raw["id"],
        type=raw["type"],
        severity=raw["severity"],
        message=raw["message"],
        code=raw.get("code", default_code(raw["type"])),
        tags=[t.lower() for t in raw.get("tags", [])],
        hosts=[h.lower() for h in raw.get("hosts", [])],
        path_prefix=raw.get("path_prefix", ""),
        kinds=raw.get("kinds", []),
        replacement=raw.get("replacement", ""),
        retired=str(raw.get("retired", "")),
        examples=raw.get("examples", {}),
    )
    if "pattern" in raw:
        try:
            rule.pattern = re.compile(raw["pattern"])
        except re.error as exc:
            raise RulesError(f"pattern does not compile: {exc}") from exc
    if "older_than" in raw:
        match = DURATION.match(raw["older_than"])
        rule.older_than_days = int(match.group(1)) * DURATION_DAYS[match.group(2)]
    check_examples(rule)
    return rule


def default_code(rule_type):
    return {
        "tag": "archived",
        "text": "retired_term",
        "url": "retired_url",
        "age": "age",
        "translation": TRANSLATION_BEHIND,
        "review": "review_due",
    }[rule_type]


def check_examples(rule: Rule):
    for example in rule.examples.get("match", []):
        if not text_matches(rule, example):
            raise RulesError(f"example {example!r} should match but does not")
    for example in rule.examples.get("no_match", []):
        if text_matches(rule, example):
            raise RulesError(f"example {example!r} should not match but does")


# -- evaluating ---------------------------------------------------------------------------


def text_matches(rule: Rule, text: str):
    """The first thing a text or url rule finds in the text, or None."""
    if rule.type == "text":
        match = rule.pattern.search(text)
        return match.group(0) if match else None
    if rule.type == "url":
        for url in URL.findall(text):
            try:
                parts = urlsplit(url)
                host = (parts.hostname or "").lower()
            except ValueError:  # e.g. "http://[" in prose: not a link
                continue
            if any(host == h or host.endswith("." + h) for h in rule.hosts) and parts.path.startswith(rule.path_prefix):
                return host + (rule.path_prefix if rule.path_prefix else "")
    return None


def evaluate(rule: Rule, revision: Revision, context: Context):
    """The reason in every content language ({lang: text}) when the rule flags the revision,
    else None."""
    values = match_values(rule, revision, context)
    if values is None:
        return None
    return {lang: rule.reason(lang, **localised(values, lang)) for lang in languages.codes()}


def localised(values, lang):
    """Values that name a language, named in the language of the message."""
    return {key: languages.name(value, lang) if key in LANGUAGE_VALUES else value for key, value in values.items()}


LANGUAGE_VALUES = {"lang", "source_lang"}


def match_values(rule, revision, context):
    if rule.type == "tag":
        return {} if {t.lower() for t in context.tags} & set(rule.tags) else None
    if rule.type in ("text", "url"):
        found = text_matches(rule, revision.title + "\n" + revision.body)
        return {"match": found, "host": found} if found else None
    if rule.type == "age":
        if context.kind not in rule.kinds or context.published_at is None:
            return None
        age = (context.today - context.published_at.date()).days
        if age <= rule.older_than_days:
            return None
        published = context.published_at.date()
        return {"date": published.isoformat(), "years": whole_years(published, context.today)}
    if rule.type == "translation" and context.behind:
        return {
            "source_number": context.behind[0],
            "current_number": context.behind[1],
            "lang": revision.lang,
            "source_lang": revision.translated_from.lang,
        }
    if rule.type == "review" and context.review_due and context.review_due < context.today:
        return {"due": context.review_due.isoformat()}
    return None


def whole_years(start: dt.date, end: dt.date) -> int:
    """Completed years from start to end, as a person counts them (not days // 365)."""
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def context_for(revision: Revision, today, source_current, history) -> Context:
    article = revision.article
    published = revision.published_at
    if published is None and revision.translated_from_id:
        published = revision.translated_from.published_at
    review_due = None
    if article.reviewed_on and article.review_every_days:
        review_due = article.reviewed_on + dt.timedelta(days=article.review_every_days)
    return Context(
        kind=article.kind,
        tags=[t.name for t in article.tags.all()],
        published_at=published,
        today=today,
        behind=translation_lag(revision, source_current, history),
        review_due=review_due,
    )


def translation_lag(revision, source_current, history):
    """(made-from number, current number) when a major source change came after the
    revision this translation was made from; None when it is up to date."""
    made_from = revision.translated_from
    if made_from is None or source_current is None or source_current.number <= made_from.number:
        return None
    later = [r for r in history if made_from.number < r.number <= source_current.number]
    if not any(r.significance == Revision.Significance.MAJOR for r in later):
        return None
    return made_from.number, source_current.number


def revisions_behind(revision):
    """The source-language revisions made after the one a translation was made from."""
    made_from = revision.translated_from
    if made_from is None:
        return Revision.objects.none()
    return Revision.objects.filter(article=revision.article, lang=made_from.lang, number__gt=made_from.number).order_by(
        "number"
    )


# -- storing ------------------------------------------------------------------------------


def compute_flags(rules: Rules, revisions, today):
    """{revision id: {rule id: (rule, {lang: reason})}} for the given revisions."""
    revisions = list(revisions)
    article_ids = {r.article_id for r in revisions}
    history = {}
    for source in Revision.objects.filter(article_id__in=article_ids).only(
        "id", "article_id", "lang", "number", "significance", "is_current"
    ):
        history.setdefault((source.article_id, source.lang), []).append(source)
    flags = {}
    for revision in revisions:
        source_lang = revision.translated_from.lang if revision.translated_from_id else None
        source_history = history.get((revision.article_id, source_lang), [])
        source_current = next((r for r in source_history if r.is_current), None)
        context = context_for(revision, today, source_current, source_history)
        found = {}
        for rule in rules:
            reasons = evaluate(rule, revision, context)
            if reasons:
                found[rule.id] = (rule, reasons)
        flags[revision.id] = found
    return flags


def refresh_flags(rules: Rules, now):
    """Recompute the flags of every current revision; return (counts by rule, unmatched rule
    ids, whether any stored flag changed)."""
    revisions = (
        Revision.objects.current()
        .visible()
        .select_related("article", "translated_from")
        .prefetch_related("article__tags")
    )
    computed = compute_flags(rules, revisions, now.date())
    changed = store_flags(computed)
    counts = Counter(rule_id for found in computed.values() for rule_id in found)
    unmatched = [rule.id for rule in rules if rule.id not in counts]
    return counts, unmatched, changed


@transaction.atomic
def store_flags(computed):
    existing = {(flag.revision_id, flag.rule_id): flag for flag in Flag.objects.filter(revision_id__in=computed.keys())}
    wanted = {}
    for revision_id, found in computed.items():
        for rule_id, (rule, reasons) in found.items():
            wanted[(revision_id, rule_id)] = Flag(
                revision_id=revision_id,
                rule_id=rule_id,
                code=rule.code,
                severity=rule.severity,
                reasons=reasons,
            )
    stale = [flag.pk for key, flag in existing.items() if key not in wanted or not same_flag(flag, wanted[key])]
    Flag.objects.filter(pk__in=stale).delete()
    kept = set(existing) - {(f.revision_id, f.rule_id) for f in existing.values() if f.pk in stale}
    created = Flag.objects.bulk_create([flag for key, flag in wanted.items() if key not in kept])
    return bool(stale or created)


def same_flag(a, b):
    return (a.code, a.severity, a.reasons) == (b.code, b.severity, b.reasons)


# -- as a kind of content -----------------------------------------------------------------


class StalenessRules(ContentKind):
    """content/staleness.yaml. Flags are recomputed for every current text at each import
    (a rule change applies then); an import without rules of its own (a blog folder) uses
    the project's."""

    name = "rules"
    order = 90  # after every text is written

    def marks_content_root(self, root):
        return (root / "staleness.yaml").is_file()

    def read(self, plan, root, layout):
        if layout == "content" and (root / "staleness.yaml").exists():
            plan.parts[self.name] = load_or_report(plan, root / "staleness.yaml")

    def validate(self, plan):
        if self.name not in plan.parts:
            plan.parts[self.name] = load_or_report(plan, settings.CONTENT_DIR / "staleness.yaml")

    def sync(self, plan: Plan, report: ImportReport):
        from django.utils import timezone

        counts, unmatched, changed = refresh_flags(plan.parts[self.name], timezone.now())
        report.flag_counts = dict(counts)
        if changed:
            report.changed_kinds.add(self.name)
        if counts:
            report.notes.append(
                ("info", "flags on current revisions: " + ", ".join(f"{r} {n}" for r, n in sorted(counts.items())))
            )
        report.notes += [("warning", behind_note(revision)) for revision in translations_behind()]
        report.notes += [("warning", f"rule {rule_id} matches nothing") for rule_id in unmatched]


def load_or_report(plan, path):
    try:
        return load_rules(path)
    except RulesError as exc:
        plan.problems.append(Problem(path, exc.message, exc.line))
        return None


def translations_behind():
    return (
        Revision.objects.current()
        .visible()
        .filter(flags__code=TRANSLATION_BEHIND)
        .select_related("article", "translated_from")
        .order_by("article__slug", "lang")
    )


def behind_note(revision):
    current = revisions_behind(revision).last()
    made_from = revision.translated_from
    return (
        f"translation behind: {revision.source_path} was made from {made_from.lang} r{made_from.number}, "
        f"which is now r{current.number if current else '?'}: "
        f"see /{revision.lang}/articles/{revision.article.slug}/{revision.lang}/translation/"
    )
