"""The content languages come from settings.LANGUAGES: a third language is a settings and
content change, with no code change."""

import io
import json

import pytest
from django.core.management.base import CommandError

from kb.models import Flag, Revision
from tests.conftest import article_file, run, write

THREE_LANGUAGES = [("ja", "Japanese"), ("en", "English"), ("zh-hans", "Simplified Chinese")]

RULES = """
rules:
  - id: archived-tag
    type: tag
    code: archived
    severity: warning
    tags: [Archive]
    message:
      ja: "アーカイブ済みの記事です。"
      en: "This article is archived."
      zh-hans: "这篇文章已归档。"
  - id: translation-behind
    type: translation
    severity: warning
    message:
      ja: "この{lang}版は{source_lang}の原文の古い版 (r{source_number}) から翻訳されました。"
      en: "This {lang} text was translated from an older {source_lang} text (r{source_number})."
      zh-hans: "此{lang}版本译自{source_lang}原文的旧版本 (r{source_number})。"
"""


@pytest.fixture
def three_languages(settings, content_dir):
    settings.LANGUAGES = THREE_LANGUAGES
    write(content_dir / "staleness.yaml", RULES)
    article_file(
        content_dir, "disk", "ja", title="OS ディスクの拡張", body="OS ディスクを拡張する手順です。", tags="[Archive]"
    )
    article_file(
        content_dir,
        "disk",
        "en",
        title="Expanding the OS disk",
        body="How to expand the OS disk.",
        translated_from="ja",
    )
    article_file(
        content_dir,
        "disk",
        "zh-hans",
        title="扩展操作系统磁盘",
        body="## 步骤\n\n先停止虚拟机，然后在门户中扩展磁盘。",
        translated_from="ja",
    )
    report = run(content_dir)
    assert report.ok, report.problems
    return content_dir


@pytest.mark.django_db
def test_a_three_language_article_is_imported_rendered_searched_and_flagged(three_languages, client):
    assert sorted(Revision.objects.current().values_list("lang", flat=True)) == ["en", "ja", "zh-hans"]
    assert Flag.objects.get(revision__lang="zh-hans").reason("zh-hans") == "这篇文章已归档。"

    page = client.get("/zh-hans/articles/disk/").content.decode()
    assert '<html lang="zh-hans">' in page and "<h1>扩展操作系统磁盘</h1>" in page
    assert "这篇文章已归档。" in page
    assert 'href="/ja/articles/disk/"' in page and 'href="/en/articles/disk/"' in page  # the other two texts

    results = client.get("/api/search", {"q": "磁盘", "lang": "zh-hans"}).json()["results"]
    assert [(hit["slug"], hit["lang"]) for hit in results] == [("disk", "zh-hans")]
    search_page = client.get("/zh-hans/search/", {"q": "磁盘"}).content.decode()
    assert "扩展操作系统磁盘" in search_page and 'value="zh-hans"' in search_page  # a language filter of its own


@pytest.mark.django_db
def test_a_language_that_is_not_configured_is_refused_with_its_file(settings, content_dir):
    path = article_file(content_dir, "disk", "zh-hans", title="扩展磁盘", body="正文")
    report = run(content_dir)
    assert [str(problem) for problem in report.problems] == [f"{path}: unknown language file (use ja.md, en.md)"]


@pytest.mark.django_db
def test_a_translation_behind_names_both_languages_in_each_language(three_languages):
    source = three_languages / "articles" / "disk" / "ja.md"
    source.write_text(source.read_text(encoding="utf-8").replace("手順です", "手順を説明します"), encoding="utf-8")
    assert run(three_languages).ok
    flag = Flag.objects.get(revision__lang="zh-hans", rule_id="translation-behind")
    assert flag.reason("ja") == "この簡体字中国語版は日本語の原文の古い版 (r1) から翻訳されました。"
    assert flag.reason("en") == "This Simplified Chinese text was translated from an older Japanese text (r1)."
    assert flag.reason("zh-hans") == "此简体中文版本译自日语原文的旧版本 (r1)。"


@pytest.mark.django_db
def test_a_third_language_renders_its_alerts_and_is_a_choice_of_the_commands(three_languages, settings):
    """Alert titles come from the UI translations: Japanese has them (注記), Simplified
    Chinese has none yet and keeps pymdownx's English title; the commands' --lang choices
    are the configured languages."""
    from django.core.management import call_command

    from kb.rendering import render

    note = "> [!NOTE]\n> 先停止虚拟机。"
    assert '<p class="admonition-title">Note</p>' in render(note, slug="disk", lang="zh-hans").html
    assert '<p class="admonition-title">注記</p>' in render(note, slug="disk", lang="ja").html

    out = io.StringIO()
    call_command("search", "磁盘", "--lang", "zh-hans", "--json", stdout=out)
    assert [(hit["slug"], hit["lang"]) for hit in json.loads(out.getvalue())["results"]] == [("disk", "zh-hans")]
    call_command("staleness", "--lang", "zh-hans", "--json", stdout=io.StringIO())
    settings.LANGUAGES = THREE_LANGUAGES[:2]
    with pytest.raises(CommandError, match="invalid choice: 'zh-hans'"):
        call_command("search", "磁盘", "--lang", "zh-hans")
