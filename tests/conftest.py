"""Shared fixtures: an isolated search index per test, a scratch content folder, factories."""

import shutil
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.db.utils import load_backend

from kb import importer, search
from kb.models import Article, Revision
from kb.sources import body_hash

REPO = Path(settings.BASE_DIR)
CONTENT = REPO / "content"
SEEDS = REPO.parent / "shared" / "seeds"
CORPUS = REPO.parent / "shared" / "corpus" / "jpaztech-blog"


@pytest.fixture(autouse=True)
def fresh_page_cache():
    """Tests roll the database back, so content versions repeat: never share cached pages,
    shared counters or limits, nor anything a module keeps for the process (the one hook
    every such module registers with: kb.process_state)."""
    from django.core.cache import caches

    from kb.process_state import reset_process_state

    caches["default"].clear()
    caches["shared"].clear()
    reset_process_state()


@pytest.fixture(autouse=True)
def isolated_index(tmp_path, settings):
    settings.KB_INDEX_DIR = tmp_path / "index"
    search.forget_searchers()
    yield settings.KB_INDEX_DIR
    search.forget_searchers()


@pytest.fixture
def content_dir(tmp_path):
    """A scratch content/ folder holding a copy of the real staleness rules."""
    root = tmp_path / "content"
    (root / "articles").mkdir(parents=True)
    shutil.copy(CONTENT / "staleness.yaml", root / "staleness.yaml")
    return root


@pytest.fixture
def real_content(tmp_path):
    """A copy of the project's content/, safe to edit."""
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    return root


def write(path: Path, text: str, *, dedent=True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n") if dedent else text, encoding="utf-8")
    return path


def article_file(root: Path, slug: str, lang: str, *, title: str, body: str, **front) -> Path:
    lines = ["---", f"title: {title}"] + [f"{key}: {value}" for key, value in front.items()] + ["---", body]
    return write(root / "articles" / slug / f"{lang}.md", "\n".join(lines) + "\n", dedent=False)


def run(*paths, dry_run=False):
    report = importer.run_import([str(p) for p in paths], dry_run=dry_run)
    if report.ok and not dry_run:
        search.catch_up(force=True, wait=True)
    return report


def make_article(slug="sample", *, lang="ja", title="サンプル", body="本文です。", kind="guide", **fields):
    """A minimal article with one current revision, without going through files."""
    article = Article.objects.create(slug=slug, kind=kind, source_root="test", source_lang=lang, **fields)
    Revision.objects.create(
        article=article,
        lang=lang,
        number=1,
        title=title,
        body=body,
        body_hash=body_hash(body),
        html=f"<p>{body}</p>",
        headings=[],
        source_path=f"test/{slug}/{lang}.md",
    )
    return article


@pytest.fixture(scope="module")
def seeded_index(django_db_setup, django_db_blocker, tmp_path_factory):
    """The project's content imported once for a whole module of read-only tests (the
    import commits outside the per-test transactions and is wiped afterwards)."""
    from django.test import override_settings

    index = tmp_path_factory.mktemp("seed-index")
    with django_db_blocker.unblock(), override_settings(KB_INDEX_DIR=index):
        search.forget_searchers()
        assert run(CONTENT).ok
    yield index
    with django_db_blocker.unblock():
        wipe_content()
    search.forget_searchers()


def wipe_content():
    from kb.models import Glossary, ImportRun, Purge, SearchDay, StoredImage, Tag
    from wizard.models import Feedback, ResultStat, TreeRevision

    Revision.objects.update(translated_from=None)
    kept = (Feedback, ResultStat, TreeRevision, ImportRun, Revision, Article, Tag, Glossary, SearchDay)
    for model in (*kept, StoredImage, Purge):
        model.objects.all().delete()


@pytest.fixture
def seeds(seeded_index, db, settings):
    settings.KB_INDEX_DIR = seeded_index
    search.forget_searchers()
    return seeded_index


# The smallest valid tree: one question, two results, linking to the article "agent".
TINY_TREE = """
title: {ja: 小さな木, en: A tiny tree}
start: q
nodes:
  q:
    question: {ja: "接続できますか？", en: "Can you connect?"}
    answers:
      - {id: can, label: {ja: できる, en: I can}, next: r-can}
      - {id: cannot, label: {ja: できない, en: I cannot}, next: r-cannot}
      - {id: unknown, label: {ja: わからない, en: "I don't know"}, unknown: true}
  r-can:
    result: {ja: 接続できる, en: Connected}
    cause: {ja: 問題ありません。, en: Nothing is wrong., source: {article: agent}}
    remediation: [{ja: 何もしません。, en: Do nothing., source: {article: agent}}]
    articles: [{slug: agent}]
  r-cannot:
    result: {ja: 接続できない, en: Not connected}
    cause: {ja: 接続できません。, en: It does not connect., source: {url: "https://learn.microsoft.com/azure/"}}
    remediation: [{ja: 再起動します。, en: Restart., source: {article: agent}}]
    articles: [{slug: agent}]
"""


@pytest.fixture
def database_away():
    """The request gets a connection to a database that is not there (a real failure to
    connect); the test database itself is left alone."""
    original = connections["default"]
    away = dict(original.settings_dict)
    if original.vendor == "sqlite":
        away["NAME"] = "/nonexistent/directory/db.sqlite3"
    else:
        away["PORT"] = "1"
    connections["default"] = load_backend(away["ENGINE"]).DatabaseWrapper(away, "default")
    yield
    connections["default"].close()
    connections["default"] = original
