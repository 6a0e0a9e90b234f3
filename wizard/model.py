"""The model of causes and findings the diagnosis reasons with (``wizard.diagnosis``).

A cause is a result of the tree. For each question, a cause says which answers fit it and
which rule it out; every other answer is neutral to it (as likely as any). A tree file's
``diagnosis`` section states this for every cause, with a prior (how common it is), a cost of
checking it and the symptoms it produces; a tree without one has it derived from its paths: an
answer fits a cause when a path through that answer reaches the cause, and rules it out when
only the question's other answers do.

Three kinds of finding are not plain answers:

- **The OS** (``os``) is one finding, whichever question, form or paste gave it. The questions
  whose answers name an OS ("Is the VM Windows?") all ask it; only one of them is asked.
- **The time** is one finding, whichever "when" step asked it. The cause an incident explains
  (the result a "when" step leads to when the time is inside the window) is weighed by the
  share of that time inside the window (``wizard.diagnosis.time_weights``).
- **"Not covered"** is one more cause: neutral to every answer, it fits only "something else".

Likelihoods (``answer_likelihood``): an answer that rules a cause out ``RULED_OUT``; the rest
shared among the other answers, a fitting one weighing four times an unlisted one; a question
that names nothing for a cause is neutral to it. Pure; built once per tree revision.
"""

from dataclasses import dataclass, field

import numpy as np

from wizard.trees import Node, Tree

RULED_OUT = 0.01
NOT_COVERED = "not-covered"
OS = "os"
OS_VALUES = ("linux", "windows")
DEFAULT_NOT_COVERED_PRIOR = 0.02
WHEN_ANSWERS = ("incident", "other")  # how a "when" step is scored before it is answered
TIME_INSIDE_ELSEWHERE = 0.05  # P(a time inside an incident's window | another cause)


@dataclass
class Model:
    tree: Tree
    causes: list  # result ids, then NOT_COVERED
    prior: np.ndarray
    cause_cost: dict
    askable: list  # question ids the diagnosis may ask or take as given, in the tree's order
    fits_map: dict  # {cause: {question: set of answer ids}}
    ruled_map: dict  # {cause: {question: set of answer ids}}
    incident_causes: dict  # {cause: [RCA slugs]}
    when_nodes: set
    os_questions: set  # tree questions whose answers name an OS
    rows: dict = field(default_factory=dict)  # {(question, answer): row}
    rows_of: dict = field(default_factory=dict)  # {question: [rows]}
    likelihood: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    log_likelihood: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    rules_out: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    ruled_out_weight: float = RULED_OUT
    base_rates: dict = field(default_factory=dict)  # {question: {answer: P(answer | unrelated cause)}}
    l_log_l: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # L · log2 L
    row_starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # first row of each question
    question_index: dict = field(default_factory=dict)  # {question: its position among row_starts}
    branches: dict = field(default_factory=dict)  # {symptom answer: questions on its branch of the tree}

    def on_branch(self, symptom, question):
        """Whether the question belongs with the symptom: on the tree's branch for it (or
        asked only by the diagnosis). An unknown symptom keeps every question."""
        branch = self.branches.get(symptom)
        return branch is None or question in branch

    index: dict = field(default_factory=dict)  # {cause: column}
    order: dict = field(default_factory=dict)  # {question: position in askable}

    def cost_of(self, question):
        node = self.tree.nodes.get(question)
        return node.cost if node is not None else 1.0

    def answers_of(self, question):
        if question == OS:
            return list(OS_VALUES)
        node = self.tree.nodes[question]
        if node.kind == "when":
            return list(WHEN_ANSWERS)
        return [a.id for a in node.known_answers]

    def fits(self, cause, question, value):
        if question in self.when_nodes:
            return cause in self.incident_causes
        if question in self.os_questions:
            answer = self.tree.nodes[question].answer(value)
            return bool(answer and answer.os) and answer.os in self.fits_map[cause].get(OS, set())
        return value in self.fits_map.get(cause, {}).get(question, set())

    def fitting_answer(self, cause, question):
        if question in self.when_nodes:
            return "incident"
        fitting = self.fits_map.get(cause, {}).get(question, set())
        return next((a for a in self.answers_of(question) if a in fitting), "")

    def checks_for(self, cause):
        """Questions with an answer that fits the cause (the ways to confirm it)."""
        named = [q for q in self.askable if self.fits_map.get(cause, {}).get(q) and q != OS]
        if cause in self.incident_causes:
            named += sorted(self.when_nodes)
        return named


