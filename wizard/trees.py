"""Troubleshooting trees: load a tree file, validate it, build it into plain data.

A tree is questions (each with exactly one "I don't know" answer), "when did it start?"
steps compared with incident windows, and results. Every statement a visitor reads as advice
(a question's help, a result's cause, each remediation step) names its source: a section of
an article in the knowledge base or an official documentation page. Walking a tree is
``wizard.walking``; storing tree files is ``wizard.tree_import``. Everything here is pure.
"""

import hashlib
import json
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from kb import content_files, languages

NODE_ID = "^[a-z0-9][a-z0-9-]*$"
OS_NAMES = ["linux", "windows"]
MAX_NODES = 1000  # a tree larger than this is no longer something a person walks: split it
# Documentation a source may point at besides the knowledge base's own articles.
OFFICIAL_HOSTS = {"learn.microsoft.com", "docs.microsoft.com", "azure.microsoft.com", "support.microsoft.com"}
TEXT = {"$ref": "#/$defs/text"}
SOURCE = {
    "oneOf": [
        {
            "type": "object",
            "required": ["article"],
            "properties": {"article": {"type": "string"}, "section": TEXT},
            "additionalProperties": False,
        },
        {
            "type": "object",
            "required": ["url"],
            "properties": {"url": {"type": "string", "pattern": "^https://"}},
            "additionalProperties": False,
        },
    ]
}
SOURCED = {"$ref": "#/$defs/sourced"}
STEP = {"$ref": "#/$defs/step"}  # a remediation step: sourced, and optionally for one OS only
HELP = {"$ref": "#/$defs/help"}  # a question's "how to check": sourced, with a part per OS where it differs
ANSWER = {
    "type": "object",
    "required": ["id", "label"],
    "properties": {
        "id": {"type": "string", "pattern": NODE_ID},
        "label": TEXT,
        "next": {"type": "string"},
        "unknown": {"type": "boolean"},
        # "Something else": the symptom is not one the tree knows (the diagnosis says so).
        "other": {"type": "boolean"},
        "os": {"enum": OS_NAMES},  # what choosing this answer tells about the VM's OS
        # Answers of other questions this one gives too (questions that ask the same thing).
        "implies": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}
ARTICLE_LINK = {
    "type": "object",
    "required": ["slug"],
    "properties": {"slug": {"type": "string"}, "section": TEXT, "os": {"enum": OS_NAMES}},
    "additionalProperties": False,
}
NODE = {
    "type": "object",
    "properties": {
        "question": TEXT,
        "when": TEXT,
        "result": TEXT,
        "help": HELP,
        "cause": SOURCED,
        "answers": {"type": "array", "items": ANSWER},
        "remediation": {"type": "array", "items": STEP},
        "articles": {"type": "array", "items": ARTICLE_LINK},
        "rcas": {"type": "array", "items": {"type": "string"}},
        "signatures": {"type": "array", "items": {"type": "string", "minLength": 3}},
        "next": {"type": "string"},
        "incident_next": {"type": "string"},
        # A question that only makes sense for one OS: answered ``otherwise`` for the other.
        "applies_to": {"enum": OS_NAMES},
        "otherwise": {"type": "string"},
        # Asked only by the diagnosis (wizard.diagnosis), never on a path of the tree: its
        # answers lead nowhere and it need not be reachable from the start.
        "diagnosis_only": {"type": "boolean"},
        # The symptoms (answers to the start) a diagnosis-only question belongs with (else all).
        "for_symptoms": {"type": "array", "items": {"type": "string"}},
        # Asks what another question asks: never asked itself; its answers imply that one's.
        "same_as": {"type": "string"},
        "cost": {"type": "number", "exclusiveMinimum": 0},  # of answering it (1: a look at the portal)
    },
    "additionalProperties": False,
    "oneOf": [
        {"required": ["question", "answers"]},
        {"required": ["when", "next", "incident_next", "rcas"]},
        {"required": ["result", "cause", "remediation", "articles"]},
    ],
}
ANSWER_IDS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
CAUSE = {
    "type": "object",
    "required": ["prior", "produces"],
    "properties": {
        "prior": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},  # how common, before any answer
        "cost": {"type": "number", "exclusiveMinimum": 0},  # of checking it (1: a look at the portal)
        "produces": {"type": "array", "items": {"type": "string"}, "minItems": 1},  # symptom answer ids
        "fits": ANSWER_IDS,  # {question id: [answer ids that point to this cause]}
        "rules_out": ANSWER_IDS,  # {question id: [answer ids that cannot be true with this cause]}
    },
    "additionalProperties": False,
}
DIAGNOSIS = {
    "type": "object",
    "required": ["causes"],
    "properties": {
        "not_covered_prior": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        # {question: {answer: how often it is given when the question is not about the cause}}
        "base_rates": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            },
        },
        "causes": {"type": "object", "propertyNames": {"pattern": NODE_ID}, "additionalProperties": CAUSE},
    },
    "additionalProperties": False,
}
RECOGNISED = {
    "type": "object",
    "required": ["findings"],
    "properties": {
        "texts": {"type": "array", "items": {"type": "string", "minLength": 3}},
        "patterns": {"type": "array", "items": {"type": "string", "minLength": 3}},
        "findings": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
    "anyOf": [{"required": ["texts"]}, {"required": ["patterns"]}],
}
TREE_SCHEMA = {
    "type": "object",
    "required": ["title", "start", "nodes"],
    "properties": {
        "title": TEXT,
        "description": TEXT,
        "start": {"type": "string"},
        # Words in a pasted log that tell the OS (waagent: Linux; WindowsAzureGuestAgent: Windows).
        "os_hints": {
            "type": "object",
            "properties": {name: {"type": "array", "items": {"type": "string", "minLength": 3}} for name in OS_NAMES},
            "additionalProperties": False,
        },
        "nodes": {"type": "object", "propertyNames": {"pattern": NODE_ID}, "additionalProperties": NODE},
        # The model of causes and findings (wizard.diagnosis); without it, one is derived from
        # the tree's paths.
        "diagnosis": DIAGNOSIS,
        # Texts a paste may hold, each with the findings it sets (wizard.paste).
        "recognise": {"type": "array", "items": RECOGNISED},
    },
    "additionalProperties": False,
}
UNKNOWN = "unknown"


@dataclass
class Answer:
    id: str
    label: dict
    next: str = ""
    unknown: bool = False
    os: str = ""
    other: bool = False
    implies: dict = field(default_factory=dict)


@dataclass
class Node:
    id: str
    kind: str  # question, when, result
    text: dict
    help: dict | None = None  # {lang: text, "source": …}
    answers: list = field(default_factory=list)
    next: str = ""
    incident_next: str = ""
    cause: dict | None = None
    remediation: list = field(default_factory=list)
    articles: list = field(default_factory=list)
    rcas: list = field(default_factory=list)
    signatures: list = field(default_factory=list)
    applies_to: str = ""
    otherwise: str = ""
    diagnosis_only: bool = False
    for_symptoms: list = field(default_factory=list)
    cost: float = 1.0
    same_as: str = ""

    def answer(self, answer_id):
        return next((a for a in self.answers if a.id == answer_id), None)

    @property
    def known_answers(self):
        return [a for a in self.answers if not a.unknown]

    @property
    def leading_answers(self):
        """The answers a walk of the tree follows ("something else" leads out of it)."""
        return [a for a in self.known_answers if not a.other]

    @property
    def targets(self):
        if self.kind == "question":
            return [a.next for a in self.leading_answers if a.next]
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
    os_hints: dict = field(default_factory=dict)
    diagnosis: dict | None = None  # the model's content as written (wizard.model reads it)
    recognise: list = field(default_factory=list)  # [{texts, patterns, findings}] (wizard.paste)

    @property
    def results(self):
        return [node for node in self.nodes.values() if node.kind == "result"]

    @property
    def questions(self):
        """Question and "when" nodes in the order a walk meets them (breadth first)."""
        return [self.nodes[node_id] for node_id in breadth_first(self) if self.nodes[node_id].kind != "result"]


# -- loading and validating ---------------------------------------------------------------


def read_file(path: Path):
    """A tree file's data (kb.content_files: no aliases, file and line in every problem)."""
    return content_files.read(path).data


def build(slug: str, data: dict) -> Tree:
    nodes = {}
    for node_id, raw in data["nodes"].items():
        kind = next(k for k in ("question", "when", "result") if k in raw)
        nodes[node_id] = Node(
            id=node_id,
            kind=kind,
            text=raw[kind],
            help=raw.get("help"),
            answers=[
                Answer(
                    a["id"],
                    a["label"],
                    a.get("next", ""),
                    a.get("unknown", False),
                    a.get("os", ""),
                    a.get("other", False),
                    a.get("implies", {}),
                )
                for a in raw.get("answers", [])
            ],
            next=raw.get("next", ""),
            incident_next=raw.get("incident_next", ""),
            cause=raw.get("cause"),
            remediation=raw.get("remediation", []),
            articles=raw.get("articles", []),
            rcas=raw.get("rcas", []),
            signatures=raw.get("signatures", []),
            applies_to=raw.get("applies_to", ""),
            otherwise=raw.get("otherwise", ""),
            diagnosis_only=raw.get("diagnosis_only", False),
            for_symptoms=raw.get("for_symptoms", []),
            cost=raw.get("cost", 1.0),
            same_as=raw.get("same_as", ""),
        )
    return Tree(
        slug,
        data["title"],
        data.get("description"),
        data["start"],
        nodes,
        data.get("os_hints", {}),
        data.get("diagnosis"),
        data.get("recognise", []),
    )


def text_schema(extra=None):
    """A text in every content language (and, for a statement, its source)."""
    properties = {code: {"type": "string", "minLength": 1} for code in languages.codes()}
    required = list(languages.codes())
    if extra:
        properties["source"] = {"oneOf": [SOURCE, {"type": "array", "minItems": 1, "items": SOURCE}]}
        required.append("source")
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}


