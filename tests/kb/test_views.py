"""Reading articles over HTTP: languages, history, diffs, lists, the editor's page."""

from urllib.parse import quote, unquote

import pytest
from django.contrib.auth.models import User

from kb.models import Article, Revision
from tests.conftest import article_file, make_article, run

NSG = "vm-stuck-in-updating-when-nsg-rule-restricts-outbound-internet-connectivity"


@pytest.mark.usefixtures("seeds")
class TestArticlePage:
    def test_japanese_page_with_its_metadata(self, client):
        body = client.get(f"/ja/articles/{NSG}/").content.decode()
        assert '<html lang="ja">' in body
        assert "NSG のルールでインターネットへの通信を制限している際に" in body
        assert '<time datetime="2016-05-06T17:38:18+09:00">2016-05-06</time>' in body
        assert "<dd>r1 · " in body and 'class="tag" href="/ja/articles/?tag=Archive">Archive</a>' in body
        assert 'href="/en/articles/' + NSG + '/"' in body  # the language switch keeps the page

    def test_flags_come_before_the_text_in_the_pages_language(self, client):
        body = client.get(f"/en/articles/{NSG}/").content.decode()
        flags = body.index('class="flags"')
        assert flags < body.index('class="prose"')
        assert "Mentions <code>Get-AzureRmVM</code> from the AzureRM PowerShell module" in body
        assert "Links to blogs.msdn.microsoft.com, which no longer exists." in body

    def test_an_rca_shows_its_incident(self, client):
        body = client.get("/en/articles/20211013-rca-azure-vm/").content.decode()
        assert "0NC_-L9G" in body and "2021-10-13 15:27–21:42 JST" in body

    def test_headings_have_anchors_for_the_wizard(self, client):
        body = client.get("/ja/articles/vmagent-notready/").content.decode()
        assert 'id="シナリオ1--仮想マシンエージェントが停止している"' in body

    def test_unknown_article_is_a_404_in_the_visitors_language(self, client):
        response = client.get("/ja/articles/no-such-article/")
        assert response.status_code == 404 and '<html lang="ja">' in response.content.decode()

    def test_the_root_goes_to_the_browsers_language(self, client):
        assert client.get("/", headers={"accept-language": "en-US,en;q=0.9"})["Location"] == "/en/"
        assert client.get("/", headers={"accept-language": "ja"})["Location"] == "/ja/"

    def test_every_page_offers_the_other_language_with_the_query_kept(self, client):
        body = client.get("/en/search/?q=VM").content.decode()
        assert 'href="/ja/search/?q=VM"' in body

    def test_lists_filter_by_kind_and_tag(self, client):
        rca = client.get("/en/articles/?kind=rca").content.decode()
        assert "20211013-rca-azure-vm" in rca and "vmagent-notready" not in rca
        tagged = client.get("/en/articles/?tag=Archive").content.decode()
        assert NSG in tagged and "windows-vm-extensions" not in tagged

    def test_every_page_has_an_icon_and_so_does_favicon_ico(self, client):
        icon = client.get("/favicon.ico")
        assert icon.status_code == 301 and icon["Location"].endswith(".svg")
        assert f'<link rel="icon" href="{icon["Location"]}"' in client.get("/en/").content.decode()

    def test_ui_strings_are_translated(self, client):
        ja = client.get("/ja/").content.decode()
        en = client.get("/en/").content.decode()
        assert "トラブルシューティング ウィザード" in ja and "Troubleshooting wizard" in en


@pytest.mark.django_db
class TestLanguageFallback:
    def test_a_missing_translation_shows_the_other_language_with_a_notice(self, client):
        make_article("only-ja", title="日本語だけ", body="本文です。")
        body = client.get("/en/articles/only-ja/").content.decode()
        assert "not available in English yet" in body and "日本語だけ" in body
        assert '<article class="article" lang="ja">' in body


@pytest.mark.django_db
class TestHistoryAndDiff:
    @pytest.fixture
    def edited(self, content_dir):
        path = article_file(
            content_dir,
            "agent",
            "ja",
            title="エージェント",
            body="仮想マシン エージェントが停止している場合、サービスを起動してください。\n\n変わらない段落です。",
        )
        run(content_dir)
        path.write_text(
            path.read_text(encoding="utf-8").replace("起動してください", "再起動してから状態を確認してください"),
            encoding="utf-8",
        )
        run(content_dir)

    def test_history_lists_every_revision(self, client, edited):
        body = client.get("/ja/articles/agent/ja/history/").content.decode()
        assert "/ja/articles/agent/ja/r1/" in body and "/ja/articles/agent/ja/r2/" in body

    def test_an_old_revision_is_readable_and_says_so(self, client, edited):
        body = client.get("/ja/articles/agent/ja/r1/").content.decode()
        assert "起動してください" in body and "r1" in body and "/ja/articles/agent/" in body

    def test_the_diff_marks_the_change_inside_the_line(self, client, edited):
        body = client.get("/ja/articles/agent/ja/diff/?from=1&to=2").content.decode()
        assert "<ins>再</ins>" in body
        assert "<ins>から状態を確認して</ins>" in body
        assert "変わらない段落です。" in body  # context

    def test_a_diff_of_missing_revisions_is_a_clear_404(self, client, edited):
        response = client.get("/ja/articles/agent/ja/diff/?from=1&to=9")
        assert response.status_code == 404 and 'class="notice notice-warning"' in response.content.decode()

    def test_garbage_revision_numbers_fall_back_to_the_last_change(self, client, edited):
        response = client.get("/ja/articles/agent/ja/diff/?from=x&to=%00")
        body = response.content.decode()
        assert response.status_code == 200 and "r1 → r2: " in body and "<ins>再</ins>" in body


