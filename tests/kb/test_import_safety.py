"""The import reads only what is inside the folder it was given, within limits, and a text
that must never have been published can be purged for good (issue 21)."""

import os

import pytest
from django.core.management import CommandError, call_command

from kb import caching, search
from kb.models import Article, Flag, ImportRun, Purge, Revision, StoredImage
from tests.conftest import article_file, run, write

SECRET = "sk-live-zanzibarquokka-4242"


@pytest.fixture
def secret(tmp_path):
    """A file outside every imported folder, as var/secret_key or /etc/passwd would be."""
    path = tmp_path / "outside" / "secret_key"
    path.parent.mkdir()
    path.write_text(f"---\ntitle: leaked\n---\n{SECRET}\n", encoding="utf-8")
    return path


def problems(report):
    return [str(problem) for problem in report.problems]


def imported_texts():
    return sorted(Revision.objects.values_list("article__slug", "lang", "number"))


@pytest.mark.django_db
class TestSymlinks:
    @pytest.mark.parametrize("name", ["key.md", "passwd.txt", "deep/er/key.md"])
    def test_a_post_linked_outside_is_refused_and_nothing_is_imported(self, tmp_path, secret, name):
        blog = tmp_path / "blog"
        write(blog / "good.md", "---\ntitle: 良い記事\n---\n本文です。\n")
        assert run(blog).ok
        before = imported_texts()
        link = blog / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(secret)
        write(blog / "another.md", "---\ntitle: 別の記事\n---\n新しい本文。\n")
        report = run(blog)
        assert problems(report) == [f"{link}: symbolic link to {secret}, outside the imported folder: refused"]
        assert imported_texts() == before
        assert not Revision.objects.filter(body__contains=SECRET).exists()
        assert search.search("zanzibarquokka").total == 0

    def test_a_linked_article_folder_is_refused(self, content_dir, secret):
        article_file(content_dir, "agent", "ja", title="エージェント", body="本文です。")
        outside = secret.parent / "article"
        article_file(outside.parent, "article", "ja", title="外", body=SECRET)  # outside/articles/article/ja.md
        (content_dir / "articles" / "evil").symlink_to(outside.parent / "articles" / "article")
        report = run(content_dir)
        target = (outside.parent / "articles" / "article").resolve()
        assert problems(report) == [
            f"{content_dir / 'articles' / 'evil'}: symbolic link to {target}, outside the imported folder: refused"
        ]
        assert Article.objects.count() == 0

    def test_a_ja_md_pointing_outside_content_is_refused(self, content_dir, secret):
        (content_dir / "articles" / "key").mkdir()
        (content_dir / "articles" / "key" / "ja.md").symlink_to(secret)
        report = run(content_dir)
        assert [p.message for p in report.problems] == [
            f"symbolic link to {secret}, outside the imported folder: refused"
        ]
        assert report.problems[0].path == content_dir / "articles" / "key" / "ja.md"
        assert Article.objects.count() == 0

    def test_a_link_that_stays_inside_is_imported(self, content_dir):
        source = write(content_dir / "drafts" / "agent-ja.md", "---\ntitle: エージェント\n---\n中の本文です。\n")
        (content_dir / "articles" / "agent").mkdir()
        (content_dir / "articles" / "agent" / "ja.md").symlink_to(
            os.path.relpath(source, content_dir / "articles" / "agent")
        )
        report = run(content_dir)
        assert report.ok, problems(report)
        assert Revision.objects.get(article__slug="agent").body == "中の本文です。"

    def test_a_link_added_after_the_check_is_still_not_read(self, content_dir, secret, monkeypatch):
        """The folder is checked first; a file that becomes a link to outside before it is
        read is refused when it is read."""
        from kb import importer

        path = article_file(content_dir, "agent", "ja", title="エージェント", body="本文です。")

        def check_then_swap(root):
            found = original(root)
            path.unlink()
            path.symlink_to(secret)
            return found

        original = importer.links_outside
        monkeypatch.setattr(importer, "links_outside", check_then_swap)
        report = run(content_dir)
        assert problems(report) == [f"{path}: symbolic link to {secret}, outside the imported folder: refused"]
        assert Article.objects.count() == 0


