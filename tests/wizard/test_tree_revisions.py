"""Trees change over time: old permalinks keep their meaning, broken trees never go live."""

import pytest

from tests.conftest import run
from tests.wizard.test_views import AGENT_STOPPED, result_url, step_url
from wizard.models import TreeRevision


@pytest.mark.django_db
class TestTreeRevisions:
    def test_an_old_permalink_shows_the_result_it_recorded_with_a_notice(self, client, real_content):
        assert run(real_content).ok
        tree = real_content / "wizard" / "vm-troubleshooting.yaml"
        text = tree.read_text(encoding="utf-8")
        # r2: "stopped" now leads to the wire-server result instead.
        changed = text.replace("next: result-agent-stopped", "next: result-wireserver-blocked", 1)
        assert changed != text
        tree.write_text(changed, encoding="utf-8")
        assert run(real_content).ok
        assert TreeRevision.objects.get(is_current=True).number == 2
        body = client.get(result_url("result-agent-stopped", AGENT_STOPPED, r=1)).content.decode()
        assert "changed since this link was made" in body and "The VM agent is stopped" in body

    def test_a_broken_tree_is_refused_and_the_previous_tree_stays_live(self, client, real_content):
        assert run(real_content).ok
        tree = real_content / "wizard" / "vm-troubleshooting.yaml"
        tree.write_text(
            tree.read_text(encoding="utf-8").replace("next: result-agent-stopped", "next: result-gone", 1),
            encoding="utf-8",
        )
        report = run(real_content)
        assert [str(p) for p in report.problems] == [f"{tree}: node agent-service: leads to unknown node 'result-gone'"]
        assert TreeRevision.objects.count() == 1
        assert client.get(step_url(AGENT_STOPPED)).status_code == 302

    def test_an_updated_article_is_noticed_on_an_old_permalink(self, client, real_content):
        assert run(real_content).ok
        article = real_content / "articles" / "vmagent-notready" / "en.md"
        article.write_text(article.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
        assert run(real_content).ok
        body = client.get(result_url("result-agent-stopped", AGENT_STOPPED, r=1, at="2020-01-01")).content.decode()
        assert "An article this result cites was updated since this link was made." in body
