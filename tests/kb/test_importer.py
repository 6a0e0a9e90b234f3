import datetime as dt
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kb.models import Article, Revision
from tests.conftest import CONTENT, SEEDS, TINY_TREE, article_file, run, write
from wizard.models import TreeRevision


def counts():
    return Article.objects.count(), Revision.objects.count(), TreeRevision.objects.count()


@pytest.mark.django_db
class TestSeedContent:
    def test_every_seed_article_imports_in_both_languages(self):
        report = run(CONTENT)
        assert report.ok, report.problems
        slugs = set(Article.objects.values_list("slug", flat=True))
        assert slugs == {
            "vm-stuck-in-updating-when-nsg-rule-restricts-outbound-internet-connectivity",
            "vm-provisioning-failed",
            "vmagent-notready",
            "windows-vm-extensions",
            "20211013-rca-azure-vm",
        }
        assert Revision.objects.current("ja").count() == 5
        assert Revision.objects.current("en").count() == 5
        rca = Article.objects.get(slug="20211013-rca-azure-vm")
        assert (rca.kind, rca.tracking_id) == ("rca", "0NC_-L9G")
        jst = dt.timezone(dt.timedelta(hours=9))
        assert rca.impact_start == dt.datetime(2021, 10, 13, 15, 27, tzinfo=jst)
        assert rca.impact_end == dt.datetime(2021, 10, 13, 21, 42, tzinfo=jst)

    def test_every_seed_translation_points_at_the_japanese_revision_it_was_made_from(self):
        run(CONTENT)
        for english in Revision.objects.current("en"):
            assert english.translated_from == Revision.objects.current("ja").get(article=english.article)


@pytest.mark.django_db
def test_reimport_of_unchanged_files_creates_nothing(content_dir):
    article_file(content_dir, "agent", "ja", title="エージェント", body="本文です。")
    article_file(content_dir, "agent", "en", title="Agent", body="The body.", translated_from="ja")
    write(content_dir / "wizard" / "tiny.yaml", TINY_TREE)
    assert run(content_dir).ok
    before = counts()
    report = run(content_dir)
    assert counts() == before == (1, 2, 1)
    assert [(r.status, r.detail) for r in report.results] == [
        ("unchanged", "ja"),
        ("unchanged", "en"),
        ("unchanged", "tree"),
    ]
    assert report.changed_slugs == set() and report.changed_kinds == set()


@pytest.mark.django_db
class TestRevisions:
    def test_an_edited_file_becomes_a_new_revision_and_the_old_one_stays(self, content_dir):
        path = article_file(content_dir, "agent", "ja", title="エージェント", body="最初の本文です。")
        run(content_dir)
        path.write_text(path.read_text(encoding="utf-8").replace("最初の", "二番目の"), encoding="utf-8")
        report = run(content_dir)
        assert [str(r) for r in report.results] == [f"updated ja r2 {path}"]
        revisions = Revision.objects.filter(article__slug="agent").order_by("number")
        assert [(r.number, r.is_current, r.body) for r in revisions] == [
            (1, False, "最初の本文です。"),
            (2, True, "二番目の本文です。"),
        ]

    def test_a_title_change_alone_is_a_new_revision(self, content_dir):
        path = article_file(content_dir, "agent", "ja", title="古い題", body="本文")
        run(content_dir)
        path.write_text(path.read_text(encoding="utf-8").replace("古い題", "新しい題"), encoding="utf-8")
        run(content_dir)
        assert Revision.objects.current("ja").get().title == "新しい題"

    def test_a_removed_file_withdraws_its_article_and_deletes_nothing(self, content_dir):
        article_file(content_dir, "keep", "ja", title="残る", body="本文")
        gone = article_file(content_dir, "gone", "ja", title="消える", body="本文")
        run(content_dir)
        gone.unlink()
        report = run(content_dir)
        assert "withdrawn gone" in " ".join(str(r) for r in report.results)
        article = Article.objects.get(slug="gone")
        assert article.is_withdrawn
        assert article.revisions.count() == 1
        assert list(Article.objects.visible().values_list("slug", flat=True)) == ["keep"]

    def test_a_restored_file_brings_its_article_back(self, content_dir):
        gone = article_file(content_dir, "back", "ja", title="戻る", body="本文")
        run(content_dir)
        text = gone.read_text(encoding="utf-8")
        gone.unlink()
        run(content_dir)
        write(gone, text, dedent=False)
        run(content_dir)
        assert not Article.objects.get(slug="back").is_withdrawn

    def test_importing_another_folder_does_not_withdraw_content_articles(self, content_dir, tmp_path):
        article_file(content_dir, "mine", "ja", title="本体", body="本文")
        run(content_dir)
        write(tmp_path / "blog" / "post.md", "---\ntitle: 別のブログ\n---\n本文です。\n")
        run(tmp_path / "blog")
        assert not Article.objects.get(slug="mine").is_withdrawn

    def test_dry_run_reports_but_writes_nothing(self, content_dir):
        article_file(content_dir, "dry", "ja", title="試し", body="本文")
        report = run(content_dir, dry_run=True)
        assert [r.status for r in report.results] == ["new"]
        assert Article.objects.count() == 0