def step_schema():
    """A remediation step: a sourced statement, with ``os`` when it holds for one OS only (its
    commands, paths or services are that OS's): the wizard leaves it out for the other OS."""
    schema = text_schema(extra="source")
    schema["properties"]["os"] = {"enum": OS_NAMES}
    return schema


def help_schema():
    """A question's help: a sourced statement for everyone, and where the check differs by OS,
    a ``windows`` and a ``linux`` part (texts) shown for that OS only once it is known."""
    schema = text_schema(extra="source")
    schema["properties"].update(dict.fromkeys(OS_NAMES, TEXT))
    return schema


def schema_problems(document: content_files.Document):
    defs = {"text": text_schema(), "sourced": text_schema(extra="source"), "step": step_schema(), "help": help_schema()}
    schema = {**TREE_SCHEMA, "$defs": defs}
    return content_files.schema_problems(document, schema, describe_schema_error)


def describe_schema_error(error):
    path = list(error.absolute_path)
    where = f"node {path[1]}: " if len(path) >= 2 and path[0] == "nodes" else ""
    detail = ".".join(str(p) for p in path[2:]) if where else ".".join(map(str, path))
    message = error.message
    if error.validator == "oneOf" and len(path) == 2:
        message = "a node needs question+answers, when+next+incident_next+rcas, or result+cause+remediation+articles"
    elif error.validator == "required" and "'source'" in message:
        message = "every statement needs a source: an article section or an official documentation URL"
    return f"{where}{detail + ': ' if detail else ''}{message}"


