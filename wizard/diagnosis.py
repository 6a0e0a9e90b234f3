"""The diagnosis: a belief over causes, updated by every answer, that chooses the next question
by what it is expected to tell apart, and stops when one cause is far ahead.

After decision-theoretic troubleshooting (Heckerman, Breese & Rommelse, CACM 1995): each cause
(a result of the tree) has a prior, and each finding (an answer to a question, the OS, the time
the failures started) a likelihood under each cause. The model comes from the tree file's
``diagnosis`` section (``wizard.model``); a tree without one has it derived from its paths.

- **Belief.** posterior(cause) ∝ prior × Π likelihood(finding | cause), over every finding
  given. "I don't know" is no finding: it changes nothing. An answer that rules a cause out
  (``rules_out``) has likelihood ``model.RULED_OUT``: the cause is discounted, never shown again
  (nothing shown is contradicted by an answer given), and comes back only as "not covered".
- **Not covered.** One more cause stands for "none of these": neutral to every answer, it wins
  when the answers rule out every cause the tree knows, or the symptom is "something else".
- **The next question** is the one whose answer is expected to lower the uncertainty (entropy)
  over the causes most for its cost, among those whose some answer would change the outcome:
  the leading cause, or a cause shown being ruled out.
- **Only questions that belong with the symptom** are asked: those on the tree's branch for it
  (and the diagnosis's own questions); with the symptom unknown, any.
- **Stop rule.** The walk ends when the leading cause has at least ``LEAD`` of the belief and
  ``LEAD_RATIO`` times the next one (a single result, the others folded under "also possible")
  unless a question anyone can answer (cost below 1: the OS, when it started) could still
  overturn it; or when no question could change the outcome; or after ``MAX_QUESTIONS``
  questions; or after ``MAX_UNKNOWN`` "I don't know" answers after the symptom, once no
  question anyone can answer could still overturn the leader.

Pure functions of the tree, the answers and the incident windows; numpy does the arithmetic.
"""

from dataclasses import dataclass, field

import numpy as np

from wizard import moments, walking
from wizard.model import NOT_COVERED, OS, OS_VALUES, Model, model_of
from wizard.trees import UNKNOWN, Node, Tree
from wizard.walking import Answers, Condition, os_of

LEAD = 0.55
LEAD_RATIO = 3
MAX_QUESTIONS = 8
MAX_UNKNOWN = 3
MAX_SHOWN = 5
SHOWN_AT_LEAST = 0.01  # of the belief: below this a cause is not worth a line
LIKELY, POSSIBLE = 0.35, 0.08  # of the belief: "likely", "possible", else "unlikely"
MIN_GAIN = 1e-3  # bits: a question expected to tell less is not worth asking
TIME_STRENGTH = 19.0  # an incident's likelihood ratio is 1 + this × the share of the time in its window
VOTE_WEIGHT = 0.3  # votes move a prior by at most ±30 % (tanh-bounded)
VOTE_SCALE = 30.0  # …and by half of that only after about 16 more "yes" than "no"


@dataclass
class Candidate(walking.Candidate):
    """A cause as the page shows it: its standing, why (``conditions``: the answers that point
    here, "known"/"implied", then the check), and the one check that would settle it."""

    probability: float = 0.0
    standing: str = "unlikely"  # likely, possible, unlikely
    check: str = ""  # the question that would confirm or rule it out


