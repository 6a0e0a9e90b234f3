"""The wizard's steps, outcomes and votes in /metrics, counted by URL name (kb.metrics)."""

import pytest

from tests.config.test_metrics import scrape, value
from tests.wizard.test_views import TestResults, walk


@pytest.mark.usefixtures("wizard_site")
def test_steps_outcomes_and_votes_are_counted(client):
    before = scrape(client)
    url, _page = walk(client, TestResults.answers)
    walk(client, {"symptom": "agent"})  # then "I don't know": the candidates
    client.post("/en/wizard/small/result/r-stopped/feedback/", {"helpful": "yes", "next": url})
    after = scrape(client)

    def added(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert added("kb_wizard_outcomes_total", outcome="result") == 1
    assert added("kb_wizard_outcomes_total", outcome="candidates") == 1
    assert added("kb_wizard_steps_total", page="step") >= 4  # each question of both walks
    assert added("kb_wizard_votes_total", helpful="yes") == 1
    assert added("kb_wizard_votes_total", helpful="no") == 0


@pytest.mark.usefixtures("seeds")
def test_a_not_covered_outcome_is_counted_as_such(client):
    before = scrape(client)
    url = "/en/wizard/vm-troubleshooting/?a=symptom.something-else&d=the+VM+is+slow+at+100%25+CPU"
    response = client.get(url, follow=True)
    assert response.status_code == 200 and response["X-Wizard-Outcome"] == "not-covered"
    after = scrape(client)
    added = {
        kind: value(after, "kb_wizard_outcomes_total", outcome=kind)
        - value(before, "kb_wizard_outcomes_total", outcome=kind)
        for kind in ("not_covered", "candidates", "result")
    }
    assert added == {"not_covered": 1, "candidates": 0, "result": 0}


@pytest.mark.usefixtures("seeds")
def test_a_not_covered_outcome_does_not_offer_articles_that_only_share_a_word(client):
    # No seed is about a slow VM or a CPU at 100 %; some mention "VM" and "CPU" in passing.
    page = client.get("/en/wizard/vm-troubleshooting/?a=symptom.something-else&d=CPU+100%25", follow=True)
    body = page.content.decode()
    assert "Articles that match your words" not in body and "No article matches your words either." in body
    about = client.get(
        "/en/wizard/vm-troubleshooting/?a=symptom.something-else&d=VMExtensionProvisioningError", follow=True
    )
    assert "Articles that match your words" in about.content.decode()


@pytest.mark.usefixtures("seeds")
def test_a_paste_the_wizard_does_not_know_is_not_answered_with_articles_that_share_a_word(client):
    page = client.post("/en/wizard/paste/", {"text": "CPU 100%"}).content.decode()
    assert "Articles that match your text" not in page and "No article matches it either." in page