def graph_problems(tree: Tree):
    if tree.start not in tree.nodes:
        return [f"start: no node {tree.start!r}"]
    problems = []
    for node in tree.nodes.values():
        problems += node_problems(tree, node)
    reachable = reachable_from(tree, tree.start)
    problems += [
        f"node {n}: not reachable from {tree.start!r}"
        for n, node in tree.nodes.items()
        if n not in reachable and not node.diagnosis_only
    ]
    cycle = find_cycle(tree)
    if cycle:
        problems.append(f"node {cycle[0]}: cycle {' -> '.join(cycle)}")
    from wizard import model  # the diagnosis reads trees: imported here, not at the top

    return problems + finding_problems(tree) + model.check_problems(tree)


def finding_problems(tree: Tree):
    """``implies``, ``same_as`` and ``recognise`` must name questions and answers of the tree."""
    problems = []
    for node in tree.nodes.values():
        start = tree.nodes.get(tree.start)
        problems += [
            f"node {node.id}: for_symptoms: {a!r} is not an answer to {tree.start!r}"
            for a in node.for_symptoms
            if start is None or start.answer(a) is None
        ]
        if node.same_as and not answer_of(tree, node.same_as, None):
            problems.append(f"node {node.id}: same_as: {node.same_as!r} is not a question of this tree")
        for answer in node.answers:
            for question, value in answer.implies.items():
                if not answer_of(tree, question, value):
                    problems.append(
                        f"node {node.id}: answer {answer.id!r}: implies {question}: {value!r}: no such answer"
                    )
    for number, entry in enumerate(tree.recognise, 1):
        for question, value in entry["findings"].items():
            if not (question == "os" and value in OS_NAMES) and not answer_of(tree, question, value):
                problems.append(f"recognise {number}: findings: {question}: {value!r} is not an answer of this tree")
        for pattern in entry.get("patterns", []):
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"recognise {number}: pattern {pattern!r}: {exc}")
    return problems


