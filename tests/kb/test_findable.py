"""What web search reads: sitemap.xml with hreflang alternates for the texts that exist, a
canonical link, and a meta description made from the article's own words."""

import re
import xml.etree.ElementTree as ET

import pytest

from kb import languages, reports
from kb.models import Revision
from kb.sources import body_hash
from kb.templatetags.kb_tags import all_flagged
from tests.conftest import make_article

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


def add_text(article, lang, title, body):
    return Revision.objects.create(
        article=article,
        lang=lang,
        number=1,
        title=title,
        body=body,
        body_hash=body_hash(body),
        html=f"<p>{body}</p>",
        headings=[],
        source_path=f"test/{article.slug}/{lang}.md",
    )


def sitemap(client, **headers):
    response = client.get("/sitemap.xml", **headers)
    assert response.status_code == 200
    return {
        url.findtext("s:loc", namespaces=NS): {
            link.get("hreflang"): link.get("href") for link in url.findall("x:link", NS)
        }
        for url in ET.fromstring(response.content).findall("s:url", NS)
    }


@pytest.mark.django_db
class TestSitemap:
    def test_each_text_once_with_its_translations_as_alternates(self, client):
        both = make_article("both", title="再起動", body="再起動します。")
        add_text(both, "en", "Restart", "Restart it.")
        make_article("ja-only", title="日本語だけ", body="日本語だけの記事です。")
        urls = sitemap(client)
        ja, en = "http://testserver/ja/articles/both/", "http://testserver/en/articles/both/"
        assert urls[ja] == urls[en] == {"ja": ja, "en": en}
        # A text that does not exist is not offered (the English page would show the Japanese one).
        assert urls["http://testserver/ja/articles/ja-only/"] == {"ja": "http://testserver/ja/articles/ja-only/"}
        assert "http://testserver/en/articles/ja-only/" not in urls

    def test_withdrawn_articles_are_left_out_and_the_pages_are_in_every_language(self, client):
        from django.utils import timezone

        make_article("gone", withdrawn_at=timezone.now())
        urls = sitemap(client)
        assert not any("/gone/" in url for url in urls)
        for lang in languages.codes():
            assert f"http://testserver/{lang}/" in urls
            assert f"http://testserver/{lang}/wizard/" in urls

    def test_addresses_come_from_the_site_s_address_not_the_host_asked(self, client, settings):
        make_article("both", title="再起動", body="再起動します。")
        settings.ALLOWED_HOSTS = ["kb.example", "evil.example"]
        settings.KB_SITE_URL = "https://kb.example"
        response = client.get("/sitemap.xml", HTTP_HOST="evil.example")
        assert b"evil.example" not in response.content
        assert "https://kb.example/ja/articles/both/" in sitemap(client, HTTP_HOST="evil.example")

    def test_robots_names_the_sitemap(self, client):
        body = client.get("/robots.txt").content.decode()
        assert "Sitemap: http://testserver/sitemap.xml" in body


@pytest.mark.django_db
class TestPageHead:
    def test_an_article_names_its_canonical_address_alternates_and_description(self, client):
        article = make_article("both", title="再起動", body="VM を再起動すると一時ディスクのデータは失われます。")
        add_text(article, "en", "Restart", "Restarting a VM loses the data on its temporary disk.")
        body = client.get("/en/articles/both/").content.decode()
        assert '<link rel="canonical" href="http://testserver/en/articles/both/">' in body
        assert '<link rel="alternate" hreflang="ja" href="http://testserver/ja/articles/both/">' in body
        assert '<meta name="description" content="Restarting a VM loses the data on its temporary disk.">' in body

    def test_an_article_shown_in_another_language_is_canonical_in_its_own(self, client):
        make_article("ja-only", title="日本語だけ", body="日本語だけの記事です。")
        body = client.get("/en/articles/ja-only/").content.decode()
        assert '<link rel="canonical" href="http://testserver/ja/articles/ja-only/">' in body
        assert 'hreflang="en" href="http://testserver/en/articles/ja-only/"' not in body

    def test_other_pages_have_their_own_description_and_search_is_not_indexed(self, client):
        home = client.get("/en/").content.decode()
        search = client.get("/en/search/?q=restart").content.decode()
        assert '<link rel="canonical" href="http://testserver/en/">' in home
        description = re.compile(r'<meta name="description" content="([^"]+)">')
        assert description.search(home).group(1) != description.search(search).group(1)
        assert "restart" in description.search(search).group(1)
        assert '<meta name="robots" content="noindex, follow">' in search and "noindex" not in home

    def test_pages_name_the_site_s_address_whatever_host_was_asked(self, client, settings):
        settings.ALLOWED_HOSTS = ["kb.example", "other.example"]
        settings.KB_SITE_URL = "https://kb.example"
        for host in ("other.example", "kb.example", "other.example"):  # the second is the cached page
            body = client.get("/en/", HTTP_HOST=host).content.decode()
            assert '<link rel="canonical" href="https://kb.example/en/">' in body
            assert "other.example" not in body


class TestDescription:
    def test_the_first_paragraphs_until_there_is_enough(self):
        html = (
            "<p>こんにちは、Azure サポートチームです。</p>"
            "<p>VM が「更新中」のまま進まない場合、<code>NSG</code> の送信規則を確認します。</p>"
        )
        assert reports.description(html) == (
            "こんにちは、Azure サポートチームです。 VM が「更新中」のまま進まない場合、NSG の送信規則を確認します。"
        )

    def test_cut_to_what_web_search_shows_and_plain_text(self):
        html = "<p>" + "Restart &amp; redeploy the VM. " * 20 + "</p><p>Never reached.</p>"
        text = reports.description(html)
        assert len(text) == reports.DESCRIPTION_CHARACTERS and text.endswith("…")
        assert text.startswith("Restart & redeploy the VM.") and "<" not in text and "Never" not in text

    def test_alert_titles_are_not_the_article_s_words(self):
        html = '<div class="admonition note"><p class="admonition-title">Note</p><p>Back up the disk first.</p></div>'
        assert reports.description(html) == "Back up the disk first."

    def test_a_text_without_paragraphs_has_no_description_of_its_own(self):
        assert reports.description("<pre><code>waagent -version</code></pre>") == ""


class TestWrittenIn:
    @pytest.mark.parametrize(
        ("text", "page", "expected"),
        [
            ("プロビジョニング", "en", "ja"),
            ("一時ディスク", "ja", "ja"),
            ("provisioning", "ja", "en"),
            ("temporary disk", "en", "en"),
        ],
    )
    def test_the_language_of_typed_words(self, text, page, expected):
        assert languages.written_in(text, page) == expected


class TestAllFlagged:
    def test_only_when_every_article_is_flagged_or_gone(self):
        warned = {"flags": [{"rule_id": "archived-tag", "severity": "warning"}]}
        aged = {"flags": [{"rule_id": "age-guide", "severity": "info"}]}
        clean, gone = {"flags": []}, {"flags": [], "missing": True}
        assert all_flagged([warned, gone])
        assert not all_flagged([warned, clean])
        assert not all_flagged([warned, aged])  # its age alone does not put every step in doubt
        assert not all_flagged([])
