"""A pasted error message or log: which known error texts it holds, where, and what each lets
the wizard assume (the answers that lead to the step the text belongs to), and what it says
of the VM's OS. Pure; the page shows all of it before anything is assumed."""

import re
from collections import deque
from dataclasses import dataclass

from wizard import walking
from wizard.trees import Tree

SCAN_LIMIT = 200_000  # characters of a paste that are looked at
EXCERPT_AROUND = 120  # characters shown on each side of what was recognised


@dataclass
class Recognised:
    node_id: str
    signature: str
    start: int
    end: int
    answers: walking.Answers  # what recognising it assumes


def recognise(tree: Tree, text: str, incidents=None) -> list:
    """Every step whose error text the paste holds (its longest one), in order of appearance;
    a step the wizard cannot reach from the start is left out."""
    haystack = text[:SCAN_LIMIT].casefold()
    found = {}
    for node in tree.nodes.values():
        for signature in node.signatures:
            start = haystack.find(signature.casefold())
            if start >= 0 and (node.id not in found or len(signature) > len(found[node.id].signature)):
                answers = path_answers(tree, node.id)
                if answers is not None:
                    found[node.id] = Recognised(node.id, signature, start, start + len(signature), answers)
    return sorted(found.values(), key=lambda r: (r.start, r.node_id))


def os_hint(tree: Tree, text: str) -> tuple:
    """(OS, the word that says so) when the paste names only one OS's tell-tale words."""
    haystack = text[:SCAN_LIMIT].casefold()
    found = {
        os: next((hint for hint in hints if hint.casefold() in haystack), "") for os, hints in tree.os_hints.items()
    }
    named = [(os, hint) for os, hint in found.items() if hint]
    return named[0] if len(named) == 1 else ("", "")


def path_answers(tree: Tree, target: str):
    """The answers that lead from the start to ``target`` by the fewest questions, or None.
    A "when" step on the way is left open (nothing in a paste says when)."""
    previous = {tree.start: None}
    queue = deque([tree.start])
    while queue:
        node_id = queue.popleft()
        if node_id == target:
            break
        node = tree.nodes[node_id]
        ways = [(a.id, a.next) for a in node.leading_answers] if node.kind == "question" else []
        if node.kind == "when":
            ways = [(None, node.next), (None, node.incident_next)]
        for value, target_id in ways:
            if target_id not in previous:
                previous[target_id] = (node_id, value)
                queue.append(target_id)
    if target not in previous:
        return None
    values, cursor = [], target
    while previous[cursor]:
        cursor, value = previous[cursor]
        if value is not None:
            values.append((cursor, value))
    return walking.Answers(dict(reversed(values)))


def excerpt(text: str, recognised: Recognised):
    """(before, the recognised text, after) around the first thing recognised, trimmed."""
    start, end = recognised.start, recognised.end
    before = text[max(0, start - EXCERPT_AROUND) : start]
    after = text[end : end + EXCERPT_AROUND]
    return (
        ("…" if start > EXCERPT_AROUND else "") + before,
        text[start:end],
        after + ("…" if end + EXCERPT_AROUND < len(text) else ""),
    )


# -- findings (the tree's ``recognise`` section) ----------------------------------------------


@dataclass
class Found:
    """A recognised text: where it is in the paste, and the findings it sets."""

    text: str  # as it appears in the paste
    start: int
    end: int
    findings: dict  # {question id or "os": answer id}


def squeezed(text: str):
    """The text casefolded without whitespace, and for each of its characters the position
    in the original (so a match found without spaces is highlighted where it is)."""
    kept, where = [], []
    for position, char in enumerate(text):
        if not char.isspace():
            kept.append(char.casefold())
            where.append(position)
    return "".join(kept), where


def recognised_texts(tree: Tree, text: str) -> list:
    """Every entry of the tree's ``recognise`` section the paste holds, in order of appearance.
    Texts match ignoring case and spaces, patterns as written; the longest texts are looked
    for first, and a shorter one is not found inside a longer one already found."""
    text = text[:SCAN_LIMIT]
    haystack, where = squeezed(text)
    wanted = []
    for number, entry in enumerate(tree.recognise or from_signatures(tree)):
        wanted += [(squeezed(t)[0], number, entry) for t in entry.get("texts", [])]
    taken, found = [], {}
    for needle, number, entry in sorted(wanted, key=lambda w: -len(w[0])):
        if number in found or not needle:
            continue
        at = haystack.find(needle)
        while at >= 0 and any(lo <= at < hi or lo < at + len(needle) <= hi for lo, hi in taken):
            at = haystack.find(needle, at + 1)
        if at >= 0:
            taken.append((at, at + len(needle)))
            start, end = where[at], where[at + len(needle) - 1] + 1
            found[number] = Found(text[start:end], start, end, dict(entry["findings"]))
    for number, entry in enumerate(tree.recognise):
        for pattern in entry.get("patterns", []):
            match = re.search(pattern, text)
            if match and number not in found:
                found[number] = Found(match.group(0), *match.span(), dict(entry["findings"]))
    return sorted(found.values(), key=lambda f: f.start)


def from_signatures(tree: Tree) -> list:
    """A tree without a ``recognise`` section: each step's error texts (``signatures``) set the
    answers that lead to that step."""
    entries = []
    for node in tree.nodes.values():
        answers = path_answers(tree, node.id) if node.signatures else None
        if answers is not None and answers.values:
            entries.append({"texts": node.signatures, "findings": dict(answers.values)})
    return entries


def findings_of(tree: Tree, found: list) -> dict:
    """{question: answer} the recognised texts set together; where two set the same question
    differently, the longer (more specific) text wins."""
    chosen: dict = {}
    for item in sorted(found, key=lambda f: f.end - f.start):
        chosen.update(item.findings)
    return chosen


def recognised_excerpt(text: str, found: list, limit: int) -> str:
    """The lines of the paste that hold what was recognised, for the ticket (at most
    ``limit`` characters; the first recognised line is never cut from its start)."""
    lines = []
    for item in found:
        start = text.rfind("\n", 0, item.start) + 1
        end = text.find("\n", item.end)
        line = " ".join(text[start : end if end >= 0 else len(text)].split())
        if line not in lines:
            lines.append(line)
    joined = "\n".join(lines)
    return joined if len(joined) <= limit else joined[: limit - 1] + "…"
