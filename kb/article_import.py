"""Articles as a kind of content: ``articles/<slug>/<lang>.md`` in our own layout, or a folder
of blog posts. Each text that changed becomes a new revision; a file gone from a folder
imported whole withdraws its text; nothing is ever deleted."""

from pathlib import Path

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from kb import images, languages, rendering
from kb.importer import (
    ContentKind,
    FileResult,
    ImportRefused,
    ImportReport,
    Plan,
    Problem,
    display_path,
    stored_path,
)
from kb.models import Article, Purge, Revision, Tag
from kb.sources import CONTENT_SLUG, SourceDocument, SourceError, parse_file, slug_from_filename

POST_SUFFIXES = {".md", ".markdown", ".txt"}
SKIPPED_NAMES = {"readme", "license", "changelog", "manifest"}


class ArticlePart:
    """What the plan holds for articles: (stored root, document) pairs and, per folder
    imported whole, the (slug, lang) texts it still has."""

    def __init__(self):
        self.documents = []
        self.seen = {}


def part(plan: Plan) -> ArticlePart:
    return plan.part("articles", ArticlePart)


class Articles(ContentKind):
    name = "articles"
    order = 10

    def marks_content_root(self, root):
        return any(any((root / "articles").glob(f"*/{lang}.md")) for lang in languages.codes())

    def read(self, plan, root, layout):
        if layout == "content":
            read_content_root(plan, root)
        else:
            read_posts(plan, root)

    def validate(self, plan):
        check_purged(plan)
        check_duplicates(plan)
        check_owners(plan)
        check_translations(plan)

    def sync(self, plan, report):
        sync_articles(plan, report)

    def describe(self, plan):
        return f"{len(part(plan).documents)} texts"


# -- read ---------------------------------------------------------------------------------


def read_content_root(plan: Plan, root: Path):
    articles = part(plan)
    seen = articles.seen.setdefault(stored_path(root), set())
    folder_of_articles = root / "articles"
    folders = sorted(p for p in folder_of_articles.iterdir() if p.is_dir()) if folder_of_articles.is_dir() else []
    files = {folder: sorted(folder.glob("*.md")) for folder in folders}
    if too_many(plan, root, sum(len(paths) for paths in files.values())):
        return
    for folder in folders:
        if not CONTENT_SLUG.match(folder.name):
            plan.problems.append(Problem(folder, "folder name is not a slug (a-z, 0-9, -)"))
            continue
        for path in files[folder]:
            if path.stem not in languages.codes():
                expected = ", ".join(f"{code}.md" for code in languages.codes())
                plan.problems.append(Problem(path, f"unknown language file (use {expected})"))
                continue
            document = parse(plan, path, root, slug=folder.name, lang=path.stem, strict=True)
            if document:
                articles.documents.append((stored_path(root), document))
                seen.add((document.slug, document.lang))


def read_posts(plan: Plan, root: Path):
    """A blog folder (nested) or a single file: slugs from file names, collisions numbered."""
    articles = part(plan)
    seen = articles.seen.setdefault(stored_path(root), set())
    owners = dict(Article.objects.values_list("slug", "source_root"))
    taken, titles = {}, {}
    paths = post_files(root)
    if too_many(plan, root, len(paths)):
        return
    for path in paths:
        slug = unique_slug(slug_from_filename(path), stored_path(root), owners, taken)
        if slug != slug_from_filename(path):
            plan.warnings.append(Problem(path, f"slug {slug_from_filename(path)!r} already used: imported as {slug!r}"))
        taken[slug] = path
        document = parse(plan, path, root, slug=slug, lang=None, strict=False)
        if document:
            if document.title in titles:
                first = display_path(titles[document.title])
                plan.warnings.append(Problem(path, f"same title as {first}: a near-duplicate post?"))
            titles.setdefault(document.title, path)
            articles.documents.append((stored_path(root), document))
            seen.add((document.slug, document.lang))


def post_files(root: Path):
    if root.is_file():
        return [root]
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and path.suffix.lower() in POST_SUFFIXES and path.stem.lower() not in SKIPPED_NAMES
    )


def unique_slug(base, root, owners, taken):
    """The first free of base, base-2, base-3…: free means not taken in this run and not
    owned by another folder. Sorted file order makes the choice the same every run."""
    candidate, number = base, 1
    while candidate in taken or owners.get(candidate, root) != root:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def too_many(plan: Plan, root: Path, count: int) -> bool:
    limit = settings.KB_IMPORT_MAX_FILES
    if count > limit:
        plan.problems.append(
            Problem(root, f"{count} texts to import, more than {limit} (KB_IMPORT_MAX_FILES): refused")
        )
    return count > limit


