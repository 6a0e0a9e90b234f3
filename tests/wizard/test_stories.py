"""Customer stories (tests/data/stories/stories.yaml), each walked over HTTP through the real
tree as the customer would: answering what they know, "I don't know" to the rest, pasting
what they pasted, or filling in the up-front form. Checks where each ends."""

import re
from urllib.parse import urlsplit

import pytest
import yaml

from tests.conftest import REPO

STORIES = yaml.safe_load((REPO / "tests" / "data" / "stories" / "stories.yaml").read_text(encoding="utf-8"))
TREE = "vm-troubleshooting"


def get(client, url):
    """(final URL, page) after redirects."""
    response = client.get(url)
    while response.status_code == 302:
        url = response["Location"]
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return url, response.content.decode()


def answer_link(page, answer):
    found = re.search(rf'<a class="answer[^"]*" href="([^"]+)"[^>]*data-answer="{re.escape(answer)}"', page)
    assert found, f"no answer {answer!r} on this step"
    return found.group(1).replace("&amp;", "&")


def start(client, story):
    lang = story["lang"]
    if story["start"] == "paste":
        page = client.post(f"/{lang}/wizard/paste/", {"text": story["paste"]}).content.decode()
        go = re.search(r'<a class="button" href="([^"]+)">', page)
        assert go, "the paste was not recognised"
        return get(client, go.group(1).replace("&amp;", "&"))
    if story["start"] == "known":
        form = {"filled": "1", "os": story.get("os", "")}
        form.update({f"q-{node}": value for node, value in story["knows"].items()})
        response = client.get(f"/{lang}/wizard/{TREE}/known/", form)
        assert response.status_code == 302
        return get(client, response["Location"])
    return get(client, f"/{lang}/wizard/{TREE}/")


def walk(client, story):
    """(final URL, page, questions answered) of the story's walk."""
    url, page = start(client, story)
    asked = 0
    for _ in range(30):
        node = re.search(r'class="wizard-step" data-node="([^"]+)"', page)
        if not node:
            return url, page, asked
        asked += 1
        node_id = node.group(1)
        if "when-form" in page and story.get("when"):
            when = story["when"]
            query = {
                "a": re.search(r'name="a" value="([^"]*)"', page).group(1),
                "node": node_id,
                "date": str(when["date"]),
            }
            query.update({key: when[key] for key in ("time", "part", "tz") if key in when})
            paste = re.search(r'name="p" value="([^"]*)"', page)
            if paste:
                query["p"] = paste.group(1)
            response = client.get(f"/{story['lang']}/wizard/{TREE}/when/", query)
            url, page = get(client, response["Location"])
            continue
        url, page = get(client, answer_link(page, story["knows"].get(node_id, "unknown")))
    raise AssertionError("the walk never ended")


@pytest.mark.usefixtures("seeds")
@pytest.mark.parametrize("story", STORIES, ids=[story["id"] for story in STORIES])
def test_the_story_ends_where_the_customer_should(client, story):
    url, page, asked = walk(client, story)
    expect = story["expect"]
    assert f'<html lang="{story["lang"]}">' in page
    if "result" in expect:
        found = re.search(r'class="wizard-result" data-outcome="result" data-node="([^"]+)"', page)
        listed = re.findall(r'<li class="candidate" data-node="([^"]+)"', page)
        assert found and found.group(1) == expect["result"], (url, listed)
    else:
        listed = re.findall(r'<li class="candidate" data-node="([^"]+)"', page)
        assert set(listed) == set(expect["candidates"]), url
        if "first" in expect:
            assert listed[0] == expect["first"]
    if "max_questions" in expect:
        assert asked <= expect["max_questions"], asked
    for slug in expect.get("not_articles", []):
        assert f"/articles/{slug}/" not in page, slug
    assert urlsplit(url).path.startswith(f"/{story['lang']}/wizard/{TREE}/")


def test_the_stories_cover_what_the_wizard_must_handle():
    starts = [story["start"] for story in STORIES]
    assert len(STORIES) >= 20 and {story["lang"] for story in STORIES} == {"ja", "en"}
    assert starts.count("paste") >= 3 and starts.count("known") >= 3
    assert sum("unknown" in story["knows"].values() or "candidates" in story["expect"] for story in STORIES) >= 5
    assert sum(bool(story.get("when")) and "time" not in story["when"] for story in STORIES) >= 3
