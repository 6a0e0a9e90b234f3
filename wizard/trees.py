"""Troubleshooting trees: load a tree file, validate it, walk a path of answers to a node.

Everything here is pure: a tree is plain data, a walk is a function of the tree, the answers
and the known incident windows. Views resolve, call and render; ``wizard.tree_import``
stores tree files.
"""

import datetime as dt
import hashlib
import json
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml

from kb import languages

NODE_ID = "^[a-z0-9][a-z0-9-]*$"
TEXT = {"$ref": "#/$defs/text"}
ANSWER = {
    "type": "object",
    "required": ["id", "label", "next"],
    "properties": {
        "id": {"type": "string", "pattern": NODE_ID},
        "label": TEXT,
        "next": {"type": "string"},
        "unknown": {"type": "boolean"},
    },
    "additionalProperties": False,
}
ARTICLE_LINK = {
    "type": "object",
    "required": ["slug"],
    "properties": {"slug": {"type": "string"}, "section": TEXT},
    "additionalProperties": False,
}
SIGNATURES = {"type": "array", "items": {"type": "string", "minLength": 3}}
NODE = {
    "type": "object",
    "properties": {
        "question": TEXT,
        "when": TEXT,
        "result": TEXT,
        "help": TEXT,
        "cause": TEXT,
        "answers": {"type": "array", "items": ANSWER},
        "remediation": {"type": "array", "items": TEXT},
        "articles": {"type": "array", "items": ARTICLE_LINK},
        "rcas": {"type": "array", "items": {"type": "string"}},
        "signatures": SIGNATURES,
        "next": {"type": "string"},
        "incident_next": {"type": "string"},
    },
    "additionalProperties": False,
    "oneOf": [
        {"required": ["question", "answers"]},
        {"required": ["when", "next", "incident_next", "rcas"]},
        {"required": ["result", "cause", "remediation", "articles"]},
    ],
}
TREE_SCHEMA = {
    "type": "object",
    "required": ["title", "start", "nodes"],
    "properties": {
        "title": TEXT,
        "description": TEXT,
        "start": {"type": "string"},
        "nodes": {"type": "object", "propertyNames": {"pattern": NODE_ID}, "additionalProperties": NODE},
    },
    "additionalProperties": False,
}
UNKNOWN = "unknown"
MAX_ANSWERS = 40
MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$")


class TreeError(Exception):
    pass


@dataclass
class Answer:
    id: str
    label: dict
    next: str
    unknown: bool = False


@dataclass
class Node:
    id: str
    kind: str  # question, when, result
    text: dict
    help: dict | None = None
    answers: list = field(default_factory=list)
    next: str = ""
    incident_next: str = ""
    cause: dict | None = None
    remediation: list = field(default_factory=list)
    articles: list = field(default_factory=list)
    rcas: list = field(default_factory=list)
    signatures: list = field(default_factory=list)

    def answer(self, answer_id):
        return next((a for a in self.answers if a.id == answer_id), None)

    @property
    def targets(self):
        if self.kind == "question":
            return [a.next for a in self.answers]
        if self.kind == "when":
            return [self.next, self.incident_next]
        return []


@dataclass
class Tree:
    slug: str
    title: dict
    description: dict | None
    start: str
    nodes: dict

    @property
    def results(self):
        return [node for node in self.nodes.values() if node.kind == "result"]


# -- loading and validating ---------------------------------------------------------------