@dataclass
class Step:
    """Where a diagnosis stands: a question to ask, or an outcome."""

    question: Node | None
    candidates: list  # Candidate, most likely first (at most MAX_SHOWN)
    belief: dict = field(default_factory=dict)  # {cause id: probability}, every cause
    not_covered: bool = False  # the answers leave no cause the tree knows
    findings: dict = field(default_factory=dict)  # {question id: answer} given or implied
    asked: int = 0

    @property
    def finished(self):
        return self.question is None

    @property
    def result(self):
        """The leading cause, when the walk ended on it far ahead of the rest."""
        if not self.finished or self.not_covered or not self.candidates:
            return None
        return self.candidates[0].result if self.far_ahead and not self.conditional else None

    @property
    def conditional(self):
        """The leader rests on a time that only may fall in its incident's window."""
        leader = self.candidates[0] if self.candidates else None
        return bool(leader) and any(c.status == "possible" for c in leader.conditions)

    @property
    def far_ahead(self):
        ranked = sorted(self.belief.values(), reverse=True) + [0.0]
        return ranked[0] >= LEAD and ranked[0] >= LEAD_RATIO * ranked[1]

    @property
    def also_possible(self):
        return self.candidates[1:] if self.result is not None else []


# -- findings -------------------------------------------------------------------------------


def findings(model: Model, answers: Answers) -> dict:
    """{question id: answer id or moment} of what is known: the answers given (not "I don't
    know"), what they imply (a question that asks the same thing), the OS (from an answer, the
    form or a paste), and what the OS implies (a Linux-only question is answered for Windows;
    "Is it Windows?" is answered once the OS is known)."""
    tree = model.tree
    given = {q: v for q, v in answers.values.items() if v != UNKNOWN and q in tree.nodes}
    found = dict(given)
    for question, value in sorted(given.items()):  # in one order, whatever the order given
        node = tree.nodes[question]
        answer = node.answer(value) if node.kind == "question" else None
        for implied_question, implied in answer.implies.items() if answer else ():
            found.setdefault(implied_question, implied)
    os = os_of(tree, answers)
    if os:
        found[OS] = os
    for node in tree.nodes.values():
        if node.id in found or node.kind != "question":
            continue
        if os and node.applies_to and node.applies_to != os:
            found[node.id] = node.otherwise
        elif os and any(a.os for a in node.answers):
            implied = next((a.id for a in node.answers if a.os == os), None)
            if implied:
                found[node.id] = implied
    moment = next((v for q, v in found.items() if q in model.when_nodes), None)
    for node_id in model.when_nodes:  # one time, whichever "when" step asked it
        if moment is not None:
            found.setdefault(node_id, moment)
    return found


def evidence(model: Model, answers: Answers) -> list:
    """Every (question, answer) the belief weighs: each answer given, each answer it implies,
    each OS named (once, as ``os``) and what it implies. Unlike ``findings``, nothing here is
    overridden: answers that contradict each other both count, so another answer can only
    rule more out, never bring a cause back."""
    tree = model.tree
    pairs = []
    oses = {v for q, v in answers.values.items() if q == OS and v in OS_VALUES}
    for question, value in sorted(answers.values.items()):
        node = tree.nodes.get(question)
        if node is None or value == UNKNOWN or node.kind == "result":
            continue
        answer = node.answer(value) if node.kind == "question" else None
        if answer is not None and answer.os:
            oses.add(answer.os)
        if question not in model.os_questions:
            pairs.append((question, value))
        for implied_question, implied in answer.implies.items() if answer else ():
            pairs.append((implied_question, implied))
    for os in sorted(oses):
        pairs.append((OS, os))
        pairs += [(n.id, n.otherwise) for n in tree.nodes.values() if n.applies_to and n.applies_to != os]
    return pairs


def settled_questions(model: Model, answers: Answers, found: dict) -> set:
    """Questions not to ask again: answered (even "I don't know"), or implied."""
    done = set(found) | {q for q, v in answers.values.items() if v == UNKNOWN}
    if done & model.when_nodes:
        done |= model.when_nodes
    return done


# -- belief ---------------------------------------------------------------------------------


def log_belief(model: Model, pairs: list, incidents, helped=None) -> np.ndarray:
    """log posterior (unnormalised) over model.causes, from the ``evidence`` pairs."""
    scores = np.log(prior(model, helped))
    for question, value in pairs:
        if question in model.when_nodes:
            continue
        row = model.rows.get((question, value))
        if row is not None:
            scores += model.log_likelihood[row]
    scores += np.log(time_weights(model, pairs, incidents))
    return scores


