"""Content files read one way: YAML parsed safely, validated by schema, every problem named
with its file and line, in a message of bounded length.

The glossary, the staleness rules, the wizard's trees and the front matter of articles all
come through here. What this module decides for all of them:

- **Anchors, aliases and merge keys are refused** (``&name``, ``*name``, ``<<:``), naming the
  file and line of the first one. An alias is how a few hundred bytes become gigabytes once
  the structure is walked (a "billion laughs"); content is reviewed like code, and a value
  written out twice reads better than a reference anyway. The refusal comes from the parser's
  event stream, before any node is built from the alias, so such a file costs no more than
  reading it.
- **Nesting deeper than** ``MAX_DEPTH`` **levels is refused**: no content file needs more than
  a dozen, and PyYAML builds nodes recursively.
- **Dates stay strings**: the code that wants a date reads it and reports an impossible one
  with its line; a stored tree or glossary stays plain JSON.
- **Every message is at most** ``MAX_MESSAGE`` **characters**, and a file reports at most
  ``MAX_PROBLEMS`` schema problems: a value is quoted as an excerpt, never whole.
"""

import reprlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from kb.importer import Problem

MAX_MESSAGE = 300
MAX_PROBLEMS = 50
MAX_DEPTH = 50

_quoting = reprlib.Repr()
_quoting.maxlevel, _quoting.maxstring, _quoting.maxother, _quoting.maxlist, _quoting.maxdict = 2, 120, 120, 4, 4


def excerpt(text: str, limit: int = MAX_MESSAGE) -> str:
    """The text cut to ``limit`` characters, marked with … when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(value) -> str:
    """A value as it may appear in a message: its repr, cut short at every level."""
    return _quoting.repr(value)


class ContentError(Exception):
    """A content file that cannot be used, with every problem found (file, line, message)."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


class NotYaml(ContentError):
    """The text is not YAML at all (as opposed to YAML this module refuses)."""


@dataclass
class Document:
    """A parsed content file: its data and the YAML nodes it was built from (for lines)."""

    path: Path
    data: Any
    root: yaml.Node | None = None
    first_line: int = 1

    def line(self, *keys) -> int | None:
        """The line of the value at ``keys`` (mapping keys and list positions; a mapping's
        value is on the line of its key), or of the deepest value on the way there that
        exists; None for data not read from a file."""
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line
        for key in keys:
            found = child(node, key)
            if found is None:
                break
            line, node = found[0].start_mark.line, found[1]
        return line + self.first_line

    def problem(self, message: str, *keys) -> Problem:
        return Problem(self.path, excerpt(message), self.line(*keys))


def child(node, key):
    """(the node that places it, the value) for one step of a path, or None."""
    if isinstance(node, yaml.MappingNode):
        return next(((name, value) for name, value in node.value if name.value == str(key)), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        return node.value[key], node.value[key]
    return None


class _Refused(Exception):
    def __init__(self, message, mark):
        super().__init__(message)
        self.message, self.mark = message, mark


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors, aliases, merge keys, deep nesting or dates."""

    depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(f"alias *{excerpt(event.anchor, 40)}: aliases are not allowed, write the value out", event)
        if event.anchor is not None:
            raise _Refused(f"anchor &{excerpt(event.anchor, 40)}: anchors are not allowed, write the value out", event)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep", event)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def flatten_mapping(self, node):
        for key, _value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                raise _Refused("merge keys (<<) are not allowed, write the keys out", key)
        super().flatten_mapping(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def parse(text: str, path: Path, first_line: int = 1) -> Document:
    """YAML text (a whole file, or front matter starting on ``first_line``) as a Document,
    or ContentError naming the line of the problem."""
    loader = None
    try:
        loader = _Loader(text)
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except _Refused as exc:
        raise ContentError([Problem(path, exc.message, exc.mark.start_mark.line + first_line)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = excerpt(f"not valid YAML: {exc.problem or exc.context or 'cannot be read'}")
        raise NotYaml([Problem(path, message, mark.line + first_line if mark else None)]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + first_line
        raise NotYaml(
            [Problem(path, f"not valid YAML: character U+{exc.character:04X} is not allowed", line)]
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    return Document(path, data, root, first_line)


def read(path: Path) -> Document:
    """A YAML file as a Document, or ContentError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ContentError([Problem(path, f"cannot read: {exc.strerror or exc}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ContentError([Problem(path, f"not UTF-8 (invalid byte at offset {exc.start})", line)]) from None
    return parse(text, path)


def where(error: jsonschema.ValidationError) -> str:
    """A schema error as ``dotted.path: message`` (kinds name their own parts better)."""
    path = ".".join(map(str, error.absolute_path))
    return f"{path}: {error.message}" if path else error.message


def schema_problems(document: Document, schema: dict, describe=where) -> list[Problem]:
    """Every way the document's data breaks the schema, at its line, in the order of the file
    (at most MAX_PROBLEMS of them); ``describe`` words one jsonschema error."""
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document.data))
    problems = [document.problem(describe(error), *error.absolute_path) for error in errors]
    problems.sort(key=lambda problem: problem.line or 0)
    if len(problems) > MAX_PROBLEMS:
        left = len(problems) - MAX_PROBLEMS
        problems = problems[:MAX_PROBLEMS] + [document.problem(f"… and {left} more problems of the schema")]
    return problems


def load(path: Path, schema: dict, describe=where) -> Document:
    """A YAML file read and validated, or ContentError with every problem."""
    document = read(path)
    problems = schema_problems(document, schema, describe)
    if problems:
        raise ContentError(problems)
    return document