@pytest.mark.django_db
class TestStoredImages:
    ORIGINAL = b"\x89PNG\r\n\x1a\n the diagram as imported"

    @pytest.fixture
    def pictured(self, content_dir):
        article_file(
            content_dir, "pictured", "ja", title="図", body="構成は次のとおりです。\n\n![構成図](./diagram.png)"
        )
        image = content_dir / "articles" / "pictured" / "diagram.png"
        image.write_bytes(self.ORIGINAL)
        assert run(content_dir).ok
        return image

    def test_swapping_the_file_after_the_import_changes_nothing_served(self, client, pictured, secret):
        pictured.unlink()
        pictured.symlink_to(secret)
        response = client.get("/ja/articles/pictured/files/diagram.png")
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert response.content == self.ORIGINAL

    def test_the_bytes_are_in_the_database_keyed_by_their_hash(self, client, pictured):
        import hashlib

        pictured.unlink()  # and the folder may be gone altogether: another node has no copy
        digest = hashlib.sha256(self.ORIGINAL).hexdigest()
        assert Revision.objects.get(article__slug="pictured").images == {"diagram.png": digest}
        assert bytes(StoredImage.objects.get(sha256=digest).data) == self.ORIGINAL
        response = client.get("/ja/articles/pictured/files/diagram.png")
        assert response.content == self.ORIGINAL and response["ETag"] == f'"{digest}"'
        again = client.get("/ja/articles/pictured/files/diagram.png", headers={"If-None-Match": f'"{digest}"'})
        assert again.status_code == 304

    def test_an_image_too_large_is_refused_with_its_name(self, content_dir, settings):
        settings.KB_IMAGE_MAX_BYTES = 1000
        article_file(content_dir, "pictured", "ja", title="図", body="![構成図](./diagram.png)")
        image = content_dir / "articles" / "pictured" / "diagram.png"
        image.write_bytes(b"\x89PNG" + b"\x00" * 2000)
        report = run(content_dir)
        assert problems(report) == [f"{image}: image larger than 0.0 MB (KB_IMAGE_MAX_BYTES): refused"]
        assert (Article.objects.count(), StoredImage.objects.count()) == (0, 0)


@pytest.mark.django_db
class TestLimits:
    def test_an_article_over_the_size_limit_is_refused_with_name_and_size(self, content_dir, settings):
        settings.KB_ARTICLE_MAX_BYTES = 1024 * 1024
        path = article_file(content_dir, "huge", "ja", title="大きい", body="あ" * 400_000)  # 1.2 MB of UTF-8
        article_file(content_dir, "small", "ja", title="小さい", body="本文")
        report = run(content_dir)
        assert problems(report) == [f"{path}: 1.1 MB, more than 1.0 MB (KB_ARTICLE_MAX_BYTES): refused"]
        assert Article.objects.count() == 0

    def test_too_many_files_are_refused_before_any_is_read(self, tmp_path, settings):
        settings.KB_IMPORT_MAX_FILES = 2
        blog = tmp_path / "blog"
        for number in range(3):
            write(blog / f"post-{number}.md", f"---\ntitle: 記事 {number}\n---\n本文。\n")
        report = run(blog)
        assert problems(report) == [f"{blog}: 3 texts to import, more than 2 (KB_IMPORT_MAX_FILES): refused"]
        settings.KB_IMPORT_MAX_FILES = 3
        assert run(blog).ok

    def test_a_list_nested_10000_deep_is_refused_with_file_and_line(self, content_dir):
        body = "普通の段落。\n\n" + "- " * 10_000 + "深い\n"
        path = article_file(content_dir, "deep", "ja", title="深い", body=body)
        report = run(content_dir)
        # front matter: 3 lines; the body's third line is the file's sixth
        assert problems(report) == [
            f"{path}:6: lists or quotes nested 10000 deep, more than 32 (KB_MARKDOWN_MAX_DEPTH): refused"
        ]
        assert Article.objects.count() == 0

    def test_indented_lists_and_stacked_quotes_count_as_nesting(self, tmp_path):
        blog = tmp_path / "blog"
        write(blog / "indented.md", "# 字下げ\n\n" + "".join("    " * level + "- x\n" for level in range(200)))
        write(blog / "quotes.md", "# 引用\n\n" + "".join(">" * level + " q\n" for level in range(1, 200)))
        report = run(blog)
        assert sorted((p.path.name, p.line, p.message.split(",")[0]) for p in report.problems) == [
            ("indented.md", 35, "lists or quotes nested 33 deep"),
            ("quotes.md", 35, "lists or quotes nested 33 deep"),
        ]

    def test_real_nesting_is_imported(self, content_dir):
        body = "> 引用\n> > 引用の引用\n\n- 一\n    - 二\n        1. 三\n"
        article_file(content_dir, "nested", "ja", title="入れ子", body=body)
        assert run(content_dir).ok
        assert Revision.objects.get().html.count("<blockquote>") == 2