@pytest.mark.django_db
class TestTranslations:
    def test_translation_made_from_an_older_source_revision_keeps_pointing_at_it(self, content_dir):
        ja = article_file(content_dir, "t", "ja", title="原文", body="第一版です。")
        run(content_dir)
        first = Revision.objects.get(lang="ja", number=1)
        article_file(
            content_dir,
            "t",
            "en",
            title="Translation",
            body="First version.",
            translated_from="ja",
            source_hash=first.body_hash[:12],
        )
        ja.write_text(ja.read_text(encoding="utf-8").replace("第一版", "第二版"), encoding="utf-8")
        run(content_dir)
        english = Revision.objects.current("en").get()
        assert english.translated_from == first
        assert Revision.objects.current("ja").get().number == 2


BAD_INPUTS = {
    "unclosed front matter": ("---\ntitle: 壊れた\n本文\n", "front matter opened with '---' is never closed", 1),
    "missing title": ("---\ndate: 2020-01-01\n---\n本文\n", "missing title", 2),
    "unknown kind": ("---\ntitle: 種類\nkind: blogpost\n---\n本文\n", "kind: unknown kind 'blogpost'", 3),
    "unparseable date": ("---\ntitle: 日付\ndate: 2020-13-45\n---\n本文\n", "date: cannot read", 3),
    "yaml that is not a mapping": ("---\n- a\n- b\n---\n本文\n", "front matter must be a mapping", 2),
    "invalid yaml": ("---\ntitle: t\ntags: [unclosed\n---\n本文\n", "front matter is not valid YAML", 3),
    "translation of itself": (
        "---\ntitle: t\ntranslated_from: ja\n---\n本文\n",
        "translated_from: a text cannot be translated from its own language",
        3,
    ),
    "bad source hash": (
        "---\ntitle: t\ntranslated_from: en\nsource_hash: xyz\n---\nbody\n",
        "source_hash: expected 8 to 64 hex digits",
        4,
    ),
    "bad review interval": (
        "---\ntitle: t\nreview_every: soon\n---\n本文\n",
        "review_every: 'soon' is not a duration",
        3,
    ),
}