def answer_of(tree: Tree, question, value):
    """Whether ``question`` is a question of the tree (and ``value`` one of its answers)."""
    node = tree.nodes.get(question)
    if node is None or node.kind != "question":
        return False
    return value is None or (node.answer(value) is not None and not node.answer(value).unknown)


def node_problems(tree: Tree, node: Node):
    problems = [f"node {node.id}: leads to unknown node {t!r}" for t in node.targets if t not in tree.nodes]
    if node.kind == "question":
        ids = [a.id for a in node.answers]
        if len(node.known_answers) < 2:
            problems.append(f'node {node.id}: a question needs at least two answers besides "I don\'t know"')
        if len(set(ids)) != len(ids):
            problems.append(f"node {node.id}: answer ids repeat")
        if sum(a.unknown for a in node.answers) != 1:
            problems.append(f'node {node.id}: needs exactly one answer marked unknown: true ("I don\'t know")')
        if not node.diagnosis_only:
            problems += [f"node {node.id}: answer {a.id!r} needs next" for a in node.leading_answers if not a.next]
        problems += [
            f"node {node.id}: answer {a.id!r}: other and unknown exclude each other"
            for a in node.answers
            if a.other and a.unknown
        ]
        if bool(node.applies_to) != bool(node.otherwise):
            problems.append(f"node {node.id}: applies_to and otherwise go together")
        elif node.otherwise and (node.answer(node.otherwise) is None or node.answer(node.otherwise).unknown):
            problems.append(f"node {node.id}: otherwise: {node.otherwise!r} is not one of its answers")
    if node.kind == "result" and not node.remediation:
        problems.append(f"node {node.id}: a result needs at least one remediation step")
    if node.kind == "result" and not node.articles:
        problems.append(f"node {node.id}: a result needs at least one article link")
    return problems


def sources_of(statement):
    """The sources of a statement ({lang: text, "source": one or a list}) as a list."""
    source = (statement or {}).get("source", [])
    return source if isinstance(source, list) else [source]


def statements(node: Node):
    """(where, statement) of every sourced statement of a node."""
    found = [("help", node.help)] if node.help else []
    if node.cause:
        found.append(("cause", node.cause))
    found += [(f"remediation {number}", step) for number, step in enumerate(node.remediation, 1)]
    return found