def prior(model: Model, helped=None) -> np.ndarray:
    """The model's priors, sharpened by votes (bounded: a few votes cannot flip a ranking)."""
    if not helped:
        return model.prior
    net = np.array([helped.get(cause, 0) for cause in model.causes], dtype=float)
    return model.prior * (1 + VOTE_WEIGHT * np.tanh(net / VOTE_SCALE))


def time_weights(model: Model, pairs: list, incidents) -> np.ndarray:
    """Each cause's likelihood ratio for the time given: an incident's cause by the share of
    that time inside its window (none: ruled out), every other cause 1. (Two different times
    given: each counts.)"""
    weights = np.ones(len(model.causes))
    for moment in {moments.parse(v) for q, v in pairs if q in model.when_nodes} - {None}:
        weights *= time_weight(model, moment, incidents)
    return weights


def time_weight(model: Model, moment, incidents) -> np.ndarray:
    weights = np.ones(len(model.causes))
    for cause, slugs in model.incident_causes.items():
        windows = [incidents[slug] for slug in slugs if slug in (incidents or {})]
        if not windows:
            continue
        share = max(moments.overlap_share(moment, window) for window in windows)
        weights[model.index[cause]] = model.ruled_out_weight if share <= 0 else 1 + TIME_STRENGTH * share
    return weights


def contradicted(model: Model, pairs: list, incidents) -> np.ndarray:
    """Causes an answer given (or implied) rules out (boolean per cause)."""
    ruled = np.zeros(len(model.causes), dtype=bool)
    for question, value in pairs:
        row = model.rows.get((question, value))
        if row is not None and question not in model.when_nodes:
            ruled |= model.rules_out[row]
    for moment in {moments.parse(v) for q, v in pairs if q in model.when_nodes} - {None}:
        ruled |= time_weight(model, moment, incidents) <= model.ruled_out_weight
    return ruled


def normalised(scores: np.ndarray) -> np.ndarray:
    p = np.exp(scores - scores.max())
    return p / p.sum()


# -- choosing the next question ---------------------------------------------------------------


def entropy(p: np.ndarray) -> np.ndarray:
    """Entropy in bits of each row of p (or of p itself)."""
    q = np.where(p > 0, p, 1.0)
    return -(p * np.log2(q)).sum(axis=-1)


def question_scores(model: Model, p: np.ndarray, shown: np.ndarray, open_questions):
    """({question id: expected information gain per cost}, {questions that could overturn the
    leading cause}) of the questions whose some answer would change the outcome (the leading
    cause, or a cause shown being ruled out).

    With J = L·p (an answer and a cause together) and P(a) = Σ_c J, the expected entropy
    after a question is Σ_a P(a)·H(a) / Σ_a P(a), and P(a)·H(a) = P(a) log P(a) − Σ_c J log J,
    where Σ_c J log J = (L log L)·p + L·(p log p): two products with the precomputed
    matrices, whatever the number of causes."""
    if not open_questions:
        return {}, set()
    p_log_p = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    # einsum, not @: a matrix-vector product through BLAS spins threads that, on a busy
    # machine, cost more than the product itself.
    marginal = np.einsum("rc,c->r", model.likelihood, p)
    spread = np.einsum("rc,c->r", model.l_log_l, p) + np.einsum("rc,c->r", model.likelihood, p_log_p)
    weighted = marginal * np.log2(np.maximum(marginal, 1e-300)) - spread
    starts = model.row_starts
    total = np.add.reduceat(marginal, starts)
    expected = np.add.reduceat(weighted, starts) / np.maximum(total, 1e-300)
    gain = float(entropy(p)) - expected
    leader = int(np.argmax(p))
    rivals = np.where(p >= p[leader] * model.ruled_out_weight, p, 0.0)  # only these can overtake in one answer
    rivals[leader] = 0.0
    overtakes = ((model.likelihood * rivals) > (model.likelihood[:, leader] * p[leader])[:, None]).any(axis=1)
    changes = overtakes | model.rules_out[:, shown].any(axis=1)
    changing = np.add.reduceat(changes.astype(np.int32), starts) > 0
    overturns = np.add.reduceat(overtakes.astype(np.int32), starts) > 0
    scores, overturning = {}, set()
    for question in open_questions:
        k = model.question_index.get(question)
        if k is not None and changing[k] and gain[k] > MIN_GAIN and total[k] > 0:
            scores[question] = float(gain[k]) / model.cost_of(question)
            if overturns[k]:
                overturning.add(question)
    return scores, overturning