@pytest.mark.django_db
class TestWithdrawn:
    def test_a_withdrawn_article_says_so_and_is_not_listed(self, client, content_dir):
        path = article_file(content_dir, "old", "ja", title="古い記事", body="本文")
        run(content_dir)
        path.unlink()
        run(content_dir)
        body = client.get("/ja/articles/old/").content.decode()
        assert 'class="notice notice-warning"' in body and "古い記事" in body
        assert "/ja/articles/old/" not in client.get("/ja/articles/").content.decode()


@pytest.mark.django_db
class TestEditor:
    def test_only_staff_see_the_editor_page(self, client):
        assert client.get("/en/editor/").status_code == 302
        client.force_login(User.objects.create_user("reader"))
        assert client.get("/en/editor/").status_code == 302

    def test_it_lists_flagged_articles_and_coverage(self, client, real_content):
        run(real_content)
        client.force_login(User.objects.create_user("editor", is_staff=True))
        body = client.get("/en/editor/?sort=age").content.decode()
        assert NSG in body and "azurerm-powershell" in body
        assert "5 of 5 articles current" in body
        assert body.index(NSG) < body.index("vmagent-notready")  # oldest first

    def test_admin_is_read_only(self, client, real_content):
        run(real_content)
        client.force_login(User.objects.create_superuser("admin", "a@example.com", "pw"))
        revision = Revision.objects.first()
        assert client.get(f"/admin/kb/revision/{revision.pk}/change/").status_code == 200
        assert client.post(f"/admin/kb/revision/{revision.pk}/change/", {"title": "x"}).status_code == 403
        assert client.get("/admin/kb/article/?q=vmagent").status_code == 200
        assert Article.objects.count() == 5


@pytest.mark.usefixtures("seeds")
def test_search_pages_link_to_each_other_keeping_the_query(client):
    body = client.get("/en/search/?q=VM&limit=3&lang=all").content.decode()
    assert 'href="/en/search/?q=VM&amp;limit=3&amp;lang=all&amp;page=2"' in body
    assert 'hx-target="#search-results"' in body
    second = client.get("/en/search/?q=VM&limit=3&lang=all&page=2").content.decode()
    assert 'rel="prev"' in second and "page=1" in second


@pytest.mark.usefixtures("seeds")
def test_search_results_name_their_kind_in_the_pages_language(client):
    url = "/{}/search/?q=VM&lang=all&limit=50"
    en, ja = (client.get(url.format(lang)).content.decode() for lang in ("en", "ja"))
    for label in ('kind-rca">RCA<', 'kind-guide">Guide<', 'kind-reference">Reference<'):
        assert label in en
    for label in ('kind-rca">RCA<', 'kind-guide">ガイド<', 'kind-reference">リファレンス<'):
        assert label in ja


@pytest.mark.django_db
def test_a_revision_knows_its_own_url(client):
    revision = make_article("url-test", title="題名のテスト", body="本文のテスト").revisions.get()
    assert revision.get_absolute_url().endswith("/articles/url-test/ja/r1/")  # in the active UI language
    body = client.get(revision.get_absolute_url()).content.decode()
    assert "<h1>題名のテスト</h1>" in body and "<p>本文のテスト</p>" in body


@pytest.mark.django_db
def test_the_table_of_contents_numbers_only_the_top_headings(client, content_dir):
    body = "## One\n\nx\n\n### One a\n\n### One b\n\n## Two\n\n### Two a\n\n## Three\n"
    article_file(content_dir, "toc", "en", title="Contents", body=body)
    run(content_dir)
    page = client.get("/en/articles/toc/").content.decode()
    toc = page[page.index('<nav class="toc"') : page.index("</nav>", page.index('<nav class="toc"'))]
    numbered = toc[toc.index("<ol>") :]
    top = [line for line in numbered.split("<li>") if line.startswith('<a href="#')]
    assert [item.split('"')[1] for item in top] == ["#one", "#one-a", "#one-b", "#two", "#two-a", "#three"]
    assert numbered.count("<ul>") == 2  # the level below sits in unnumbered lists
    assert numbered.index("#one-b") < numbered.index("</ul>") < numbered.index("#two")


@pytest.mark.usefixtures("seeds")
@pytest.mark.parametrize(
    ("lang", "words", "example", "wizard"),
    [
        (
            "en",
            "Type a symptom, an error message or an IP address",
            "VM stuck updating",
            "Not sure what to search for?",
        ),
        ("ja", "症状、エラー メッセージ、IP アドレスを", "更新中", "何を検索すればよいかわからないときは"),
    ],
)
def test_an_empty_search_says_what_to_type_with_examples_and_the_wizard(client, lang, words, example, wizard):
    for url in (f"/{lang}/search/?q=", f"/{lang}/search/", f"/{lang}/search/?q=+++"):
        body = client.get(url).content.decode()
        hint = body[body.index('<div class="search-hint">') : body.index("</div>", body.index('class="search-hint"'))]
        assert words in hint and wizard in hint
        assert f'href="/{lang}/wizard/"' in hint
        assert f'href="/{lang}/search/?q={quote(example)}"' in hint
        assert hint.count("<li>") >= 4
    # The live search's partial, when the box is emptied, says the same (not a blank list).
    partial = client.get(f"/{lang}/search/?q=", headers={"HX-Request": "true"}).content.decode()
    assert 'class="search-hint"' in partial and words in partial
    # Every example finds something.
    for li in hint.split("<li>")[1:]:
        query = li.split("?q=")[1].split('"')[0]
        response = client.get(f"/{lang}/search/?q={query}")
        assert int(response["X-Result-Count"]) > 0, unquote(query)
