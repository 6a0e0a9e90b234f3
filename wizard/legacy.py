"""Links made before answers were keyed by question: ``a=updating,nsg-restricts`` is the list
of answers in the order asked, on the tree revision the link names (``r=``). Such a link
still shows what it showed then, walked the way the wizard walked then ("I don't know"
followed that answer's own ``next``), with a notice when the tree has changed since."""

from dataclasses import dataclass

from wizard import moments
from wizard.trees import UNKNOWN, Node, Tree

MAX_ANSWERS = 40


def is_positional(raw: str) -> bool:
    """A link of the old kind: answers without the question they answer."""
    return bool(raw) and "." not in raw.split(",")[0]


@dataclass
class Walk:
    steps: list  # (node, value, incident slug or "")
    node: Node  # where the walk stands
    problem: str = ""

    @property
    def answers(self):
        return [value for _node, value, _incident in self.steps]

    @property
    def finished(self):
        return self.node.kind == "result" and not self.problem


def walk(tree: Tree, values, incidents=None) -> Walk:
    incidents = incidents or {}
    node, steps = tree.nodes[tree.start], []
    if len(values) > MAX_ANSWERS:
        return Walk([], node, f"too many answers ({len(values)})")
    for value in values:
        if node.kind == "result":
            return Walk(steps, node, "more answers than questions on this path")
        taken = take(node, value, incidents)
        if taken is None:
            return Walk(steps, node, f"{value[:40]!r} is not an answer to this question")
        target, incident = taken
        if target not in tree.nodes:
            return Walk(steps, node, f"{value[:40]!r} leads nowhere in this tree")
        steps.append((node, value, incident))
        node = tree.nodes[target]
    return Walk(steps, node)


def take(node: Node, value: str, incidents):
    """(next node id, incident slug) for one answer, or None when it is not an answer."""
    if node.kind == "question":
        answer = node.answer(value)
        return (answer.next, "") if answer and answer.next else None
    if value == UNKNOWN:
        return node.next, ""
    moment = moments.parse(value)
    if moment is None:
        return None
    inside = next(
        (slug for slug in node.rcas if slug in incidents and moments.overlap(moment, incidents[slug]) == "inside"), ""
    )
    return (node.incident_next if inside else node.next), inside