@pytest.mark.django_db
class TestFailureCauses:
    @pytest.mark.parametrize(
        ("error", "cause"),
        [
            (MemoryError(), "ran out of memory (MemoryError)"),
            (RecursionError(), "nested too deeply to follow (RecursionError)"),
            (RuntimeError(), "RuntimeError, with no message"),
            (KeyError("slug"), "'slug' (KeyError)"),
        ],
    )
    def test_every_failure_names_its_cause(self, content_dir, monkeypatch, error, cause):
        article_file(content_dir, "agent", "ja", title="エージェント", body="本文です。")

        def fail(*args, **kwargs):
            raise error

        monkeypatch.setattr("kb.staleness_flags.refresh_flags", fail)
        with pytest.raises(CommandError) as raised:
            call_command("import_content", str(content_dir), verbosity=0)
        message = str(raised.value)
        assert message.startswith("nothing was imported: ") and cause in message
        assert Article.objects.count() == 0

    def test_running_out_of_memory_while_rendering_names_the_file(self, content_dir, monkeypatch):
        path = article_file(content_dir, "agent", "ja", title="エージェント", body="本文です。")

        def exhausted(*args, **kwargs):
            raise MemoryError()

        monkeypatch.setattr("kb.rendering.make_markdown", exhausted)
        report = run(content_dir)
        assert problems(report) == [f"{path}: too large or too deeply nested (MemoryError)"]
        assert Article.objects.count() == 0


def purge(*args):
    call_command("purge_article", *args, verbosity=0)