@pytest.mark.django_db
class TestBadInput:
    @pytest.fixture
    def good_state(self, content_dir):
        article_file(content_dir, "good", "ja", title="正しい記事", body="本文")
        run(content_dir)
        return counts()

    @pytest.mark.parametrize("case", BAD_INPUTS)
    def test_bad_front_matter_is_refused_with_file_and_line_and_nothing_is_written(self, case, content_dir, good_state):
        text, message, line = BAD_INPUTS[case]
        article_file(content_dir, "another", "ja", title="別の良い記事", body="本文")
        bad = write(content_dir / "articles" / "bad" / "ja.md", text, dedent=False)
        report = run(content_dir)
        assert len(report.problems) == 1
        assert str(report.problems[0]).startswith(f"{bad}:{line}: {message}")
        assert counts() == good_state
        assert not Article.objects.filter(slug="another").exists()

    @pytest.mark.parametrize(
        ("content", "message"),
        [(b"", "empty file"), (b"\x00\x01\x02binary", "binary file"), (b"---\ntitle: \xff\xfe\n---\n", "not UTF-8")],
    )
    def test_files_that_are_not_text_are_refused(self, content, message, content_dir, good_state):
        path = content_dir / "articles" / "bad" / "ja.md"
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
        report = run(content_dir)
        assert len(report.problems) == 1
        assert str(report.problems[0]).startswith(str(path)) and message in str(report.problems[0])
        assert counts() == good_state

    def test_translation_whose_source_does_not_exist(self, content_dir, good_state):
        path = article_file(content_dir, "orphan", "en", title="Orphan", body="text", translated_from="ja")
        report = run(content_dir)
        assert [str(p) for p in report.problems] == [f"{path}: translated_from: no ja text of 'orphan' exists"]
        assert counts() == good_state

    def test_translation_pointing_at_an_unknown_source_revision(self, content_dir, good_state):
        path = article_file(
            content_dir, "good", "en", title="Good", body="text", translated_from="ja", source_hash="0123456789ab"
        )
        report = run(content_dir)
        assert [str(p) for p in report.problems] == [
            f"{path}: source_hash: no ja revision of 'good' has hash 0123456789ab"
        ]

    def test_slug_already_owned_by_another_folder_is_a_duplicate(self, content_dir, tmp_path, good_state):
        write(tmp_path / "blog" / "shared-slug.md", "---\ntitle: ブログ\n---\n本文\n")
        run(tmp_path / "blog")
        path = article_file(content_dir, "shared-slug", "ja", title="本体", body="本文")
        report = run(content_dir)
        assert [str(p) for p in report.problems] == [
            f"{path}: duplicate slug 'shared-slug': already imported from {tmp_path / 'blog'}"
        ]

    def test_unknown_language_file_and_bad_folder_name(self, content_dir, good_state):
        fr = write(content_dir / "articles" / "good" / "fr.md", "---\ntitle: t\n---\nx\n")
        upper = write(content_dir / "articles" / "Bad Name" / "ja.md", "---\ntitle: t\n---\nx\n")
        problems = sorted(str(p) for p in run(content_dir).problems)
        assert problems == sorted(
            [
                f"{upper.parent}: folder name is not a slug (a-z, 0-9, -)",
                f"{fr}: unknown language file (use ja.md, en.md)",
            ]
        )

    def test_the_command_prints_one_line_per_problem_and_exits_non_zero(self, content_dir, good_state, capsys):
        write(content_dir / "articles" / "bad" / "ja.md", "---\ntitle: t\ndate: someday\n---\nx\n")
        with pytest.raises(CommandError, match="1 problem"):
            call_command("import_content", str(content_dir))
        err = capsys.readouterr().err
        assert f"error {content_dir / 'articles' / 'bad' / 'ja.md'}:3: date: cannot read 'someday' as a date" in err


