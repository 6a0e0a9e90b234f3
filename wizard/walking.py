"""Walking a tree: from the answers given so far to the next question, a result, or the
candidates still possible. Pure functions of the tree, the answers and the incident windows.

"I don't know" is honest: every branch of that question stays open, and every result still
reachable is a candidate. The wizard then asks only questions that can still tell the
candidates apart (skipping the rest), in the order a walk meets them, and ends on one result
when only one remains, else on the candidates. A known answer that leads straight to a
result decides the walk (as it always did); results it did not rule out stay candidates.

Answers are keyed by question (``node.value``), so they can be given in any order: by a
walk, by a paste, or all at once by a support agent. The pseudo-question ``os`` holds what
is known of the VM's OS when no question of the tree asked it (a paste that names waagent).
"""

from dataclasses import dataclass, field

from wizard import moments
from wizard.trees import UNKNOWN, Node, Tree, breadth_first

MAX_ANSWERS = 40
OS = "os"  # the pseudo-question
OS_VALUES = ("linux", "windows")


@dataclass(frozen=True)
class Condition:
    """One step of a path to a result: the question, the answer that leads on, and how that
    answer is known: "known" (given), "implied" (by the OS), "unknown" (the customer does not
    know), "pending" (not asked yet), "possible" (a time that may fall in an incident window)."""

    node: str
    answer: str  # an answer id, or "incident" / "other" for a "when" step
    status: str

    @property
    def settled(self):
        return self.status in ("known", "implied")


@dataclass
class Candidate:
    result: Node
    conditions: tuple  # of Condition, from the start

    @property
    def support(self):
        return sum(1 for c in self.conditions if c.settled)

    @property
    def open_questions(self):
        return [c for c in self.conditions if not c.settled]

    @property
    def decided(self):
        """Reached by a given answer that leads straight here: the customer found a cause.
        (What earlier "I don't know" answers left open stays a candidate beside it.)"""
        return bool(self.conditions) and self.conditions[-1].status == "known"


@dataclass
class Answers:
    """The answers given, keyed by question, in the order given."""

    values: dict = field(default_factory=dict)
    problem: str = ""  # why some were dropped (a tampered or outdated link)

    def encode(self) -> str:
        return ",".join(f"{node}.{value}" for node, value in self.values.items())

    def with_answer(self, node, value) -> "Answers":
        """These answers with ``node`` answered ``value`` (in its place if it was answered)."""
        return Answers({**self.values, node: value})

    def before(self, node) -> "Answers":
        """The answers given before ``node``'s: what "change this answer" goes back to."""
        kept = {}
        for key, value in self.values.items():
            if key == node:
                break
            kept[key] = value
        return Answers(kept)

    @property
    def os(self):
        return self.values.get(OS, "")


def parse_answers(tree: Tree, raw: str) -> Answers:
    """Answers from a link; anything that is not an answer to a question of this tree is
    dropped and named in ``problem``."""
    answers, dropped = {}, []
    items = [item for item in (raw or "").split(",") if item]
    if len(items) > MAX_ANSWERS:
        return Answers({}, f"too many answers ({len(items)})")
    for item in items:
        node_id, _dot, value = item.partition(".")
        if valid_answer(tree, node_id, value):
            answers[node_id] = value
        else:
            dropped.append(item[:40])
    problem = f"not answers to this tree's questions: {', '.join(repr(d) for d in dropped)}" if dropped else ""
    return Answers(answers, problem)


def valid_answer(tree, node_id, value):
    if node_id == OS:
        return value in OS_VALUES
    node = tree.nodes.get(node_id)
    if node is None or node.kind == "result":
        return False
    if node.kind == "question":
        return node.answer(value) is not None
    return value == UNKNOWN or moments.parse(value) is not None


def os_of(tree: Tree, answers: Answers) -> str:
    """What the answers tell of the VM's OS: an answer that names it, or the pseudo-question."""
    for node_id, value in answers.values.items():
        node = tree.nodes.get(node_id)
        answer = node.answer(value) if node is not None and node.kind == "question" else None
        if answer is not None and answer.os:
            return answer.os
    return answers.os


# -- exploring -----------------------------------------------------------------------------


@dataclass
class Exploration:
    candidates: list  # Candidate, in the order the tree meets them
    frontier: list  # question nodes that can be asked now, in the order a walk meets them


def edges(tree: Tree, node: Node, answers: Answers, incidents, os):
    """(next node, Condition) of the ways on from ``node`` under the answers."""
    value = answers.values.get(node.id)
    if node.diagnosis_only:  # on no path of the tree
        return []
    if node.kind == "question":
        if value is None and node.applies_to and os and os != node.applies_to:
            return [(node.answer(node.otherwise).next, Condition(node.id, node.otherwise, "implied"))]
        if value is not None and value != UNKNOWN:
            answer = node.answer(value)
            return [] if answer.other else [(answer.next, Condition(node.id, value, "known"))]
        status = "unknown" if value == UNKNOWN else "pending"
        return [(answer.next, Condition(node.id, answer.id, status)) for answer in node.leading_answers]
    if node.kind == "when":
        moment = moments.parse(value) if value and value != UNKNOWN else None
        if moment is None:
            status = "unknown" if value == UNKNOWN else "pending"
            return [
                (node.incident_next, Condition(node.id, "incident", status)),
                (node.next, Condition(node.id, "other", status)),
            ]
        found = {moments.overlap(moment, incidents[slug]) for slug in node.rcas if slug in incidents}
        if "inside" in found:
            return [(node.incident_next, Condition(node.id, "incident", "known"))]
        if "overlaps" in found:
            return [
                (node.incident_next, Condition(node.id, "incident", "possible")),
                (node.next, Condition(node.id, "other", "possible")),
            ]
        return [(node.next, Condition(node.id, "other", "known"))]
    return []