def parse(plan: Plan, path: Path, root: Path, **kwargs) -> SourceDocument | None:
    problem = unreadable(path, root)
    if problem:
        plan.problems.append(Problem(path, problem))
        return None
    try:
        document = parse_file(path, **kwargs)
        rendering.check_nesting(document.body)
    except SourceError as exc:
        plan.problems.append(Problem(path, exc.message, exc.line))
        return None
    except rendering.TooDeep as exc:
        plan.problems.append(Problem(path, str(exc), file_line(path, document.body, exc.line)))
        return None
    except (MemoryError, RecursionError) as exc:
        plan.problems.append(Problem(path, describe(exc)))
        return None
    plan.warnings += [Problem(path, warning) for warning in document.warnings]
    return document


def unreadable(path: Path, root: Path) -> str:
    """Why the file may not be read, or "": it must stay inside the imported folder (the
    whole folder was checked for links, but a link could have been made since) and be no
    larger than KB_ARTICLE_MAX_BYTES."""
    if root.is_dir() and not path.resolve().is_relative_to(root.resolve()):
        return f"symbolic link to {path.resolve()}, outside the imported folder: refused"
    limit = settings.KB_ARTICLE_MAX_BYTES
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot read file: {exc.strerror}"
    if size > limit:
        return f"{images.megabytes(size)}, more than {images.megabytes(limit)} (KB_ARTICLE_MAX_BYTES): refused"
    return ""


def file_line(path: Path, body: str, body_line: int) -> int:
    """A line of the body as a line of the file (the front matter comes before it)."""
    text = path.read_text(encoding="utf-8-sig", errors="replace").replace("\r\n", "\n")
    start = text.rfind(body)
    return body_line + (text.count("\n", 0, start) if start >= 0 else 0)


# -- validate -----------------------------------------------------------------------------


def check_purged(plan: Plan):
    """A purged text does not come back silently: while it has no revision, its file is
    refused until it is removed or imported again on purpose (--allow-purged SLUG)."""
    documents = [d for _root, d in part(plan).documents if d.slug not in plan.allow_purged]
    purges = Purge.objects.filter(slug__in={d.slug for d in documents})
    if not documents or not purges.exists():
        return
    existing = set(
        Revision.objects.filter(article__slug__in=purges.values("slug")).values_list("article__slug", "lang")
    )
    for document in documents:
        if (document.slug, document.lang) in existing:
            continue
        purge = purges.filter(slug=document.slug, lang__in=("", document.lang)).first()
        if purge:
            plan.problems.append(Problem(document.path, purged_message(document, purge)))


def purged_message(document, purge):
    when = purge.purged_at.date().isoformat()
    return (
        f"the {document.lang} text of {document.slug!r} was purged on {when} by {purge.purged_by} "
        f"({purge.reason}): remove the file, or import it again on purpose with --allow-purged {document.slug}"
    )


def check_duplicates(plan: Plan):
    seen = {}
    for _root, document in part(plan).documents:
        key = (document.slug, document.lang)
        if key in seen:
            also = display_path(seen[key])
            plan.problems.append(
                Problem(document.path, f"duplicate slug {document.slug!r} ({document.lang}), also in {also}")
            )
        seen[key] = document.path


def check_owners(plan: Plan):
    """A content/ slug that another folder already owns is a duplicate, not a new article."""
    owners = dict(Article.objects.values_list("slug", "source_root"))
    for root, document in part(plan).documents:
        owner = owners.get(document.slug)
        if owner is not None and owner != root:
            plan.problems.append(
                Problem(document.path, f"duplicate slug {document.slug!r}: already imported from {owner}")
            )


def check_translations(plan: Plan):
    documents = part(plan).documents
    incoming = {(d.slug, d.lang): d for _root, d in documents}
    for document in (d for _root, d in documents if d.is_translation):
        source_lang = document.translated_from
        source = incoming.get((document.slug, source_lang))
        known = Revision.objects.for_article(document.slug).filter(lang=source_lang)
        if source is None and not known.exists():
            message = f"translated_from: no {source_lang} text of {document.slug!r} exists"
            plan.problems.append(Problem(document.path, message))
        elif document.source_hash and not source_hash_exists(document, source, known):
            message = f"source_hash: no {source_lang} revision of {document.slug!r} has hash {document.source_hash}"
            plan.problems.append(Problem(document.path, message))
        elif not document.source_hash:
            message = f"no source_hash: assumed translated from the current {source_lang} text"
            plan.warnings.append(Problem(document.path, message))


def source_hash_exists(document, source, known):
    if source is not None and source.body_hash.startswith(document.source_hash):
        return True
    return known.filter(body_hash__startswith=document.source_hash).exists()