# -- building ---------------------------------------------------------------------------------


_models: dict = {}


def model_of(tree: Tree) -> Model:
    """The model of a tree, built once per tree object (trees are immutable per revision)."""
    key = id(tree)
    cached = _models.get(key)
    if cached is None or cached.tree is not tree:
        if len(_models) > 64:
            _models.clear()
        cached = _models[key] = build(tree)
    return cached


def build(tree: Tree) -> Model:
    results = [node.id for node in tree.nodes.values() if node.kind == "result"]
    reach = reachable_results(tree)
    os_questions = {n.id for n in tree.nodes.values() if n.kind == "question" and any(a.os for a in n.answers)}
    when_nodes = {n.id for n in tree.nodes.values() if n.kind == "when"}
    incident_causes = {}
    for node_id in when_nodes:
        node = tree.nodes[node_id]
        for cause in reach[node.incident_next] - reach[node.next]:
            incident_causes.setdefault(cause, []).extend(node.rcas)
    fits_map, ruled_map, prior, cost = derived(tree, results, reach, os_questions)
    if tree.diagnosis:
        fits_map, ruled_map, prior, cost = stated(tree, results, os_questions, fits_map)
    not_covered_prior = (tree.diagnosis or {}).get("not_covered_prior", DEFAULT_NOT_COVERED_PRIOR)
    causes = [*results, NOT_COVERED]
    fits_map[NOT_COVERED] = {tree.start: {a.id for a in tree.nodes[tree.start].answers if a.other}}
    ruled_map[NOT_COVERED] = {}
    priors = np.array([prior[c] for c in results] + [0.0])
    priors = priors / priors.sum() * (1 - not_covered_prior)
    priors[-1] = not_covered_prior
    model = Model(
        tree,
        causes,
        priors,
        cost,
        askable_questions(tree, os_questions),
        fits_map,
        ruled_map,
        incident_causes,
        when_nodes,
        os_questions,
    )
    model.base_rates = (tree.diagnosis or {}).get("base_rates", {})
    model.branches = symptom_branches(tree)
    model.index = {cause: i for i, cause in enumerate(causes)}
    model.order = {q: i for i, q in enumerate(model.askable)}
    fill_rows(model)
    return model


def symptom_branches(tree: Tree) -> dict:
    """{symptom answer: the questions reachable from it} (a duplicate counts as the question
    it is the same as; the diagnosis's own questions belong to every branch)."""
    from wizard.walking import topological_order

    below: dict = {}
    for node_id in reversed(topological_order(tree)):
        node = tree.nodes[node_id]
        here = {node.same_as or node_id} if node.kind != "result" else set()
        for target in node.targets:
            here |= below.get(target, set())
        below[node_id] = here
    symptom = tree.nodes[tree.start]
    own = [n for n in tree.nodes.values() if n.diagnosis_only]
    return {
        a.id: below.get(a.next, set()) | {n.id for n in own if not n.for_symptoms or a.id in n.for_symptoms}
        for a in symptom.leading_answers
        if a.next
    }


def reachable_results(tree: Tree) -> dict:
    """{node id: set of result ids reachable from it}, bottom up (no recursion)."""
    from wizard.walking import topological_order

    found: dict = {}
    for node_id in reversed(topological_order(tree)):
        node = tree.nodes[node_id]
        here = {node_id} if node.kind == "result" else set()
        for target in node.targets:
            here |= found.get(target, set())
        found[node_id] = here
    return found


