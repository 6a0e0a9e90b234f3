"""Faults: a lost index, an import that dies half-way, a database that is away."""

import pytest
from django.core.management import CommandError, call_command

from kb import search
from kb.models import Article, Flag, Revision
from tests.conftest import article_file, run


@pytest.mark.usefixtures("seeds")
class TestIndexUnusable:
    @pytest.fixture
    def broken_index(self, settings, tmp_path):
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("the index path is a file: nothing can be built here")
        settings.KB_INDEX_DIR = blocker / "index"
        search.forget_searchers()

    def test_the_search_page_says_so_in_the_visitors_language(self, client, broken_index):
        response = client.get("/ja/search/", {"q": "更新中"})
        assert response.status_code == 503 and response["Retry-After"] == "60"
        body = response.content.decode()
        assert '<html lang="ja">' in body and 'role="alert"' in body

    def test_the_api_answers_503_json(self, client, broken_index):
        response = client.get("/api/search", {"q": "VM"})
        assert response.status_code == 503 and response["Retry-After"] == "60"
        assert response.json() == {"error": "search is being rebuilt; try again in a minute"}

    def test_articles_still_read_without_the_index(self, client, broken_index):
        assert client.get("/en/articles/vmagent-notready/").status_code == 200


@pytest.mark.django_db
class TestImportDiesHalfway:
    def test_the_database_keeps_the_previous_complete_state(self, content_dir, monkeypatch):
        first = article_file(content_dir, "one", "ja", title="一", body="最初の本文")
        run(content_dir)
        before = sorted(Revision.objects.values_list("article__slug", "number", "body"))
        first.write_text(first.read_text(encoding="utf-8").replace("最初", "二番目"), encoding="utf-8")
        article_file(content_dir, "two", "ja", title="二", body="新しい記事")

        def die(*args, **kwargs):
            raise RuntimeError("killed after the revisions were written")

        monkeypatch.setattr("kb.staleness_flags.refresh_flags", die)
        with pytest.raises(CommandError, match="nothing was imported: killed after the revisions were written"):
            call_command("import_content", str(content_dir), verbosity=0)
        assert sorted(Revision.objects.values_list("article__slug", "number", "body")) == before
        assert not Article.objects.filter(slug="two").exists()

    def test_the_next_import_completes_it(self, content_dir, monkeypatch):
        article_file(content_dir, "one", "ja", title="一", body="Get-AzureRmVM")
        monkeypatch.setattr(
            "kb.staleness_flags.refresh_flags", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom"))
        )
        with pytest.raises(CommandError):
            call_command("import_content", str(content_dir), verbosity=0)
        monkeypatch.undo()
        call_command("import_content", str(content_dir), verbosity=0)
        assert Flag.objects.filter(rule_id="azurerm-powershell", revision__article__slug="one").count() == 1


@pytest.mark.django_db
class TestDatabaseAway:
    @pytest.mark.parametrize(("lang", "text"), [("ja", "一時的に利用できません"), ("en", "Temporarily unavailable")])
    def test_a_503_page_in_the_visitors_language(self, client, database_away, lang, text):
        response = client.get(f"/{lang}/articles/vmagent-notready/")
        assert response.status_code == 503
        body = response.content.decode()
        assert text in body and f'<html lang="{lang}">' in body and "Traceback" not in body
        assert response["Retry-After"] == "30"


@pytest.mark.django_db
def test_a_5_mb_article_imports_renders_and_is_found(content_dir, client):
    """Nothing refuses a large article: it is imported, shown and searchable (the import takes
    a few seconds: README, "Faults and limits")."""
    from kb import search

    paragraph = "仮想マシンのディスクを拡張する手順を説明します。VMExtensionProvisioningError が発生した場合の確認事項です。\n\n"
    body = paragraph * (5_000_000 // len(paragraph.encode()) + 1) + "最後の段落: zanzibarquokka。\n"
    assert len(body.encode()) >= 5_000_000
    article_file(content_dir, "huge", "ja", title="とても長い記事", body=body)
    assert run(content_dir).ok
    page = client.get("/ja/articles/huge/")
    assert page.status_code == 200 and "zanzibarquokka" in page.content.decode()
    assert [hit.slug for hit in search.search("zanzibarquokka").hits] == ["huge"]
