"""The glossary and the term bridge, on small fixtures: a query in one language finds texts in
the other through content/glossary.yaml, below a direct match, labelled and highlighted; a
broken glossary is refused with its lines and the previous one keeps working."""

import pytest

from kb import glossary, glossary_proposals
from kb.models import Glossary, Revision
from kb.search import search
from tests.conftest import article_file, run, write

GLOSSARY = """\
terms:
  - ja: [一時ディスク]
    en: [temporary disk, temp disk]
  - ja: [割り当て解除]
    en: [deallocate]
"""


@pytest.fixture
def bilingual(content_dir):
    """A Japanese-only text and an English-only text saying the same thing, and the glossary."""
    write(content_dir / "glossary.yaml", GLOSSARY)
    article_file(
        content_dir,
        "tempdisk-ja",
        "ja",
        title="一時ディスクのデータについて",
        body="一時ディスクのデータは、仮想マシンの割り当て解除で失われます。",
    )
    article_file(
        content_dir,
        "tempdisk-en",
        "en",
        title="About data on the temporary disk",
        body="Data on the temporary disk is lost when the virtual machine is deallocated.",
    )
    assert run(content_dir).ok
    return content_dir


def slugs(results):
    return [hit.slug for hit in results.hits]


@pytest.mark.django_db
class TestBridge:
    def test_an_english_query_finds_the_japanese_text_and_says_how(self, bilingual):
        results = search("temporary disk deallocated", prefer_lang="en")
        japanese = next(hit for hit in results.hits if hit.slug == "tempdisk-ja")
        assert not japanese.exact
        assert ("temporary disk", "一時ディスク") in japanese.bridged
        assert "<mark>一時ディスク</mark>" in japanese.snippet
        assert "<mark>割り当て解除</mark>" in japanese.snippet

    def test_a_japanese_query_finds_the_english_text(self, bilingual):
        results = search("一時ディスク 割り当て解除", prefer_lang="ja")
        english = next(hit for hit in results.hits if hit.slug == "tempdisk-en")
        assert not english.exact
        assert "<mark>temporary disk</mark>" in english.snippet

    @pytest.mark.parametrize(
        "query, visitor, first", [("temporary disk", "en", "tempdisk-en"), ("一時ディスク", "ja", "tempdisk-ja")]
    )
    def test_a_match_through_the_bridge_ranks_below_a_direct_one(self, bilingual, query, visitor, first):
        results = search(query, prefer_lang=visitor)
        assert slugs(results) == [first, ({"tempdisk-en", "tempdisk-ja"} - {first}).pop()]
        assert results.hits[0].exact and not results.hits[1].exact
        assert results.hits[0].score > results.hits[1].score

    def test_the_search_page_labels_the_other_language_and_the_bridged_words(self, bilingual, client):
        body = client.get("/en/search/", {"q": "temporary disk"}).content.decode()
        japanese = body[body.index("/tempdisk-ja/") :]
        assert "in Japanese" in japanese
        assert "Found through the glossary:" in japanese
        assert "一時ディスク" in japanese

    def test_without_the_glossary_the_other_language_is_not_found(self, bilingual):
        (bilingual / "glossary.yaml").write_text("terms: []\n", encoding="utf-8")
        assert run(bilingual).ok
        assert slugs(search("temporary disk", prefer_lang="en")) == ["tempdisk-en"]
        assert slugs(search("一時ディスク", prefer_lang="ja")) == ["tempdisk-ja"]

    def test_a_query_word_the_glossary_does_not_know_is_not_bridged_in_part(self, bilingual):
        """一時ディスクス is no glossary form: the English text must not match it through 一時ディスク."""
        assert "tempdisk-en" not in slugs(search("一時ディスクス", prefer_lang="ja"))


