"""Import content files into the database: discover, parse, validate, then sync atomically.

The importer reads files and never writes them. Every file is validated before anything
is written; one invalid file means nothing at all is written. A revision is created only
where the text changed, so re-importing unchanged files is a no-op.
"""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from kb import caching, rendering, staleness
from kb.models import LANGUAGES, Article, ImportRun, Revision, Tag
from kb.sources import CONTENT_SLUG, SourceDocument, SourceError, parse_file, slug_from_filename
from wizard import trees

POST_SUFFIXES = {".md", ".markdown", ".txt"}
SKIPPED_NAMES = {"readme", "license", "changelog", "manifest"}


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str
    line: int | None = None

    def __str__(self):
        where = display_path(self.path) + (f":{self.line}" if self.line else "")
        return f"{where}: {self.message}"


@dataclass
class FileResult:
    path: Path
    status: str  # new, updated, unchanged, removed, withdrawn, restored
    detail: str = ""

    def __str__(self):
        return f"{self.status} {self.detail} {display_path(self.path)}".replace("  ", " ")


@dataclass
class Plan:
    """Everything read from disk, validated, ready to sync."""

    roots: list = field(default_factory=list)
    documents: list = field(default_factory=list)
    trees: list = field(default_factory=list)
    rules: staleness.Rules | None = None
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    seen_files: dict = field(default_factory=dict)  # root -> set of (slug, lang)


@dataclass
class ImportReport:
    results: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    changed_slugs: set = field(default_factory=set)
    flag_counts: Counter = field(default_factory=Counter)
    unmatched_rules: list = field(default_factory=list)
    behind: list = field(default_factory=list)  # translations made from an older source text
    dry_run: bool = False

    @property
    def ok(self):
        return not self.problems

    def count(self, status):
        return sum(1 for result in self.results if result.status == status)


