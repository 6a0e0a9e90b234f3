"""Walking a customer story through the wizard over HTTP (Django's test client), as the customer
would: answering what the story says they know, "I don't know" to the rest, giving the OS and
the time when asked, pasting what they pasted or filling in the agent form. Shared by
tests/wizard/test_stories.py and bench/wizard_stories.py (which is not a test).

A question the story does not name is answered from what it names when the tree says they
are the same finding (``same_as`` / ``implies``): a customer who knows that an NSG restricts
outbound traffic answers that whichever question asks it."""

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import yaml

REPO = Path(__file__).resolve().parent.parent.parent
STORIES = REPO / "tests" / "data" / "stories"
TREE = "vm-troubleshooting"
MAX_STEPS = 30


def load(half: str) -> list:
    """The stories of one half ("tuning" or "held-out")."""
    stories = yaml.safe_load((STORIES / f"{half}.yaml").read_text(encoding="utf-8"))
    return [story for story in stories if story.get("half") == half]


@dataclass
class Walk:
    url: str
    outcome: str  # result, candidates, not-covered
    causes: list  # in the order shown (a result's leader first, then "also possible")
    asked: int
    pages: list = field(default_factory=list)

    @property
    def first(self):
        return self.causes[0] if self.causes else ""


def tree_data():
    return yaml.safe_load((REPO / "content" / "wizard" / f"{TREE}.yaml").read_text(encoding="utf-8"))


def known_answers(story, tree) -> dict:
    """What the customer knows, keyed by every question that asks it."""
    knows = dict(story.get("knows") or {})
    nodes = tree["nodes"]
    for question, value in list(knows.items()):
        node = nodes.get(question, {})
        for answer in node.get("answers", []):
            if answer["id"] == value:
                for other, implied in (answer.get("implies") or {}).items():
                    knows.setdefault(other, implied)
    os = story.get("os")
    if os:
        for node_id, node in nodes.items():
            for answer in node.get("answers", []):
                if answer.get("os") == os:
                    knows.setdefault(node_id, answer["id"])
    return knows


def get(client, url):
    response = client.get(url)
    hops = 0
    while response.status_code == 302 and hops < 10:
        url = response["Location"]
        response = client.get(url)
        hops += 1
    assert response.status_code == 200, (url, response.status_code)
    return url, response.content.decode()


def unescape(url):
    return url.replace("&amp;", "&")


def answer_link(page, answer):
    found = re.search(rf'<a class="answer[^"]*" href="([^"]+)"[^>]*data-answer="{re.escape(answer)}"', page)
    return unescape(found.group(1)) if found else None


def when_query(story):
    when = story.get("when") or {}
    query = {"date": str(when.get("date", ""))}
    if when.get("time") is not None:
        clock = when["time"]
        # YAML 1.1 reads an unquoted 22:30 as the number 1350 (minutes, sexagesimal)
        query["time"] = f"{clock // 60:02d}:{clock % 60:02d}" if isinstance(clock, int) else str(clock)
    if when.get("part"):
        query["part"] = when["part"]
    query["tz"] = when.get("zone", "jst")
    return query


def start(client, story, knows):
    lang = story["lang"]
    if story["start"] == "paste":
        page = client.post(f"/{lang}/wizard/paste/", {"text": story["paste"]}).content.decode()
        go = re.search(r'<a class="button continue" href="([^"]+)">', page)
        if go is None:
            return get(client, f"/{lang}/wizard/{TREE}/")
        return get(client, unescape(go.group(1)))
    if story["start"] == "form":
        form = {"filled": "1", "os": story.get("os", "")}
        form.update({f"q-{node}": value for node, value in knows.items()})
        if story.get("when"):
            form.update(when_query(story))
        response = client.get(f"/{lang}/wizard/{TREE}/known/", form)
        assert response.status_code == 302, response.status_code
        return get(client, response["Location"])
    return get(client, f"/{lang}/wizard/{TREE}/")


def walk(client, story, *, dont_know=False) -> Walk:
    """The story walked; ``dont_know``: "I don't know" to everything after the symptom (the
    OS and the time still given when asked, the paste still pasted)."""
    tree = tree_data()
    knows = known_answers(story, tree)
    if dont_know:
        knows = {key: value for key, value in knows.items() if key == "symptom"}
    lang, asked, pages = story["lang"], 0, []
    url, page = start(client, story, {} if dont_know else knows)
    for _ in range(MAX_STEPS):
        pages.append(url)
        node = re.search(r'class="wizard-step" data-node="([^"]+)"', page)
        if not node:
            return Walk(url, *outcome_of(page), asked, pages)
        asked += 1
        node_id = node.group(1)
        if "when-form" in page and 'class="wizard-step"' in page and 'name="date"' in page:
            if story.get("when"):
                query = {"a": re.search(r'name="a" value="([^"]*)"', page).group(1), "node": node_id}
                query.update(when_query(story))
                for name in ("p", "d"):
                    kept = re.search(rf'name="{name}" value="([^"]*)"', page)
                    if kept:
                        query[name] = kept.group(1)
                response = client.get(f"/{lang}/wizard/{TREE}/when/", query)
                if response.status_code == 302:
                    url, page = get(client, response["Location"])
                    continue  # else the form refused the time: the customer says "I don't know"
            url, page = get(client, answer_link(page, "unknown"))
            continue
        wanted = knows.get(node_id, "unknown")
        other = re.search(r'<form class="something-else"[^>]*>\s*<input type="hidden" name="a" value="([^"]*)"', page)
        if other and wanted == "something-else" and other.group(1).endswith(f"{node_id}.{wanted}"):
            query = {"a": other.group(1).replace("&amp;", "&"), "d": story.get("story", "")[:300]}
            url, page = get(client, f"/{lang}/wizard/{TREE}/?" + urlencode(query))
            continue
        link = answer_link(page, wanted) or answer_link(page, "unknown")
        url, page = get(client, link)
    raise AssertionError(f"{story['id']}: the walk never ended")


def outcome_of(page):
    kind = re.search(r'class="wizard-result" data-outcome="([^"]+)"', page)
    outcome = kind.group(1) if kind else "none"
    leader = re.search(r'class="wizard-result" data-outcome="result" data-node="([^"]+)"', page)
    listed = re.findall(r'<li class="candidate[^"]*" data-node="([^"]+)"', page)
    causes = ([leader.group(1)] if leader else []) + [c for c in listed if not leader or c != leader.group(1)]
    return outcome, causes


def right(story, result: Walk):
    """(first, in top 3) for the story's expectation."""
    expect = story["expect"]
    if expect.get("not_covered"):
        ok = result.outcome == "not-covered"
        return ok, ok
    cause = expect["cause"]
    return result.first == cause, cause in result.causes[:3]
