"""Staleness rules (data in content/staleness.yaml) and the flags they raise: pure functions,
no database. Storing the flags, and the rules as a kind of content, is ``kb.staleness_flags``.

Loading validates the file with a JSON Schema (through ``kb.content_files``: no aliases, file
and line in every message) and checks every rule against its own examples, so a typo in a
pattern is caught before it silently matches nothing. Patterns are compiled by RE2, which
never backtracks: a search takes time linear in the text whatever the pattern, and a pattern
RE2 cannot run (a backreference, lookaround) is refused at import with its line.

Evaluating rules is a function of the rules, the ``Facts`` about one text (its words, kind,
tags, dates, translation) and the day:

- ``flags(rules, facts, today)``: every flag a text carries on ``today`` (what the import stores);
- ``age_and_review_flags(rules, facts, today)``: only the flags that time alone raises (age, a
  review past due). Nothing else about a text changes between imports, so a daily job that
  calls this with the new day keeps those flags right without an import.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import re2

from kb import content_files, languages
from kb.content_files import ContentError, quote
from kb.models import Flag
from kb.sources import DURATION, DURATION_DAYS

URL = re.compile(r"https?://[^\s)\]>\"'<]+", re.IGNORECASE)  # fixed and linear: Python's re is enough
TRANSLATION_BEHIND = Flag.TRANSLATION_BEHIND
TIME_RULES = {"age", "review"}


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
            "required": ["match"],  # a pattern no example shows matching is a pattern nobody checked
            "properties": {
                "match": {"type": "array", "items": {"type": "string"}, "minItems": 1},
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


@dataclass
class Rule:
    id: str
    type: str
    severity: str
    message: dict
    code: str = ""
    tags: list = field(default_factory=list)
    pattern: object = None  # an RE2 pattern for a text rule
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


@dataclass(frozen=True)
class Facts:
    """What the rules look at about one text."""

    title: str
    body: str
    lang: str
    kind: str
    tags: tuple = ()
    published_at: dt.datetime | None = None  # a translation's is its source's
    review_due: dt.date | None = None
    source_lang: str = ""  # the language a translation was made from
    behind: tuple | None = None  # (made-from number, current number) for a translation behind


# -- loading ------------------------------------------------------------------------------


def load_rules(path: Path) -> Rules:
    """The rules of a file, or ContentError naming the file and line of every problem."""
    document = content_files.read(path)
    problems = content_files.schema_problems(document, rules_schema(), partial(describe_schema_error, document.data))
    if problems:
        raise ContentError(problems)
    rules, seen = [], set()
    for index, raw in enumerate(document.data["rules"]):
        try:
            rules.append(build_rule(raw))
        except RuleProblem as exc:
            problems.append(document.problem(f"rule {raw['id']}: {exc.message}", "rules", index, *exc.at))
        if raw["id"] in seen:
            problems.append(document.problem(f"rule {raw['id']}: id used more than once", "rules", index, "id"))
        seen.add(raw["id"])
    if problems:
        raise ContentError(problems)
    return Rules(rules)


def describe_schema_error(data, error):
    path = list(error.absolute_path)
    if len(path) < 2 or path[0] != "rules" or not isinstance(path[1], int):
        return error.message
    rule = data["rules"][path[1]]
    rule_id = rule.get("id") if isinstance(rule, dict) else None
    field_path = ".".join(str(p) for p in path[2:])
    where = f"rule {rule_id if isinstance(rule_id, str) else f'#{path[1] + 1}'}"
    return where + (f", {field_path}" if field_path else "") + ": " + error.message


class RuleProblem(Exception):
    """A rule the schema accepts but that cannot work; ``at`` is the field at fault."""

    def __init__(self, message, *at):
        super().__init__(message)
        self.message, self.at = message, at


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
        rule.pattern = compile_pattern(raw["pattern"])
    if "older_than" in raw:
        match = DURATION.match(raw["older_than"])
        rule.older_than_days = int(match.group(1)) * DURATION_DAYS[match.group(2)]
    check_examples(rule)
    return rule


def compile_pattern(pattern: str):
    options = re2.Options()
    options.log_errors = False  # the refusal is reported with the file and line instead
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise RuleProblem(
            f"pattern does not compile: {reason} (patterns run on RE2: no backreferences, no lookaround)", "pattern"
        ) from None


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
    for position, example in enumerate(rule.examples.get("match", [])):
        if not text_matches(rule, example):
            raise RuleProblem(f"example {quote(example)} should match but does not", "examples", "match", position)
    for position, example in enumerate(rule.examples.get("no_match", [])):
        if text_matches(rule, example):
            raise RuleProblem(f"example {quote(example)} should not match but does", "examples", "no_match", position)


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


def flags(rules: Rules, facts: Facts, today: dt.date) -> dict:
    """{rule id: (rule, {lang: reason})} for every rule that flags the text on ``today``."""
    found = {}
    for rule in rules:
        reasons = evaluate(rule, facts, today)
        if reasons:
            found[rule.id] = (rule, reasons)
    return found


def age_and_review_flags(rules: Rules, facts: Facts, today: dt.date) -> dict:
    """Like ``flags``, for the time-based rules only (age, review due): what may change from
    one day to the next without any import."""
    return flags(Rules([rule for rule in rules if rule.type in TIME_RULES]), facts, today)


def evaluate(rule: Rule, facts: Facts, today: dt.date):
    """The reason in every content language ({lang: text}) when the rule flags the text,
    else None."""
    values = match_values(rule, facts, today)
    if values is None:
        return None
    return {lang: rule.reason(lang, **localised(values, lang)) for lang in languages.codes()}


def localised(values, lang):
    """Values that name a language, named in the language of the message."""
    return {key: languages.name(value, lang) if key in LANGUAGE_VALUES else value for key, value in values.items()}


LANGUAGE_VALUES = {"lang", "source_lang"}


def match_values(rule: Rule, facts: Facts, today: dt.date):
    if rule.type == "tag":
        return {} if {t.lower() for t in facts.tags} & set(rule.tags) else None
    if rule.type in ("text", "url"):
        found = text_matches(rule, facts.title + "\n" + facts.body)
        return {"match": found, "host": found} if found else None
    if rule.type == "age":
        if facts.kind not in rule.kinds or facts.published_at is None:
            return None
        published = facts.published_at.date()
        if (today - published).days <= rule.older_than_days:
            return None
        return {"date": published.isoformat(), "years": whole_years(published, today)}
    if rule.type == "translation" and facts.behind:
        return {
            "source_number": facts.behind[0],
            "current_number": facts.behind[1],
            "lang": facts.lang,
            "source_lang": facts.source_lang,
        }
    if rule.type == "review" and facts.review_due and facts.review_due < today:
        return {"due": facts.review_due.isoformat()}
    return None


def whole_years(start: dt.date, end: dt.date) -> int:
    """Completed years from start to end, as a person counts them (not days // 365)."""
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def review_due(reviewed_on: dt.date | None, every_days: int | None) -> dt.date | None:
    """The day a review falls due, or None when the text names no review."""
    if not reviewed_on or not every_days:
        return None
    return reviewed_on + dt.timedelta(days=every_days)