def headings_after(plan: Plan):
    """Heading ids per (slug, lang) as they will be after this import: for checking links
    into articles. Only texts whose body changed are rendered; the others' are stored."""
    current = {
        (revision.article.slug, revision.lang): revision
        for revision in Revision.objects.current().visible().select_related("article").defer("html")
    }
    headings = {key: revision.heading_ids for key, revision in current.items()}
    for key, revision in current.items():
        if revision.renderer < rendering.RENDERER_VERSION:  # the import will render it again
            rendered = rendering.render(revision.body, slug=revision.article.slug, lang=revision.lang)
            headings[key] = {heading["id"] for heading in rendered.headings}
    for root, document in part(plan).documents:
        key = (document.slug, document.lang)
        if key not in current or current[key].body_hash != document.body_hash:
            headings[key] = {heading["id"] for heading in render_document(document, root).headings}
    return headings


# -- sync ---------------------------------------------------------------------------------


def sync_articles(plan: Plan, report: ImportReport):
    now = timezone.now()
    by_slug = {}
    for root, document in part(plan).documents:
        by_slug.setdefault(document.slug, []).append((root, document))
    for slug, entries in by_slug.items():
        article = sync_article(slug, entries, now, report)
        # Source language first, so a translation can point at the revision just made.
        for _root, document in sorted(entries, key=lambda e: e[1].is_translation):
            sync_revision(article, document, report)
    withdraw_missing(plan, now, report)
    rendered_again = render_again(Revision.objects.all())
    if rendered_again:
        report.changed_slugs.update(rendered_again)
        report.notes.append(("info", f"rendered again with the current renderer: {len(rendered_again)} revisions"))


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
    rendered = render_document(document, article.source_root)
    number = next_number(article, document.lang)
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
        images=stored_images(rendered),
        renderer=rendering.RENDERER_VERSION,
        published_at=document.published_at,
        significance=document.significance,
        source_path=stored_path(document.path),
        translated_from=translation_source(article, document),
    )
    status = "new" if number == 1 else "updated"
    report.results.append(FileResult(document.path, status, f"{document.lang} r{number}"))
    report.changed_slugs.add(article.slug)
    return revision


def next_number(article, lang):
    highest = Revision.objects.filter(article=article, lang=lang).aggregate(n=Max("number"))["n"]
    return (highest or 0) + 1


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


def render_document(document: SourceDocument, root=None):
    if document.rendered is None:
        try:
            document.rendered = rendering.render(
                document.body, slug=document.slug, lang=document.lang, source=document.path, root=root_path(root)
            )
        except (MemoryError, RecursionError) as exc:
            raise ImportRefused(Problem(document.path, describe(exc))) from exc
    return document.rendered


def describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, rendering.TooDeep) else f"too large or too deeply nested ({type(exc).__name__})"


def stored_images(rendered) -> dict:
    """The images the text shows, copied into the database: {name in the URL: sha256}."""
    try:
        return images.store_all(rendered.images)
    except images.ImageError as exc:
        raise ImportRefused(Problem(exc.path, exc.message)) from exc


def root_path(stored_root):
    """The imported folder (a stored path: relative to the project, or absolute)."""
    if not stored_root:
        return None
    path = Path(stored_root)
    return path if path.is_absolute() else settings.BASE_DIR / path


def render_again(revisions):
    """Render again the revisions an older renderer made (kb.rendering.RENDERER_VERSION):
    the HTML is never stale when the renderer or its allow-list changes. Returns the slugs of
    the current texts rendered again (their search documents change)."""
    slugs = []
    for revision in revisions.filter(renderer__lt=rendering.RENDERER_VERSION).select_related("article"):
        source = root_path(revision.source_path)
        try:
            rendered = rendering.render(
                revision.body,
                slug=revision.article.slug,
                lang=revision.lang,
                source=source,
                root=root_path(revision.article.source_root),
            )
        except (rendering.TooDeep, MemoryError, RecursionError) as exc:
            raise ImportRefused(Problem(source or Path(revision.source_path), f"{revision}: {describe(exc)}")) from exc
        revision.html, revision.headings = rendered.html, rendered.headings
        revision.images = stored_images(rendered)
        revision.renderer = rendering.RENDERER_VERSION
        revision.save(update_fields=["html", "headings", "images", "renderer"])
        if revision.is_current:
            slugs.append(revision.article.slug)
    return slugs


def withdraw_missing(plan: Plan, now, report):
    """A file gone from a folder that was imported whole: its text stops being current, and an
    article with no current text left is withdrawn. Nothing is deleted."""
    for root in plan.roots:
        if Path(root).is_file():
            continue
        seen = part(plan).seen.get(stored_path(root), set())
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
