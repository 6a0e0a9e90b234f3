"""Trees change over time: old permalinks keep their meaning, broken trees never go live."""

import pytest
import yaml

from tests.conftest import run
from tests.wizard.conftest import tree_data
from wizard.models import TreeRevision

STOPPED = "/en/wizard/small/result/r-stopped/?a=symptom.agent,connect.can,service.stopped&r=1"


def change_tree(content_dir, mutate):
    data = tree_data()
    mutate(data)
    (content_dir / "wizard" / "small.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return run(content_dir)


@pytest.mark.django_db
class TestTreeRevisions:
    def test_a_permalink_whose_answers_now_lead_elsewhere_shows_the_result_it_recorded(self, client, wizard_site):
        def stopped_is_now_blocked(data):
            data["nodes"]["service"]["answers"][0]["next"] = "r-blocked"
            data["nodes"]["noise"]["answers"][1]["next"] = "r-stopped"  # still reachable elsewhere

        assert change_tree(wizard_site, stopped_is_now_blocked).ok
        assert TreeRevision.objects.get(is_current=True).number == 2
        body = client.get(STOPPED).content.decode()
        assert 'data-node="r-stopped"' in body and "This is the result as it was then" in body

    def test_a_permalink_whose_result_is_unchanged_says_the_tree_was_updated(self, client, wizard_site):
        def reword(data):
            data["nodes"]["serial"]["question"] = {"ja": "ログイン プロンプト？", "en": "A login prompt?"}

        assert change_tree(wizard_site, reword).ok
        body = client.get(STOPPED).content.decode()
        assert 'data-node="r-stopped"' in body and "this result is still the same" in body

    def test_a_broken_tree_is_refused_and_the_previous_tree_stays_live(self, client, wizard_site):
        def broken(data):
            data["nodes"]["service"]["answers"][0]["next"] = "r-gone"

        report = change_tree(wizard_site, broken)
        tree = wizard_site / "wizard" / "small.yaml"
        line = tree.read_text(encoding="utf-8").splitlines().index("  service:") + 1
        assert f"{tree}:{line}: node service: leads to unknown node 'r-gone'" in [str(p) for p in report.problems]
        assert TreeRevision.objects.count() == 1
        assert client.get(STOPPED).status_code == 200

    def test_an_updated_article_is_noticed_on_an_old_permalink(self, client, wizard_site):
        article = wizard_site / "articles" / "a" / "en.md"
        article.write_text(article.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
        assert run(wizard_site).ok
        body = client.get(STOPPED + "&at=2020-01-01").content.decode()
        assert "An article this result cites was updated since this link was made." in body

    def test_a_deleted_current_revision_does_not_break_the_next_import(self, wizard_site):
        def title(text):
            return lambda data: data.update(title={"ja": text, "en": text})

        assert change_tree(wizard_site, title("second")).ok
        TreeRevision.objects.filter(is_current=True).delete()  # r2, by hand: the admin no longer can
        assert change_tree(wizard_site, title("third")).ok
        assert list(TreeRevision.objects.values_list("number", "is_current")) == [(1, False), (2, True)]