def display_path(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def stored_path(path: Path) -> str:
    """Paths inside the project are stored relative to it, so a moved checkout still matches."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(settings.BASE_DIR))
    except ValueError:
        return str(resolved)


# -- discover and parse -------------------------------------------------------------------


def is_content_root(root: Path) -> bool:
    """Our own layout (articles/<slug>/<lang>.md, wizard/, staleness.yaml), as opposed to a
    blog folder, which may also have an articles/ folder but with posts directly in it."""
    if not root.is_dir():
        return False
    if (root / "staleness.yaml").is_file() or (root / "wizard").is_dir():
        return True
    return any((root / "articles").glob("*/ja.md")) or any((root / "articles").glob("*/en.md"))


def build_plan(paths) -> Plan:
    plan = Plan()
    for raw in paths:
        root = Path(raw)
        if not root.exists():
            plan.problems.append(Problem(root, "no such file or folder"))
        elif is_content_root(root):
            read_content_root(plan, root)
        else:
            read_posts(plan, root)
    if plan.rules is None:
        plan.rules = load_rules(plan, Path(settings.CONTENT_DIR) / "staleness.yaml")
    if not plan.problems:
        validate(plan)
    return plan


def read_content_root(plan: Plan, root: Path):
    plan.roots.append(root)
    seen = plan.seen_files.setdefault(stored_path(root), set())
    articles = root / "articles"
    for folder in sorted(p for p in articles.iterdir() if p.is_dir()) if articles.is_dir() else []:
        if not CONTENT_SLUG.match(folder.name):
            plan.problems.append(Problem(folder, "folder name is not a slug (a-z, 0-9, -)"))
            continue
        for path in sorted(folder.glob("*.md")):
            if path.stem not in LANGUAGES:
                plan.problems.append(
                    Problem(path, f"unknown language file (use {', '.join(f'{code}.md' for code in LANGUAGES)})")
                )
                continue
            document = parse(plan, path, slug=folder.name, lang=path.stem, strict=True)
            if document:
                plan.documents.append((stored_path(root), document))
                seen.add((document.slug, document.lang))
    for path in sorted((root / "wizard").glob("*.yaml")) if (root / "wizard").is_dir() else []:
        plan.trees.append(path)
    if (root / "staleness.yaml").exists():
        plan.rules = load_rules(plan, root / "staleness.yaml")


def read_posts(plan: Plan, root: Path):
    """A blog folder (nested) or a single file: slugs from file names, collisions numbered."""
    plan.roots.append(root)
    seen = plan.seen_files.setdefault(stored_path(root), set())
    files = (
        [root]
        if root.is_file()
        else sorted(
            p
            for p in root.rglob("*")
            if p.is_file() and p.suffix.lower() in POST_SUFFIXES and p.stem.lower() not in SKIPPED_NAMES
        )
    )
    owners = dict(Article.objects.values_list("slug", "source_root"))
    taken, titles = {}, {}
    for path in files:
        slug = unique_slug(slug_from_filename(path), stored_path(root), owners, taken)
        if slug != slug_from_filename(path):
            plan.warnings.append(Problem(path, f"slug {slug_from_filename(path)!r} already used: imported as {slug!r}"))
        taken[slug] = path
        document = parse(plan, path, slug=slug, lang=None, strict=False)
        if document:
            if document.title in titles:
                plan.warnings.append(
                    Problem(path, f"same title as {display_path(titles[document.title])}: a near-duplicate post?")
                )
            titles.setdefault(document.title, path)
            plan.documents.append((stored_path(root), document))
            seen.add((document.slug, document.lang))


def unique_slug(base, root, owners, taken):
    """The first free of base, base-2, base-3…: free means not taken in this run and not
    owned by another folder. Sorted file order makes the choice the same every run."""
    candidate, number = base, 1
    while candidate in taken or owners.get(candidate, root) != root:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def parse(plan: Plan, path: Path, **kwargs) -> SourceDocument | None:
    try:
        document = parse_file(path, **kwargs)
    except SourceError as exc:
        plan.problems.append(Problem(path, exc.message, exc.line))
        return None
    plan.warnings += [Problem(path, warning) for warning in document.warnings]
    return document


def load_rules(plan: Plan, path: Path):
    try:
        return staleness.load_rules(path)
    except staleness.RulesError as exc:
        plan.problems.append(Problem(path, exc.message, exc.line))
        return None


# -- validate -----------------------------------------------------------------------------


def validate(plan: Plan):
    seen = {}
    for _root, document in plan.documents:
        key = (document.slug, document.lang)
        if key in seen:
            plan.problems.append(
                Problem(
                    document.path,
                    f"duplicate slug {document.slug!r} ({document.lang}), also in {display_path(seen[key])}",
                )
            )
        seen[key] = document.path
    check_owners(plan)
    check_translations(plan)
    if not plan.trees:
        return
    headings = article_headings(plan)
    for path in plan.trees:
        for problem in trees.check_file(path, headings):
            plan.problems.append(Problem(path, problem))


def check_owners(plan: Plan):
    """A content/ slug that another folder already owns is a duplicate, not a new article."""
    owners = dict(Article.objects.values_list("slug", "source_root"))
    for root, document in plan.documents:
        owner = owners.get(document.slug)
        if owner is not None and owner != root:
            plan.problems.append(
                Problem(document.path, f"duplicate slug {document.slug!r}: already imported from {owner}")
            )


def check_translations(plan: Plan):
    incoming = {(d.slug, d.lang): d for _root, d in plan.documents}
    for document in (d for _root, d in plan.documents if d.is_translation):
        source = incoming.get((document.slug, document.translated_from))
        known = Revision.objects.for_article(document.slug).filter(lang=document.translated_from)
        if source is None and not known.exists():
            plan.problems.append(
                Problem(
                    document.path, f"translated_from: no {document.translated_from} text of {document.slug!r} exists"
                )
            )
        elif document.source_hash and not source_hash_exists(document, source, known):
            plan.problems.append(
                Problem(
                    document.path,
                    f"source_hash: no {document.translated_from} revision of {document.slug!r} has hash {document.source_hash}",
                )
            )
        elif not document.source_hash:
            plan.warnings.append(
                Problem(
                    document.path,
                    f"no source_hash: assumed translated from the current {document.translated_from} text",
                )
            )


def source_hash_exists(document, source, known):
    if source is not None and source.body_hash.startswith(document.source_hash):
        return True
    return known.filter(body_hash__startswith=document.source_hash).exists()


def article_headings(plan: Plan):
    """Heading ids per (slug, lang) as they will be after this import: for checking links.
    Only texts whose body changed are rendered; the others' headings are already stored."""
    current = {
        (revision.article.slug, revision.lang): revision
        for revision in Revision.objects.current().visible().select_related("article").defer("body", "html")
    }
    headings = {key: revision.heading_ids for key, revision in current.items()}
    for _root, document in plan.documents:
        key = (document.slug, document.lang)
        if key not in current or current[key].body_hash != document.body_hash:
            headings[key] = {heading["id"] for heading in render_document(document).headings}
    return headings


# -- sync ---------------------------------------------------------------------------------


def run_import(paths, *, dry_run=False) -> ImportReport:
    plan = build_plan(paths)
    report = ImportReport(problems=plan.problems, warnings=plan.warnings, dry_run=dry_run)
    if plan.problems:
        return report
    with transaction.atomic():
        take_import_lock()
        sync(plan, report)
        if dry_run:
            transaction.set_rollback(True)
    caching.forget_content_version()
    return report


def take_import_lock():
    """Two imports never interleave: the second waits for the first to commit."""
    # SQLite needs nothing here: its transactions begin IMMEDIATE (see settings), which
    # already takes the single write lock.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('kb.import_content'))")


def sync(plan: Plan, report: ImportReport):
    now = timezone.now()
    by_slug = {}
    for root, document in plan.documents:
        by_slug.setdefault(document.slug, []).append((root, document))
    for slug, entries in by_slug.items():
        article = sync_article(slug, entries, now, report)
        # Source language first, so a translation can point at the revision just made.
        for _root, document in sorted(entries, key=lambda e: e[1].is_translation):
            sync_revision(article, document, report)
    withdraw_missing(plan, now, report)
    for path in plan.trees:
        result = trees.sync_file(path)
        report.results.append(FileResult(path, result.status, result.detail))
    report.flag_counts, report.unmatched_rules, flags_changed = staleness.refresh_flags(plan.rules, now)
    report.behind = list(
        Revision.objects.current()
        .visible()
        .filter(flags__code="translation_behind")
        .select_related("article", "translated_from")
        .order_by("article__slug", "lang")
    )
    trees_changed = any(r.detail.startswith("tree") and r.status != "unchanged" for r in report.results)
    if report.changed_slugs or flags_changed or trees_changed:
        ImportRun.objects.create(
            changed_slugs=sorted(report.changed_slugs),
            summary={
                status: report.count(status) for status in ("new", "updated", "unchanged", "removed", "withdrawn")
            },
        )


def sync_article(slug, entries, now, report):
    """The article row: its kind, tags, incident and review fields come from the original
    text (not from a translation)."""
    root = entries[0][0]
    source = next((d for _r, d in entries if not d.is_translation), None)
    article, created = Article.objects.get_or_create(
        slug=slug, defaults={"source_root": root, "source_lang": (source or entries[0][1]).lang}
    )
    changed = update_article_fields(article, source) if source else []
    if article.withdrawn_at:
        article.withdrawn_at = None
        changed.append("withdrawn_at")
        report.results.append(FileResult(entries[0][1].path, "restored", ""))
    if changed:
        article.save(update_fields=changed)
        report.changed_slugs.add(slug)
    if source and (created or sorted(article.tags.values_list("name", flat=True)) != source.tags):
        article.tags.set([Tag.objects.get_or_create(name=name)[0] for name in source.tags])
        report.changed_slugs.add(slug)
    return article


def update_article_fields(article, source):
    fields = {
        "kind": source.kind,
        "source_lang": source.lang,
        "tracking_id": source.tracking_id,
        "impact_start": source.impact_start,
        "impact_end": source.impact_end,
        "owner": source.owner,
        "reviewed_on": source.reviewed_on,
        "review_every_days": source.review_every_days,
    }
    changed = [name for name, value in fields.items() if getattr(article, name) != value]
    for name in changed:
        setattr(article, name, fields[name])
    return changed


def sync_revision(article, document, report):
    current = Revision.objects.current(document.lang).filter(article=article).first()
    if current and unchanged(current, document):
        if current.source_path != stored_path(document.path):
            Revision.objects.filter(pk=current.pk).update(source_path=stored_path(document.path))
        report.results.append(FileResult(document.path, "unchanged", document.lang))
        return current
    rendered = render_document(document)
    number = (
        Revision.objects.filter(article=article, lang=document.lang)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
        or 0
    ) + 1
    Revision.objects.filter(article=article, lang=document.lang, is_current=True).update(is_current=False)
    revision = Revision.objects.create(
        article=article,
        lang=document.lang,
        number=number,
        title=document.title,
        body=document.body,
        body_hash=document.body_hash,
        html=rendered.html,
        headings=rendered.headings,
        published_at=document.published_at,
        significance=document.significance,
        source_path=stored_path(document.path),
        translated_from=translation_source(article, document),
    )
    status = "new" if number == 1 else "updated"
    report.results.append(FileResult(document.path, status, f"{document.lang} r{number}"))
    report.changed_slugs.add(article.slug)
    return revision


def unchanged(current: Revision, document: SourceDocument):
    return (
        current.body_hash == document.body_hash
        and current.title == document.title
        and current.published_at == document.published_at
        and current.significance == document.significance
        and (current.translated_from is None) == (not document.is_translation)
        and (
            not document.source_hash
            or (current.translated_from and current.translated_from.body_hash.startswith(document.source_hash))
        )
    )


def translation_source(article, document):
    if not document.is_translation:
        return None
    history = Revision.objects.filter(article=article, lang=document.translated_from)
    if document.source_hash:
        history = history.filter(body_hash__startswith=document.source_hash)
        return history.order_by("-number").first()
    return history.filter(is_current=True).first()


def render_document(document: SourceDocument):
    if document.rendered is None:
        document.rendered = rendering.render(document.body, slug=document.slug, lang=document.lang)
    return document.rendered


def withdraw_missing(plan: Plan, now, report):
    """A file gone from a folder that was imported whole: its text stops being current, and an
    article with no current text left is withdrawn. Nothing is deleted."""
    for root in plan.roots:
        if Path(root).is_file():
            continue
        seen = plan.seen_files.get(stored_path(root), set())
        gone = Revision.objects.current().filter(article__source_root=stored_path(root)).select_related("article")
        for revision in gone:
            if (revision.article.slug, revision.lang) in seen:
                continue
            Revision.objects.filter(pk=revision.pk).update(is_current=False)
            report.results.append(
                FileResult(Path(revision.source_path), "removed", f"{revision.lang} r{revision.number}")
            )
            report.changed_slugs.add(revision.article.slug)
        orphans = Article.objects.visible().filter(source_root=stored_path(root)).exclude(revisions__is_current=True)
        for article in orphans:
            article.withdrawn_at = now
            article.save(update_fields=["withdrawn_at"])
            report.results.append(FileResult(Path(root), "withdrawn", article.slug))