def link_problems(tree: Tree, headings):
    """Every article, section and source a tree names must exist, in every content language."""
    problems = []
    for node in tree.nodes.values():
        for link in node.articles:
            problems += article_problems(node.id, "article", link["slug"], link.get("section"), headings)
        for slug in node.rcas:
            if not any((slug, lang) in headings for lang in languages.codes()):
                problems.append(f"node {node.id}: RCA {slug!r} is not an article")
        for where, statement in statements(node):
            for source in sources_of(statement):
                if "article" in source:
                    problems += article_problems(
                        node.id, f"{where}: source", source["article"], source.get("section"), headings
                    )
                elif urlsplit(source["url"]).hostname not in OFFICIAL_HOSTS:
                    host = urlsplit(source["url"]).hostname
                    problems.append(f"node {node.id}: {where}: source {host!r} is not official documentation")
    return problems


def article_problems(node_id, what, slug, section, headings):
    problems = []
    for lang in languages.codes():
        ids = headings.get((slug, lang))
        if ids is None:
            problems.append(f"node {node_id}: {what} {slug!r} has no {lang} text")
        elif section and section[lang] not in ids:
            problems.append(f"node {node_id}: {what} {slug!r} ({lang}) has no section {section[lang]!r}")
    return problems


def breadth_first(tree: Tree):
    seen, order, queue = {tree.start}, [], deque([tree.start])
    while queue:
        node_id = queue.popleft()
        order.append(node_id)
        for target in tree.nodes[node_id].targets:
            if target in tree.nodes and target not in seen:
                seen.add(target)
                queue.append(target)
    return order


def reachable_from(tree: Tree, start):
    return set(breadth_first(tree)) if start == tree.start else set()


def find_cycle(tree: Tree):
    """A cycle as a list of node ids (first repeated at the end), or None. Iterative: a
    tree of a thousand nodes in a chain must not exhaust Python's stack."""
    state = {}
    for root in tree.nodes:
        if root in state:
            continue
        stack = [(root, iter(tree.nodes[root].targets))]
        path = [root]
        state[root] = "open"
        while stack:
            node_id, targets = stack[-1]
            target = next((t for t in targets if t in tree.nodes), None)
            if target is None:
                stack.pop()
                path.pop()
                state[node_id] = "done"
            elif state.get(target) == "open":
                return path[path.index(target) :] + [target]
            elif target not in state:
                state[target] = "open"
                stack.append((target, iter(tree.nodes[target].targets)))
                path.append(target)
    return None


def check(slug, data, headings):
    """All problems of a tree's data; an empty list means it may go live."""
    document = content_files.Document(Path(f"{slug}.yaml"), data)
    return [problem.message for problem in check_document(document, headings)]


def check_document(document: content_files.Document, headings):
    """All problems of a tree file, each with its line."""
    data = document.data
    if not isinstance(data, dict):
        return [document.problem("the file must be a mapping with title, start and nodes")]
    nodes = data.get("nodes")
    if isinstance(nodes, dict) and len(nodes) > MAX_NODES:
        return [document.problem(f"{len(nodes)} nodes: a tree takes at most {MAX_NODES} (split it into several trees)")]
    problems = schema_problems(document)
    if problems:
        return problems
    tree = build(document.path.stem, data)
    return [
        document.problem(message, *at_node(message)) for message in graph_problems(tree) + link_problems(tree, headings)
    ]


def at_node(message):
    """Where a "node <id>: …", "diagnosis: <cause>: …" or "recognise <n>: …" problem is in
    the file: at that node, cause or entry."""
    named = re.match(r"node ([a-z0-9][a-z0-9-]*): ", message)
    if named:
        return ("nodes", named.group(1))
    cause = re.match(r"diagnosis: ([a-z0-9][a-z0-9-]*): ", message)
    if cause:
        return ("diagnosis", "causes", cause.group(1))
    entry = re.match(r"recognise (\d+): ", message)
    return ("recognise", int(entry.group(1)) - 1) if entry else ()


def check_file(path: Path, headings):
    try:
        document = content_files.read(path)
    except content_files.ContentError as exc:
        return exc.problems
    return check_document(document, headings)


def data_hash(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
