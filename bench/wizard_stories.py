"""The wizard on the customer stories (not a test: it prints figures for the README).

Each story of tests/data/stories/{tuning,held-out}.yaml is walked over HTTP (Django's test
client, on a throw-away database with the project's content imported) the way the customer
would (tests/wizard/story_walk.py), twice: answering what the story says the customer knows,
and "I don't know" to everything after the symptom. Per half it prints the share of stories
with the right cause first and in the top 3, and the median and largest number of questions,
for the diagnosis and for two peers: the tree walk of main (the same pages, the tree's own
walk instead of the diagnosis) and the priors alone (the causes the symptom leaves, by prior).

It also times one step of the diagnosis on a generated tree of 1,000 nodes and 200 causes.

    .venv/bin/python bench/wizard_stories.py [--tuning-only] [--failures]
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import platform  # noqa: E402

from bench.machine import cpu_count, cpu_model  # noqa: E402
from bench.workdir import ROOT, setup_django  # noqa: E402

HALVES = ("tuning", "held-out")


def walks(client, stories, failures: bool, show_ids: bool):
    from django.conf import settings
    from django.core.cache import caches

    from tests.wizard import story_walk

    for alias in settings.CACHES:  # pages cached by another run (the peer's) must not be served
        caches[alias].clear()

    firsts, tops, known_q, unknown_q, failed = [], [], [], [], []
    for story in stories:
        result = story_walk.walk(client, story)
        first, top = story_walk.right(story, result)
        firsts.append(first)
        tops.append(top)
        known_q.append(result.asked)
        unknown_q.append(story_walk.walk(client, story, dont_know=True).asked)
        if not first and (failures or show_ids):
            expected = story["expect"].get("cause", "not covered")
            failed.append(f"    {story['id']}: expected {expected}, got {result.outcome} {result.causes[:3]}")
    return firsts, tops, known_q, unknown_q, failed


def prior_only(stories):
    """First / top 3 when the causes are ranked by prior after the symptom (no question)."""
    from wizard import diagnosis, tree_cache, walking
    from wizard.model import NOT_COVERED

    tree = tree_cache.live_tree("vm-troubleshooting").tree
    firsts, tops = [], []
    for story in stories:
        symptom = (story.get("knows") or {}).get("symptom")
        answers = walking.Answers({"symptom": symptom} if symptom else {})
        step = diagnosis.next_step(tree, answers, stop=True)
        ranked = sorted(step.belief, key=step.belief.get, reverse=True)
        if story["expect"].get("not_covered"):
            ok = step.not_covered or ranked[0] == NOT_COVERED
            firsts.append(ok)
            tops.append(ok)
            continue
        ranked = [c for c in ranked if c != NOT_COVERED]
        firsts.append(ranked[0] == story["expect"]["cause"])
        tops.append(story["expect"]["cause"] in ranked[:3])
    return firsts, tops


def share(values):
    return f"{100 * sum(values) / len(values):5.1f} %" if values else "   -  "


def spread(values):
    return f"median {statistics.median(values):.0f}, max {max(values)}" if values else "-"


def report(half, label, firsts, tops, known_q=None, unknown_q=None):
    line = f"  {label:<22} first {share(firsts)}  top 3 {share(tops)}"
    if known_q is not None:
        line += f'  questions (answers known) {spread(known_q)}; ("I don\'t know") {spread(unknown_q)}'
    print(line)


def generated_tree(nodes=1000, causes=200, seed=7):
    """A tree of ``nodes`` nodes: ``causes`` results and questions of three answers, each answer
    leading further down or to a result, so every result is reachable by many paths."""
    from wizard.trees import build

    rng = random.Random(seed)
    text = {"ja": "質問", "en": "A question"}
    questions = nodes - causes
    data = {"title": text, "start": "q0", "nodes": {}}
    for i in range(questions):
        answers = []
        for k, child in enumerate((2 * i + 1, 2 * i + 2, None)):
            target = f"q{child}" if child is not None and child < questions else f"r{rng.randrange(causes)}"
            answers.append({"id": f"a{k}", "label": text, "next": target})
        answers.append({"id": "unknown", "label": text, "unknown": True})
        data["nodes"][f"q{i}"] = {"question": text, "answers": answers}
    for r in range(causes):
        statement = {"ja": "原因", "en": "A cause", "source": {"url": "https://learn.microsoft.com/azure/"}}
        data["nodes"][f"r{r}"] = {"result": text, "cause": statement, "remediation": [statement], "articles": []}
    return build("generated", data)


def time_steps(steps=300, seed=11):
    from wizard import diagnosis, walking
    from wizard.model import model_of

    tree = generated_tree()
    model = model_of(tree)
    rng = random.Random(seed)
    questions = [q for q in model.askable if q in tree.nodes]
    timings = []
    for _ in range(steps):
        values = {"q0": f"a{rng.randrange(3)}"}
        for q in rng.sample(questions, rng.randrange(0, 7)):
            values[q] = rng.choice(["a0", "a1", "a2", "unknown"])
        started = time.perf_counter()
        diagnosis.next_step(tree, walking.Answers(values))
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return len(tree.nodes), len(model.causes) - 1, statistics.median(timings), timings[int(0.95 * len(timings)) - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuning-only", action="store_true", help="score the tuning half only")
    parser.add_argument("--failures", action="store_true", help="list the tuning stories that fail")
    parser.add_argument("--held-out-ids", action="store_true", help="also list held-out failures by id")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wizard-stories-") as workdir:
        setup_django(Path(workdir))
        from django.test import Client
        from django.test.utils import setup_test_environment

        from kb import importer, search
        from tests.wizard import story_walk
        from wizard.walk_url import WalkURL

        setup_test_environment()
        from django.conf import settings
        from django.test.utils import override_settings

        storages = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        override_settings(STORAGES=storages).enable()  # the pages without a collected manifest
        report_ = importer.run_import([str(ROOT / "content")])
        assert report_.ok, report_.problems
        search.catch_up(force=True, wait=True)
        print(f"machine: {cpu_model()}, {cpu_count()} cores, Python {platform.python_version()}")
        for half in HALVES[:1] if args.tuning_only else HALVES:
            stories = story_walk.load(half)
            print(f"{half}: {len(stories)} stories")
            firsts, tops, known_q, unknown_q, failed = walks(
                Client(), stories, args.failures and half == "tuning", args.held_out_ids or half == "tuning"
            )
            report(half, "diagnosis", firsts, tops, known_q, unknown_q)
            if half == "tuning" or args.held_out_ids:
                print("\n".join(failed))
            diagnosing = WalkURL.step
            WalkURL.step = WalkURL.tree_walk  # the peer: the tree's own walk on the same pages
            try:
                peer = walks(Client(), stories, False, False)
            finally:
                WalkURL.step = diagnosing
            report(half, "peer: tree walk (main)", *peer[:4])
            report(half, "peer: priors only", *prior_only(stories))
    nodes, causes, median, p95 = time_steps()
    print(
        f"one step on a generated tree of {nodes} nodes and {causes} causes: median {median:.1f} ms, p95 {p95:.1f} ms"
    )


if __name__ == "__main__":
    main()