def derived(tree: Tree, results, reach, os_questions):
    """Fits and rule-outs from the tree's paths; uniform priors, unit costs."""
    fits_map: dict = {c: {} for c in results}
    ruled_map: dict = {c: {} for c in results}
    for node in tree.nodes.values():
        if node.kind != "question" or node.diagnosis_only:
            continue
        by_answer = {a.id: reach.get(a.next, set()) if a.next else set() for a in node.known_answers}
        question = OS if node.id in os_questions else node.id
        for cause in set().union(*by_answer.values()) if by_answer else set():
            fitting = {a for a, reached in by_answer.items() if cause in reached}
            if question == OS:
                fitting = {node.answer(a).os for a in fitting if node.answer(a).os}
                every = set(OS_VALUES)
            else:
                every = set(by_answer)
            if fitting and fitting != every:
                fits_map[cause].setdefault(question, set()).update(fitting)
                ruled_map[cause].setdefault(question, set()).update(every - fitting)
    for cause in results:  # an answer that fits through one path is not ruled out by another
        for question, fitting in fits_map[cause].items():
            ruled_map[cause][question] -= fitting
    return fits_map, ruled_map, dict.fromkeys(results, 1.0), dict.fromkeys(results, 1.0)


def stated(tree: Tree, results, os_questions, derived_fits):
    """Fits and rule-outs as the tree file's ``diagnosis`` section states them."""
    section = tree.diagnosis["causes"]
    symptom = tree.nodes[tree.start]
    fits_map: dict = {}
    ruled_map: dict = {}
    prior, cost = {}, {}
    for cause in results:
        raw = section[cause]
        prior[cause], cost[cause] = raw["prior"], raw.get("cost", 1.0)
        fits = {q: set(a) for q, a in raw.get("fits", {}).items()}
        ruled = {q: set(a) for q, a in raw.get("rules_out", {}).items()}
        fits[tree.start] = set(raw["produces"])
        ruled[tree.start] = {a.id for a in symptom.known_answers} - fits[tree.start]
        fits_map[cause], ruled_map[cause] = fits, ruled
    return fits_map, ruled_map, prior, cost


def askable_questions(tree: Tree, os_questions) -> list:
    """Every question and "when" step in the tree's order (breadth first, then the questions
    only the diagnosis asks), with one OS question: a diagnosis-only one if there is one."""
    from wizard.trees import breadth_first

    order = [n for n in breadth_first(tree) if tree.nodes[n].kind != "result"]
    order += [n.id for n in tree.nodes.values() if n.diagnosis_only and n.id not in order]
    os_asked = [q for q in order if q in os_questions and tree.nodes[q].diagnosis_only] or [
        q for q in order if q in os_questions
    ]
    kept = [q for q in order if (q not in os_questions or q == os_asked[0]) and not tree.nodes[q].same_as]
    return [*kept, OS] if OS not in kept else kept


def fill_rows(model: Model):
    """One row per (question, answer): the likelihood of that answer under each cause."""
    rows, rows_of, matrix, ruled = {}, {}, [], []
    causes = model.causes
    for question in model.askable:
        rows_of[question] = []
        if question in model.os_questions:
            node = model.tree.nodes[question]
            entries = [(a.id, a.os) for a in node.known_answers if a.os]
        elif question in model.when_nodes:
            entries = [(a, a) for a in WHEN_ANSWERS]
        else:
            entries = [(a, a) for a in model.answers_of(question)]
        for answer_id, meaning in entries:
            rows[(question, answer_id)] = len(matrix)
            rows_of[question].append(len(matrix))
            likelihood, ruled_row = row(model, question, meaning, causes)
            matrix.append(likelihood)
            ruled.append(ruled_row)
    model.rows, model.rows_of = rows, rows_of
    model.likelihood = np.array(matrix, dtype=float).reshape(len(matrix), len(causes))
    model.log_likelihood = np.log(model.likelihood)
    model.l_log_l = model.likelihood * np.log2(model.likelihood)
    asked = [q for q in model.askable if rows_of[q]]
    model.row_starts = np.array([rows_of[q][0] for q in asked], dtype=int)
    model.question_index = {q: k for k, q in enumerate(asked)}
    model.rules_out = np.array(ruled, dtype=bool).reshape(len(matrix), len(causes))


