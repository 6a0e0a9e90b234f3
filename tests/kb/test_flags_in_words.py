"""Staleness flags shown as their reasons, in the page's language, in the page itself (not a
tooltip of rule ids): on article lists, search hits and the wizard's results, and a result
whose articles are all flagged says so before anything else."""

import re

import pytest

from tests.conftest import TINY_TREE, article_file, run, write

RETIRED_JA = "AzureRM は 2024 年 2 月 29 日に廃止されました"
RETIRED_EN = "retired since 29 Feb 2024"


def import_agent(content_dir, body_ja, body_en):
    article_file(content_dir, "agent", "ja", title="エージェントの確認", body=body_ja)
    article_file(content_dir, "agent", "en", title="Checking the agent", body=body_en, translated_from="ja")
    write(content_dir / "wizard" / "tiny.yaml", TINY_TREE)
    assert run(content_dir).ok


@pytest.fixture
def flagged(content_dir):
    import_agent(
        content_dir,
        "エージェントの状態は `Get-AzureRmVM` で確認します。",
        "Check the agent's status with `Get-AzureRmVM`.",
    )


@pytest.mark.django_db
class TestReasonsInWords:
    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("/ja/articles/", RETIRED_JA),
            ("/en/articles/", RETIRED_EN),
            ("/ja/search/?q=Get-AzureRmVM", RETIRED_JA),
            ("/en/search/?q=Get-AzureRmVM", RETIRED_EN),
            ("/ja/wizard/tiny/result/r-can/?a=q.can", RETIRED_JA),
            ("/en/wizard/tiny/result/r-can/?a=q.can", RETIRED_EN),
        ],
    )
    def test_each_flag_is_its_reason_in_the_page_s_language(self, flagged, client, url, reason):
        body = client.get(url).content.decode()
        listed = re.findall(r'<li class="flag flag-\w+" data-rule="azurerm-powershell">(.*?)</li>', body, re.S)
        assert listed and reason in listed[0]
        assert "<code>Get-AzureRmVM</code>" in listed[0]  # the command named, as code
        assert 'title="azurerm-powershell' not in body  # no tooltip of rule ids any more

    def test_a_result_whose_articles_are_all_flagged_says_so_first(self, flagged, client):
        body = client.get("/en/wizard/tiny/result/r-can/?a=q.can").content.decode()
        notice = body.find('class="notice notice-warning all-flagged"')
        assert notice != -1 and notice < body.find('class="cause"') and notice < body.find('class="why"')
        banner = body[notice : body.index("</div>", notice)]
        assert RETIRED_EN in banner  # which flag, in words

    def test_an_article_flagged_only_for_its_age_does_not_put_every_step_in_doubt(self, content_dir, client):
        import_agent(content_dir, "エージェントの状態を確認します。", "Check the agent's status.")
        from kb.models import Flag, Revision

        for revision in Revision.objects.all():
            Flag.objects.create(revision=revision, rule_id="age-guide", code="age", severity="info")
        body = client.get("/en/wizard/tiny/result/r-can/?a=q.can").content.decode()
        assert 'data-rule="age-guide"' in body and "all-flagged" not in body

    def test_a_result_with_a_current_article_does_not(self, content_dir, client):
        import_agent(content_dir, "エージェントの状態を確認します。", "Check the agent's status.")
        body = client.get("/en/wizard/tiny/result/r-can/?a=q.can").content.decode()
        assert 'class="cause"' in body and "all-flagged" not in body