@pytest.mark.django_db
class TestGlossaryFile:
    @pytest.mark.parametrize(
        "text, problem, line",
        [
            (
                "terms:\n  - ja: [一時ディスク]\n    en: [temporary disk]\n  - ja: [テンポラリ]\n    en: [Temporary Disk]\n",
                "'Temporary Disk' is listed twice (also on line 3)",
                5,
            ),
            ("terms:\n  - ja: [一時ディスク]\n  - ja: [再起動]\n    en: [restart]\n", "missing language: 'en'", 2),
            ("terms:\n  - ja: [まま]\n    en: [as is]\n", "'まま' splits as 侭 alone but as そのまま in a sentence", 2),
            ("terms:\n  - ja: [一時ディスク\n", "not valid YAML", 3),
        ],
    )
    def test_a_broken_glossary_is_refused_with_its_line_and_the_previous_one_stays(
        self, bilingual, text, problem, line
    ):
        (bilingual / "glossary.yaml").write_text(text, encoding="utf-8")
        report = run(bilingual)
        assert not report.ok
        assert [(p.path.name, p.line) for p in report.problems if problem in p.message] == [("glossary.yaml", line)]
        assert Glossary.objects.get(is_current=True).number == 1
        assert "tempdisk-ja" in slugs(search("temporary disk", prefer_lang="en"))

    def test_every_change_is_a_new_version_and_the_old_ones_stay(self, bilingual):
        write(bilingual / "glossary.yaml", GLOSSARY + "  - ja: [再起動]\n    en: [restart]\n")
        assert run(bilingual).ok
        assert list(Glossary.objects.order_by("number").values_list("number", "is_current")) == [(1, False), (2, True)]
        assert run(bilingual).ok  # unchanged: no third version
        assert Glossary.objects.count() == 2

    def test_the_projects_glossary_is_valid(self):
        """About the project's content: content/glossary.yaml passes its own validation."""
        from tests.conftest import CONTENT

        assert len(glossary.load(CONTENT / "glossary.yaml")) > 500


@pytest.mark.django_db
def test_proposals_pair_a_translations_title_and_headings_the_glossary_does_not_know(content_dir):
    write(content_dir / "glossary.yaml", GLOSSARY)
    body_ja = "## 一時ディスク\n\n本文。\n\n## 保存先の変更\n\n本文。\n"
    body_en = "## Temporary disk\n\nText.\n\n## Changing where data is kept\n\nText.\n"
    article_file(content_dir, "paired", "ja", title="一時ディスクの使い方", body=body_ja)
    article_file(content_dir, "paired", "en", title="Using the temporary disk", body=body_en, translated_from="ja")
    assert run(content_dir).ok
    proposed = [(p.where, p.forms) for p in glossary_proposals.proposals(glossary.current_bridge())]
    # the headings 一時ディスク / Temporary disk are a known pair: not proposed again
    assert proposed == [
        ("title", {"ja": "一時ディスクの使い方", "en": "Using the temporary disk"}),
        ("#保存先の変更", {"ja": "保存先の変更", "en": "Changing where data is kept"}),
    ]


@pytest.mark.django_db
def test_proposals_pair_only_the_titles_when_the_outlines_differ(content_dir):
    article_file(content_dir, "uneven", "ja", title="見出しの数", body="## 一\n\n## 二\n")
    article_file(content_dir, "uneven", "en", title="Count of headings", body="## One\n", translated_from="ja")
    assert run(content_dir).ok
    source, translation = (Revision.objects.get(article__slug="uneven", lang=lang) for lang in ("ja", "en"))
    assert glossary_proposals.aligned(source, translation) == [("title", "見出しの数", "Count of headings")]


def test_the_search_package_does_not_import_the_glossary_content_kind():
    """kb.glossary (a content kind) uses kb.search.bridge to check forms; the bridge reads the
    model itself, so the two never import each other (not even inside a function)."""
    import ast

    from tests.conftest import REPO

    for path in (REPO / "kb" / "search").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert "kb.glossary" not in imported, path


def test_the_english_fillers_are_data_read_once():
    from kb.search import bridge

    assert bridge.read_fillers() == bridge.FILLER and {"why", "my", "the"} <= bridge.FILLER
    assert "FILLER = frozenset(" not in (bridge.FILLER_FILE.parent / "bridge.py").read_text(encoding="utf-8")