def read_file(path: Path):
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise TreeError(f"cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark else ""
        raise TreeError(f"{line}not valid YAML: {getattr(exc, 'problem', exc)}") from exc


def build(slug: str, data: dict) -> Tree:
    nodes = {}
    for node_id, raw in data["nodes"].items():
        kind = next(k for k in ("question", "when", "result") if k in raw)
        nodes[node_id] = Node(
            id=node_id,
            kind=kind,
            text=raw[kind],
            help=raw.get("help"),
            answers=[Answer(a["id"], a["label"], a["next"], a.get("unknown", False)) for a in raw.get("answers", [])],
            next=raw.get("next", ""),
            incident_next=raw.get("incident_next", ""),
            cause=raw.get("cause"),
            remediation=raw.get("remediation", []),
            articles=raw.get("articles", []),
            rcas=raw.get("rcas", []),
            signatures=raw.get("signatures", []),
        )
    return Tree(slug, data["title"], data.get("description"), data["start"], nodes)


def text_schema():
    """A text in every content language."""
    return {
        "type": "object",
        "required": list(languages.codes()),
        "properties": {code: {"type": "string", "minLength": 1} for code in languages.codes()},
        "additionalProperties": False,
    }


def schema_problems(data):
    validator = jsonschema.Draft202012Validator({**TREE_SCHEMA, "$defs": {"text": text_schema()}})
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        where = f"node {path[1]}: " if len(path) >= 2 and path[0] == "nodes" else ""
        detail = ".".join(str(p) for p in path[2:]) if where else ".".join(map(str, path))
        message = error.message
        if error.validator == "oneOf":
            message = (
                "a node needs question+answers, when+next+incident_next+rcas, or result+cause+remediation+articles"
            )
        problems.append(f"{where}{detail + ': ' if detail else ''}{message}")
    return problems


def graph_problems(tree: Tree):
    problems = []
    if tree.start not in tree.nodes:
        return [f"start: no node {tree.start!r}"]
    for node in tree.nodes.values():
        problems += node_problems(tree, node)
    reachable = reachable_from(tree, tree.start)
    problems += [f"node {n}: not reachable from {tree.start!r}" for n in tree.nodes if n not in reachable]
    cycle = find_cycle(tree)
    if cycle:
        problems.append(f"node {cycle[0]}: cycle {' -> '.join(cycle)}")
    return problems


def node_problems(tree: Tree, node: Node):
    problems = [f"node {node.id}: leads to unknown node {t!r}" for t in node.targets if t not in tree.nodes]
    if node.kind == "question":
        ids = [a.id for a in node.answers]
        if len(ids) < 2:
            problems.append(f"node {node.id}: a question needs at least two answers")
        if len(set(ids)) != len(ids):
            problems.append(f"node {node.id}: answer ids repeat")
        if sum(a.unknown for a in node.answers) != 1:
            problems.append(f'node {node.id}: needs exactly one answer marked unknown: true ("I don\'t know")')
    if node.kind == "result" and not node.remediation:
        problems.append(f"node {node.id}: a result needs at least one remediation step")
    if node.kind == "result" and not node.articles:
        problems.append(f"node {node.id}: a result needs at least one article link")
    return problems


def link_problems(tree: Tree, headings):
    """Every article and section a tree names must exist, in every content language."""
    problems = []
    for node in tree.nodes.values():
        for link in node.articles:
            for lang in languages.codes():
                ids = headings.get((link["slug"], lang))
                if ids is None:
                    problems.append(f"node {node.id}: article {link['slug']!r} has no {lang} text")
                elif "section" in link and link["section"][lang] not in ids:
                    problems.append(
                        f"node {node.id}: article {link['slug']!r} ({lang}) has no section {link['section'][lang]!r}"
                    )
        for slug in node.rcas:
            if not any((slug, lang) in headings for lang in languages.codes()):
                problems.append(f"node {node.id}: RCA {slug!r} is not an article")
    return problems


def reachable_from(tree: Tree, start):
    seen, queue = {start}, deque([start])
    while queue:
        for target in tree.nodes[queue.popleft()].targets:
            if target in tree.nodes and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def find_cycle(tree: Tree):
    state, stack = {}, []

    def visit(node_id):
        state[node_id] = "open"
        stack.append(node_id)
        for target in tree.nodes[node_id].targets:
            if target not in tree.nodes:
                continue
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node_id] = "done"
        return None

    for node_id in tree.nodes:
        if node_id not in state and (found := visit(node_id)):
            return found
    return None