# -- stepping ---------------------------------------------------------------------------------


def next_step(tree: Tree, answers: Answers, incidents=None, stop=False, helped=None) -> Step:
    """The next question, or the outcome, for these answers (in any order)."""
    model = model_of(tree)
    incidents = incidents or {}
    found = findings(model, answers)
    pairs = evidence(model, answers)
    p = normalised(log_belief(model, pairs, incidents, helped))
    shown = shown_causes(model, p, contradicted(model, pairs, incidents))
    asked = sum(1 for q in answers.values if q in model.askable and q != OS)
    unknowns = sum(1 for q, v in answers.values.items() if v == UNKNOWN and q != tree.start)
    not_covered = not shown or model.causes[int(np.argmax(p))] == NOT_COVERED
    step = Step(None, [], dict(zip(model.causes, p.tolist(), strict=True)), not_covered, found, asked)
    done = settled_questions(model, answers, found)
    symptom = answers.values.get(tree.start, UNKNOWN)
    open_questions = [
        q for q in model.askable if q not in done and q != OS and q in tree.nodes and model.on_branch(symptom, q)
    ]
    scores, overturning = question_scores(model, p, shown_mask(model, shown), open_questions)
    anyone_can_answer = {q for q in overturning if model.cost_of(q) < 1}  # the OS, when it started
    sure = step.far_ahead and not anyone_can_answer
    if unknowns >= MAX_UNKNOWN:  # the customer cannot tell more, but can still say the OS or the time
        scores = {q: score for q, score in scores.items() if q in anyone_can_answer}
    if tree.start not in answers.values:
        step.question = None if stop else tree.nodes[tree.start]
    elif scores and not (stop or not_covered or sure or asked >= MAX_QUESTIONS):
        step.question = tree.nodes[max(scores, key=lambda q: (scores[q], -model.order[q]))]
    step.candidates = (
        [] if not_covered and step.finished else candidates(model, answers, p, shown, found, scores, incidents)
    )
    return step


def shown_causes(model: Model, p: np.ndarray, ruled: np.ndarray) -> list:
    """Indexes of the causes worth showing: not ruled out, not "not covered", most likely first."""
    order = np.argsort(-p, kind="stable")
    kept = [int(i) for i in order if not ruled[i] and model.causes[i] != NOT_COVERED and p[i] >= SHOWN_AT_LEAST]
    return kept[:MAX_SHOWN]


def shown_mask(model: Model, shown) -> np.ndarray:
    mask = np.zeros(len(model.causes), dtype=bool)
    mask[shown] = True
    return mask


def standing(probability: float) -> str:
    if probability >= LIKELY:
        return "likely"
    return "possible" if probability >= POSSIBLE else "unlikely"


def candidates(model: Model, answers: Answers, p: np.ndarray, shown, found: dict, scores: dict, incidents) -> list:
    tree = model.tree
    symptom = answers.values.get(tree.start, UNKNOWN)
    found_list = []
    for index in shown:
        cause = model.causes[index]
        reasons = tuple(reasons_for(model, answers, cause, found, incidents))
        checks = [
            q
            for q in model.checks_for(cause)
            if q in model.when_nodes or (model.on_branch(symptom, q) and settles(model, p, index, q) >= RELEVANT)
        ]
        told = {q: telling_answer(model, p, index, q) for q in checks if answers.values.get(q) == UNKNOWN}
        not_known = tuple(Condition(q, answer, "unknown") for q, answer in told.items() if answer)
        check = best_check(model, cause, found, scores, checks) or next((c.node for c in not_known), "")
        pending = (
            ()
            if any(c.node == check for c in not_known) or not check
            else (Condition(check, telling_answer(model, p, index, check), "pending"),)
        )
        conditions = reasons + not_known + pending
        probability = float(p[index])
        found_list.append(
            Candidate(
                tree.nodes[cause], conditions, probability=probability, standing=standing(probability), check=check
            )
        )
    return found_list


