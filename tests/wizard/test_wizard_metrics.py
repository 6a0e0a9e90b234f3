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