def check(slug, data, headings):
    """All problems of a tree's data; an empty list means it may go live."""
    if not isinstance(data, dict):
        return ["the file must be a mapping with title, start and nodes"]
    problems = schema_problems(data)
    if problems:
        return problems
    tree = build(slug, data)
    return graph_problems(tree) + link_problems(tree, headings)


def check_file(path: Path, headings):
    try:
        data = read_file(path)
    except TreeError as exc:
        return [str(exc)]
    return check(Path(path).stem, data, headings)


def data_hash(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# -- walking ------------------------------------------------------------------------------


@dataclass
class Step:
    node: Node
    answer: Answer | None
    value: str  # the answer id, or a moment for a "when" question
    incident: str = ""  # the RCA whose window the moment fell in


@dataclass
class Walk:
    steps: list
    node: Node  # where the walk stands: the next question, or the result
    problem: str = ""  # why the walk stopped before using every answer

    @property
    def answers(self):
        return [step.value for step in self.steps]

    @property
    def finished(self):
        return self.node.kind == "result" and not self.problem


def parse_answers(raw: str):
    if not raw:
        return []
    return raw.split(",")


def walk(tree: Tree, answers, incidents=None) -> Walk:
    """Follow answers from the start. ``incidents`` maps an RCA slug to its (start, end)."""
    incidents = incidents or {}
    node, steps = tree.nodes[tree.start], []
    if len(answers) > MAX_ANSWERS:
        return Walk([], node, f"too many answers ({len(answers)})")
    for value in answers:
        if node.kind == "result":
            return Walk(steps, node, "more answers than questions on this path")
        step = take(node, value, incidents)
        if step is None:
            return Walk(steps, node, f"{value[:40]!r} is not an answer to this question")
        steps.append(step)
        node = tree.nodes[step.answer.next if step.answer else chosen_next(node, step)]
    return Walk(steps, node)


def take(node: Node, value: str, incidents):
    if node.kind == "question":
        answer = node.answer(value)
        return Step(node, answer, value) if answer else None
    if value == UNKNOWN:
        return Step(node, None, value)
    moment = parse_moment(value)
    if moment is None:
        return None
    incident = next(
        (slug for slug in node.rcas if slug in incidents and incidents[slug][0] <= moment <= incidents[slug][1]),
        "",
    )
    return Step(node, None, value, incident)


def chosen_next(node: Node, step: Step):
    return node.incident_next if step.incident else node.next


def parse_moment(value: str):
    if not MOMENT.match(value):
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%MZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def format_moment(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


def path_to(tree: Tree, target: str, incidents=None):
    """The shortest list of answers that reaches ``target``; a "when" question is answered
    with the start of its first known incident to reach the incident branch."""
    incidents = incidents or {}
    previous = {tree.start: None}
    queue = deque([tree.start])
    while queue:
        node_id = queue.popleft()
        if node_id == target:
            break
        node = tree.nodes[node_id]
        edges = [(a.id, a.next) for a in node.answers] if node.kind == "question" else []
        if node.kind == "when":
            edges = [(UNKNOWN, node.next)] + [
                (format_moment(incidents[slug][0]), node.incident_next) for slug in node.rcas[:1] if slug in incidents
            ]
        for value, nxt in edges:
            if nxt not in previous:
                previous[nxt] = (node_id, value)
                queue.append(nxt)
    if target not in previous:
        return None
    answers, cursor = [], target
    while previous[cursor]:
        cursor, value = previous[cursor]
        answers.append(value)
    return answers[::-1]


def match_signature(tree: Tree, text: str):
    """The node whose signature occurs in a pasted error message; the longest wins."""
    haystack = text[:200_000].casefold()
    found = [
        (len(signature), node.id, signature)
        for node in tree.nodes.values()
        for signature in node.signatures
        if signature.casefold() in haystack
    ]
    if not found:
        return None
    _length, node_id, signature = max(found)
    return node_id, signature