def reasons_for(model: Model, answers: Answers, cause: str, found: dict, incidents):
    """The findings that point to a cause, each once: the OS as one row, the time as one."""
    tree = model.tree
    if OS in found and OS in model.fits_map.get(cause, {}) and found[OS] in model.fits_map[cause][OS]:
        yield Condition(OS, found[OS], "known")
    when = next((q for q in model.askable if q in model.when_nodes and q in found), None)
    if when and cause in model.incident_causes:
        moment = moments.parse(found[when])
        windows = [incidents[slug] for slug in model.incident_causes[cause] if slug in incidents]
        share = max((moments.overlap_share(moment, w) for w in windows), default=0.0) if moment else 0.0
        yield Condition(when, "incident", "known" if share >= 1 else "possible")
    for question, value in found.items():
        node = tree.nodes.get(question)
        if node is None or question in model.os_questions or question in model.when_nodes:
            continue
        if model.fits(cause, question, value):
            yield Condition(question, str(value), "known" if question in answers.values else "implied")


RELEVANT = 0.2  # the share of the doubt about a cause a question must be expected to settle


def settles(model: Model, p: np.ndarray, index: int, question) -> float:
    """How much of the doubt about one cause answering the question is expected to settle:
    E|P(cause | answer) − P(cause)| over the answers, as a share of the most any answer could
    (2·P·(1 − P), an answer that decides it). An error code that fits every cause the symptom
    leaves, this one among them, settles next to nothing about it: it is not its check."""
    rows = model.rows_of.get(question) if question not in model.when_nodes else None
    if not rows:
        return 1.0
    joint = model.likelihood[rows] * p
    marginal = joint.sum(axis=1)
    if marginal.sum() <= 0:
        return 0.0
    after = joint[:, index] / np.maximum(marginal, 1e-300)
    moved = float((marginal * np.abs(after - p[index])).sum() / marginal.sum())
    most = 2 * p[index] * (1 - p[index])
    return moved / most if most > 1e-12 else 0.0


def telling_answer(model: Model, p: np.ndarray, index: int, question) -> str:
    """The answer to show beside a cause's check: among those that fit it, the one that points
    to it most against the others (the VM agent log's Wire Server timeouts for Wire Server
    blocked, not the error code every agent cause shares)."""
    cause = model.causes[index]
    fitting = [a for a in model.answers_of(question) if a in model.fits_map.get(cause, {}).get(question, set())]
    if question in model.when_nodes or len(fitting) < 2:
        return model.fitting_answer(cause, question)
    others = p.copy()
    others[index] = 0.0
    weight = others / others.sum() if others.sum() > 0 else np.full(len(p), 1 / len(p))

    def factor(answer):
        row = model.rows.get((question, answer))
        if row is None:
            return 0.0
        return float(model.likelihood[row, index] / max(float(model.likelihood[row] @ weight), 1e-300))

    return max(fitting, key=factor)


def best_check(model: Model, cause: str, found: dict, scores: dict, checks=None) -> str:
    """The unanswered question that would confirm or rule this cause out: the one expected to
    tell most (for its cost) among those that name it (``checks``: those relevant to it),
    else the cheapest that names it."""
    named = [
        q
        for q in (model.checks_for(cause) if checks is None else checks)
        if q not in found and q in model.tree.nodes and model.answers_of(q) and q not in model.when_nodes
    ]
    if not named:
        return ""
    return max(named, key=lambda q: (scores.get(q, 0.0), -model.cost_of(q), -model.order.get(q, 0)))