def explore(tree: Tree, answers: Answers, incidents=None) -> Exploration:
    """Every result still possible with its best path (most settled answers, then fewest open
    questions), and the questions that can be asked now. (Bottom up, in one pass: a tree of
    a thousand nodes in a chain needs no recursion.)"""
    incidents = incidents or {}
    os = os_of(tree, answers)
    best = {}
    for node_id in reversed(topological_order(tree)):  # every node after those it leads to
        node = tree.nodes[node_id]
        found = {node_id: ()} if node.kind == "result" else {}
        for target, condition in edges(tree, node, answers, incidents, os):
            for result, conditions in best[target].items():
                path = (condition, *conditions)
                if result not in found or rank(path) > rank(found[result]):
                    found[result] = path
        best[node_id] = found
    order = {node_id: number for number, node_id in enumerate(tree_order(tree))}
    candidates = sorted(
        (Candidate(tree.nodes[result], path) for result, path in best[tree.start].items()),
        key=lambda c: order[c.result.id],
    )
    return Exploration(candidates, frontier(tree, answers, incidents, os, order))


def rank(path):
    settled = sum(1 for c in path if c.settled)
    return settled, -sum(1 for c in path if not c.settled)


def tree_order(tree: Tree):
    return breadth_first(tree)


def topological_order(tree: Tree):
    """Nodes before the nodes they lead to (the tree is validated to have no cycle)."""
    incoming = dict.fromkeys(tree.nodes, 0)
    for node in tree.nodes.values():
        for target in node.targets:
            incoming[target] += 1
    ready = [node_id for node_id, count in incoming.items() if count == 0]
    order = []
    while ready:
        node_id = ready.pop()
        order.append(node_id)
        for target in tree.nodes[node_id].targets:
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return order


def frontier(tree, answers, incidents, os, order):
    """Questions reached through settled, unknown or possible answers only, not answered yet."""
    seen, found, stack = set(), [], [tree.start]
    while stack:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        node = tree.nodes[node_id]
        ways = edges(tree, node, answers, incidents, os)
        if ways and ways[0][1].status == "pending":
            found.append(node)
            continue
        stack.extend(target for target, _condition in ways)
    return sorted(found, key=lambda node: order[node.id])


# -- stepping ------------------------------------------------------------------------------


@dataclass
class Step:
    """Where a walk stands: a question to ask, or an outcome (one result, or candidates)."""

    question: Node | None
    candidates: list  # Candidate, best first when the walk has ended
    exploration: Exploration

    @property
    def finished(self):
        return self.question is None

    @property
    def result(self):
        """The one result when only one remains."""
        return self.candidates[0].result if self.finished and len(self.candidates) == 1 else None


def next_step(tree: Tree, answers: Answers, incidents=None, stop=False, helped=None) -> Step:
    """The next question that can still tell the candidates apart, or the outcome.
    ``stop``: the visitor asked to see the candidates now. ``helped``: {result id: times it
    helped other visitors}, the second key of the candidates' order."""
    exploration = explore(tree, answers, incidents)
    candidates = exploration.candidates
    if not stop and not any(c.decided for c in candidates) and len(candidates) > 1:
        current = {c.result.id for c in candidates}
        for node in exploration.frontier:
            if tells_apart(tree, answers, incidents, node, current):
                return Step(node, candidates, exploration)
    return Step(None, ordered(candidates, helped or {}), exploration)


def tells_apart(tree, answers, incidents, node: Node, current):
    """Whether some answer to ``node`` would rule out a candidate."""
    values = [a.id for a in node.leading_answers] if node.kind == "question" else []
    if node.kind == "when":
        return True  # a date can always move an incident in or out
    for value in values:
        remaining = {c.result.id for c in explore(tree, answers.with_answer(node.id, value), incidents).candidates}
        if remaining != current:
            return True
    return False


def ordered(candidates, helped):
    """Decided first, then by the answers that support each, then by how often each helped
    other visitors; the tree's own order breaks ties."""
    return sorted(candidates, key=lambda c: (not c.decided, -c.support, -helped.get(c.result.id, 0)))


def from_positional(tree: Tree, values, incidents=None) -> Answers:
    """Answers of a link made when answers were a list in the order asked: each answers the
    question the wizard asks at that point."""
    answers = Answers()
    for value in values:
        step = next_step(tree, answers, incidents)
        if step.finished or not valid_answer(tree, step.question.id, value):
            break
        answers = answers.with_answer(step.question.id, value)
    return answers
