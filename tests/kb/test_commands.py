import json

import pytest
from django.core.management import CommandError, call_command

from kb import search
from kb.search import index as search_index
from tests.conftest import CONTENT, write


@pytest.mark.usefixtures("seeds")
class TestReadCommands:
    def test_search_prints_the_api_json(self, capsys):
        call_command("search", "VMExtensionProvisioningError", "--lang", "ja", "--json")
        payload = json.loads(capsys.readouterr().out)
        assert payload["total"] == 1
        assert (
            payload["results"][0]["slug"]
            == "vm-stuck-in-updating-when-nsg-rule-restricts-outbound-internet-connectivity"
        )
        assert (
            payload["results"][0]["url"]
            == "/ja/articles/vm-stuck-in-updating-when-nsg-rule-restricts-outbound-internet-connectivity/"
        )

    def test_search_prints_a_table(self, capsys):
        call_command("search", "0NC_-L9G")
        out = capsys.readouterr().out
        assert out.startswith("2 result(s) for '0NC_-L9G'") and "rca" in out

    def test_staleness_table_and_json(self, capsys):
        call_command("staleness", "--sort", "age")
        table = capsys.readouterr().out
        assert "azurerm-powershell" in table and "coverage en: 5/5 current (100 %)" in table
        call_command("staleness", "--json", "--lang", "ja")
        payload = json.loads(capsys.readouterr().out)
        first = payload["flagged"][0]
        assert first["slug"] == "vm-stuck-in-updating-when-nsg-rule-restricts-outbound-internet-connectivity"
        assert any("AzureRM は 2024 年 2 月 29 日に廃止" in flag["reason"] for flag in first["flags"])


def test_check_content_validates_without_writing(db, capsys, tmp_path):
    from kb.models import Article, Revision

    before = (Article.objects.count(), Revision.objects.count())
    call_command("check_content", str(CONTENT))
    assert "valid: 10 texts, 1 tree" in capsys.readouterr().out
    write(tmp_path / "blog" / "bad.md", "---\ntitle: x\ndate: tomorrow\n---\nbody\n")
    with pytest.raises(CommandError, match="1 problem"):
        call_command("check_content", str(tmp_path / "blog"))
    assert (Article.objects.count(), Revision.objects.count()) == before


def test_rebuild_index_recreates_a_lost_index_from_the_database(seeds, settings, tmp_path, capsys):

    settings.KB_INDEX_DIR = tmp_path / "fresh"
    search.forget_searchers()
    call_command("rebuild_index")
    assert capsys.readouterr().out.startswith("indexed 10 texts in ")
    assert search_index.usable(settings.KB_INDEX_DIR) and search_index.read_marker(settings.KB_INDEX_DIR) > 0
    assert [hit.slug for hit in search.search("0NC_-L9G", lang="ja").hits] == ["20211013-rca-azure-vm"]