@pytest.mark.django_db
class TestSourceFormats:
    def test_the_seed_folder_imports_hexo_and_plain_text_files(self):
        report = run(SEEDS)
        assert report.ok, report.problems
        titles = dict(Revision.objects.values_list("article__slug", "title"))
        assert titles["001_e4b332ca4e86d53c"] == "仮想マシンにおけるプロビジョニングの失敗エラーについて"
        assert titles["003_0ae9cf18f67d57c0"] == "Windows 用の仮想マシン拡張機能とその機能"
        assert titles["000_fbfb20f1fae9e58c"].startswith("NSG のルールでインターネットへの通信を制限している際に")
        assert set(Revision.objects.values_list("lang", flat=True)) == {"ja"}
        plain = Revision.objects.get(article__slug="001_e4b332ca4e86d53c")
        assert "Freigeben" not in plain.body and "Freigeben" not in plain.html
        # "•" bullets became a Markdown list, and so an HTML one
        assert "\n- 「OSは立ち上がっているように見受けられる、、、が、いつまでも更新が終わらない 」\n" in plain.body
        assert "<li>「OSは立ち上がっているように見受けられる、、、が、いつまでも更新が終わらない 」</li>" in plain.html
        warnings = [str(w) for w in report.warnings]
        assert any("001_e4b332ca4e86d53c.txt" in w and "Freigeben über" in w for w in warnings)
        assert not Article.objects.filter(slug="readme").exists()

    def test_blog_quirks_are_read_with_a_warning(self, tmp_path):
        blog = tmp_path / "blog"
        write(blog / "vm" / "blank-first.md", "\n\n---\ntitle: 空行のあと\n---\n本文です。\n", dedent=False)
        write(
            blog / "vm" / "colon.md", "---\ntitle: Azure VM: 再起動の手順\ndate: 2020/01/02 10:00:00\n---\n本文です。\n"
        )
        write(blog / "vm" / "heading only.md", "# 見出しが題名\n\n本文です。\n")
        write(blog / "network" / "WAF誤検知対応.md", "---\ntitle: WAF の誤検知\n---\n本文です。\n")
        write(blog / "network" / "colon.md", "---\ntitle: 同じ名前の別記事\n---\n本文です。\n")
        write(blog / "english.md", "---\ntitle: An English post\n---\nThe agent is not ready.\n")
        report = run(blog)
        assert report.ok, report.problems
        titles = dict(Revision.objects.values_list("article__slug", "title"))
        assert titles == {
            "blank-first": "空行のあと",
            "colon": "同じ名前の別記事",
            "colon-2": "Azure VM: 再起動の手順",
            "heading-only": "見出しが題名",
            "waf誤検知対応": "WAF の誤検知",
            "english": "An English post",
        }
        assert Revision.objects.get(article__slug="english").lang == "en"
        assert Revision.objects.get(article__slug="heading-only").body == "本文です。"
        warnings = " ".join(str(w) for w in report.warnings)
        assert "blank line(s) before the front matter" in warnings
        assert "value that is not valid YAML read as one string" in warnings
        assert "title taken from the # heading" in warnings
        assert "slug 'colon' already used: imported as 'colon-2'" in warnings

    def test_slug_collisions_resolve_the_same_way_every_time(self, tmp_path):
        blog = tmp_path / "blog"
        write(blog / "a" / "same.md", "---\ntitle: A\n---\nx\n")
        write(blog / "b" / "same.md", "---\ntitle: B\n---\ny\n")
        run(blog)
        report = run(blog)
        assert {r.status for r in report.results} == {"unchanged"}
        assert dict(Revision.objects.values_list("article__slug", "title")) == {"same": "A", "same-2": "B"}

    def test_crlf_files_hash_like_lf_files(self, tmp_path):
        blog = tmp_path / "blog"
        path = blog / "crlf.md"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"---\r\ntitle: CRLF\r\n---\r\n\xe6\x9c\xac\xe6\x96\x87\r\n")
        run(blog)
        path.write_bytes(b"---\ntitle: CRLF\n---\n\xe6\x9c\xac\xe6\x96\x87\n")
        assert {r.status for r in run(blog).results} == {"unchanged"}


@pytest.mark.django_db
class TestSanitising:
    def test_script_in_front_matter_and_body_never_reaches_the_html(self, content_dir, client):
        article_file(
            content_dir,
            "xss",
            "ja",
            title="'<script>alert(1)</script>'",
            body='<script>alert(2)</script>\n\n<img src=x onerror="alert(3)">\n\n[link](javascript:alert(4))',
        )
        assert run(content_dir).ok
        revision = Revision.objects.get()
        assert "<script" not in revision.html and "onerror" not in revision.html and "javascript:" not in revision.html
        page = client.get("/ja/articles/xss/").content.decode()
        assert "<script>alert" not in page and "onerror" not in page and "javascript:alert" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_paths_are_shown_relative_to_the_working_directory(monkeypatch, tmp_path):
    from kb.importer import Problem

    monkeypatch.chdir(tmp_path)
    assert str(Problem(tmp_path / "content" / "x.md", "bad", 3)) == f"{Path('content') / 'x.md'}:3: bad"