def row(model: Model, question, answer, causes):
    if question in model.when_nodes:
        inside = answer == "incident"
        likelihood = [
            (1.0 if inside else RULED_OUT)
            if c in model.incident_causes
            else (TIME_INSIDE_ELSEWHERE if inside else 0.95)
            for c in causes
        ]
        return likelihood, [False] * len(causes)
    key = OS if question in model.os_questions else question
    every = model.answers_of(key)
    base = model.base_rates.get(key, {})
    likelihood, ruled = [], []
    for cause in causes:
        fitting = model.fits_map.get(cause, {}).get(key, set())
        ruling = model.ruled_map.get(cause, {}).get(key, set())
        if not fitting and not ruling:
            likelihood.append(neutral_likelihood(answer, every, base))
        else:
            likelihood.append(answer_likelihood(answer, every, fitting, ruling))
        ruled.append(answer in ruling)
    return likelihood, ruled


def neutral_likelihood(answer, every, base):
    """P(answer | a cause the question is not about): its base rate where the model states
    one, the rest shared alike by the other answers."""
    if answer in base:
        return base[answer]
    rest = [a for a in every if a not in base]
    return (1 - sum(base.values())) / len(rest) if rest else 1 / len(every)


FITTING, UNLISTED = 1.0, 0.25  # relative weights of the answers a cause does not rule out


def answer_likelihood(answer, every, fitting, ruling):
    """P(answer | cause): each answer that rules the cause out RULED_OUT; the rest of the
    probability shared by the others, a fitting answer weighing FITTING and any other UNLISTED
    when some answer fits (all alike when none does: the question is neutral to the cause)."""
    if answer in ruling:
        return RULED_OUT
    rest = [a for a in every if a not in ruling]
    weight = {a: (FITTING if a in fitting or not fitting else UNLISTED) for a in rest}
    return (1 - RULED_OUT * len(ruling)) * weight.get(answer, UNLISTED) / sum(weight.values())


def check_problems(tree: Tree) -> list:
    """Problems of a ``diagnosis`` section: every result a cause, every question and answer
    named one of the tree's (messages start "diagnosis: <cause>:" for their line)."""
    if not tree.diagnosis:
        return []
    section = tree.diagnosis["causes"]
    results = {n.id for n in tree.nodes.values() if n.kind == "result"}
    problems = [f"diagnosis: result {r!r} is not a cause of the diagnosis" for r in sorted(results - set(section))]
    problems += [f"diagnosis: {c}: not a result of this tree" for c in section if c not in results]
    symptom = tree.nodes.get(tree.start)
    for question, rates in tree.diagnosis.get("base_rates", {}).items():
        problems += answer_problems(tree, "base_rates", "rates", question, list(rates))
        if sum(rates.values()) >= 1:
            problems.append(f"diagnosis: base_rates: {question}: the rates add up to 1 or more")
    for cause, raw in section.items():
        if symptom is not None:
            problems += [
                f"diagnosis: {cause}: produces: {a!r} is not an answer to {tree.start!r}"
                for a in raw["produces"]
                if symptom.answer(a) is None or symptom.answer(a).unknown
            ]
        for key in ("fits", "rules_out"):
            for question, answer_ids in raw.get(key, {}).items():
                problems += answer_problems(tree, cause, key, question, answer_ids)
        for question in set(raw.get("fits", {})) & set(raw.get("rules_out", {})):
            both = set(raw["fits"][question]) & set(raw["rules_out"][question])
            if both:
                problems.append(f"diagnosis: {cause}: {question}: {sorted(both)} both fit and rule out")
    return problems


def answer_problems(tree: Tree, cause, key, question, answer_ids):
    if question == OS:
        return [
            f"diagnosis: {cause}: {key}: os: {a!r} is not linux or windows" for a in answer_ids if a not in OS_VALUES
        ]
    node: Node | None = tree.nodes.get(question)
    if node is None or node.kind != "question":
        return [f"diagnosis: {cause}: {key}: {question!r} is not a question of this tree"]
    return [
        f"diagnosis: {cause}: {key}: {question}: {a!r} is not one of its answers"
        for a in answer_ids
        if node.answer(a) is None or node.answer(a).unknown
    ]