@pytest.mark.django_db
class TestPurge:
    @pytest.fixture
    def published(self, content_dir):
        """A key published by mistake in two revisions of ja, and translated."""
        ja = article_file(content_dir, "key", "ja", title="鍵", body=f"最初の版 {SECRET}")
        run(content_dir)
        ja.write_text(ja.read_text(encoding="utf-8").replace("最初の版", "二番目の版"), encoding="utf-8")
        article_file(content_dir, "key", "en", title="Key", body=f"The key is {SECRET}", translated_from="ja")
        article_file(content_dir, "other", "ja", title="別", body="関係のない記事です。")
        assert run(content_dir).ok
        assert Revision.objects.filter(article__slug="key").count() == 3
        return content_dir

    def test_the_whole_article_goes_and_the_audit_line_stays(self, client, published):
        assert SECRET in client.get("/en/articles/key/").content.decode()  # now in the page cache
        assert {hit.slug for hit in search.search("zanzibarquokka").hits} == {"key"}
        caching.forget_content_version()
        version = caching.content_version()
        purge("key", "--reason", "published a live key", "--by", "alice")
        assert not Article.objects.filter(slug="key").exists()
        assert not Revision.objects.filter(body__contains=SECRET).exists()
        assert not Flag.objects.filter(revision__article__slug="key").exists()
        assert Revision.objects.filter(article__slug="other").count() == 1
        audit = Purge.objects.get()
        assert (audit.slug, audit.lang, audit.purged_by, audit.reason, audit.revisions) == (
            "key",
            "",
            "alice",
            "published a live key",
            3,
        )
        assert all(SECRET not in str(value) for value in Purge.objects.values().get().values())
        assert caching.content_version() > version
        assert ImportRun.objects.order_by("-pk").first().changed_slugs == ["key"]
        for url in ("/en/articles/key/", "/ja/articles/key/", "/ja/articles/key/ja/r1/", "/en/articles/key/en/r1/"):
            assert client.get(url).status_code == 404, url
        assert search.search("zanzibarquokka").total == 0
        search_page = client.get("/en/search/", {"q": "zanzibarquokka"}).content.decode()
        assert SECRET not in search_page

    def test_the_index_keeps_no_trace(self, published, isolated_index):
        purge("key", "--reason", "published a live key", "--by", "alice")
        for file in isolated_index.rglob("*"):
            if file.is_file():
                assert b"zanzibarquokka" not in file.read_bytes(), file

    def test_one_language_only(self, client, published):
        purge("key", "--lang", "en", "--reason", "the translation quoted the key", "--by", "bob")
        assert sorted(Revision.objects.filter(article__slug="key").values_list("lang", "number")) == [
            ("ja", 1),
            ("ja", 2),
        ]
        assert Purge.objects.get().lang == "en"
        assert client.get("/en/articles/key/en/r1/").status_code == 404

    def test_the_source_of_a_translation_is_not_purged_alone(self, published):
        with pytest.raises(CommandError, match="the en text of 'key' was translated from its ja text"):
            purge("key", "--lang", "ja", "--reason", "why", "--by", "bob")
        assert Revision.objects.filter(article__slug="key").count() == 3 and not Purge.objects.exists()

    def test_the_audit_names_the_os_user_by_default(self, published, monkeypatch):
        monkeypatch.setenv("LOGNAME", "carol")
        purge("key", "--reason", "published a live key")
        assert Purge.objects.get().purged_by == "carol"

    def test_a_purged_file_still_in_content_is_refused_until_removed(self, published):
        purge("key", "--reason", "published a live key", "--by", "alice")
        report = run(published)
        assert sorted(p.path.name for p in report.problems) == ["en.md", "ja.md"]
        assert "was purged on" in report.problems[0].message and "--allow-purged key" in report.problems[0].message
        assert not Article.objects.filter(slug="key").exists()
        for name in ("ja.md", "en.md"):
            (published / "articles" / "key" / name).unlink()
        assert run(published).ok

    def test_a_purged_text_comes_back_only_on_purpose(self, published):
        purge("key", "--reason", "published a live key", "--by", "alice")
        ja = published / "articles" / "key" / "ja.md"
        ja.write_text("---\ntitle: 鍵\n---\n鍵は別の場所に保管します。\n", encoding="utf-8")
        (published / "articles" / "key" / "en.md").unlink()
        call_command("import_content", str(published), "--allow-purged", "key", verbosity=0)
        assert Revision.objects.get(article__slug="key").body == "鍵は別の場所に保管します。"
        assert run(published).ok  # it has a revision again: nothing to refuse

    def test_images_only_the_purged_text_showed_go_too(self, content_dir):
        article_file(content_dir, "key", "ja", title="鍵", body="![鍵](./key.png)")
        (content_dir / "articles" / "key" / "key.png").write_bytes(b"\x89PNG the key as a picture")
        article_file(content_dir, "other", "ja", title="別", body="![図](./diagram.png)")
        (content_dir / "articles" / "other" / "diagram.png").write_bytes(b"\x89PNG a harmless diagram")
        assert run(content_dir).ok and StoredImage.objects.count() == 2
        purge("key", "--reason", "a picture of the key", "--by", "alice")
        assert [bytes(image.data) for image in StoredImage.objects.all()] == [b"\x89PNG a harmless diagram"]

    def test_nothing_to_purge_says_so(self, published):
        with pytest.raises(CommandError, match="nothing was purged: no article 'nope'"):
            purge("nope", "--reason", "why", "--by", "alice")
        with pytest.raises(CommandError, match="nothing was purged: say why"):
            purge("key", "--reason", "  ", "--by", "alice")
