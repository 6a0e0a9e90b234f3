"""One content import for every kind of content: discover, parse, validate, then sync atomically.

Each kind of content (articles, staleness rules, the glossary here; troubleshooting trees in
``wizard``) is a ``ContentKind`` registered from its app's ``AppConfig.ready()``, so the
import depends on no app and apps depend on ``kb`` only: wizard → kb, never back.

The importer reads files and never writes them. Every file of every kind is validated
before anything is written; one invalid file means nothing at all is written. A kind writes
only what changed, so re-importing unchanged files is a no-op.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from kb import caching


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
    """Everything read from disk, validated, ready to sync; ``parts`` holds each kind's own."""

    roots: list = field(default_factory=list)
    parts: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    allow_purged: set = field(default_factory=set)  # slugs whose purged texts may come back

    def part(self, kind_name, default_factory=list):
        return self.parts.setdefault(kind_name, default_factory())


@dataclass
class ImportReport:
    results: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    changed_slugs: set = field(default_factory=set)  # articles whose search documents changed
    changed_kinds: set = field(default_factory=set)  # other kinds that wrote something
    notes: list = field(default_factory=list)  # (level: "info" | "warning", text) for the summary
    flag_counts: dict = field(default_factory=dict)
    dry_run: bool = False

    @property
    def ok(self):
        return not self.problems

    def count(self, status):
        return sum(1 for result in self.results if result.status == status)


class ImportRefused(Exception):
    """A problem found while syncing (an image too large to store, say): the transaction
    rolls back and the import reports it like any other problem."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


class ContentKind:
    """One kind of content. ``read`` runs for every folder or file given to the import
    (``layout`` "content" for a folder in our own layout, "posts" for a blog folder or a
    single file); ``validate`` once everything is read; ``sync`` inside the import's
    transaction, in ``order``."""

    name = ""
    order = 50

    def marks_content_root(self, root: Path) -> bool:
        """Whether ``root`` holds files in this kind's place of our own layout."""
        return False

    def read(self, plan: Plan, root: Path, layout: str):
        pass

    def validate(self, plan: Plan):
        pass

    def sync(self, plan: Plan, report: ImportReport):
        pass

    def describe(self, plan: Plan) -> str:
        """What was read, for check_content: "5 texts", "1 tree"."""
        return ""


_kinds: dict[str, ContentKind] = {}


def register(kind: ContentKind):
    _kinds[kind.name] = kind


def kinds() -> list[ContentKind]:
    return sorted(_kinds.values(), key=lambda kind: kind.order)


def display_path(path: Path) -> str:
    """The path as given, relative to the working folder when inside it: a symbolic link is
    named as itself, not as its target."""
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def stored_path(path: Path) -> str:
    """Paths inside the project are stored relative to it, so a moved checkout still matches."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(settings.BASE_DIR))
    except ValueError:
        return str(resolved)


def is_content_root(root: Path) -> bool:
    """Our own layout (articles/<slug>/<lang>.md, wizard/, staleness.yaml, …), as opposed to
    a blog folder, which may also have an articles/ folder but with posts directly in it."""
    return root.is_dir() and any(kind.marks_content_root(root) for kind in kinds())


def links_outside(root: Path) -> list[Problem]:
    """Every symbolic link under ``root`` (file or folder, at any depth) whose target is not
    inside it: the import reads nothing a link could bring in from elsewhere (a key in var/,
    /etc/passwd). Links that stay inside are fine. Folders are walked without following
    links, so a link to a folder is judged by its target, not entered."""
    limit = root.resolve()
    problems = []

    def unreadable(error):
        problems.append(Problem(Path(error.filename), f"cannot read folder: {error.strerror}"))

    for folder, dirs, files in os.walk(root, onerror=unreadable):
        for name in dirs + files:
            path = Path(folder, name)
            target = path.resolve() if path.is_symlink() else limit
            if not target.is_relative_to(limit):
                problems.append(Problem(path, f"symbolic link to {target}, outside the imported folder: refused"))
    return problems


def build_plan(paths, allow_purged=()) -> Plan:
    plan = Plan(allow_purged=set(allow_purged))
    for raw in paths:
        root = Path(raw)
        if not root.exists():
            plan.problems.append(Problem(root, "no such file or folder"))
            continue
        if root.is_dir() and (outside := links_outside(root)):
            plan.problems += outside
            continue
        plan.roots.append(root)
        layout = "content" if is_content_root(root) else "posts"
        for kind in kinds():
            kind.read(plan, root, layout)
    if not plan.problems:
        for kind in kinds():
            kind.validate(plan)
    return plan


def run_import(paths, *, dry_run=False, allow_purged=()) -> ImportReport:
    plan = build_plan(paths, allow_purged)
    report = ImportReport(problems=plan.problems, warnings=plan.warnings, dry_run=dry_run)
    if plan.problems:
        return report
    try:
        sync(plan, report, dry_run)
    except ImportRefused as refused:
        report.problems.append(refused.problem)
        report.results.clear()
        return report
    caching.publish_content_version()
    return report


def sync(plan: Plan, report: ImportReport, dry_run: bool):
    from kb.models import ImportRun

    with transaction.atomic():
        take_import_lock()
        for kind in kinds():
            kind.sync(plan, report)
        if report.changed_slugs or report.changed_kinds:
            ImportRun.objects.create(
                changed_slugs=sorted(report.changed_slugs),
                summary={
                    status: report.count(status) for status in ("new", "updated", "unchanged", "removed", "withdrawn")
                },
            )
        if dry_run:
            transaction.set_rollback(True)


def failure_cause(exc: BaseException) -> str:
    """An exception as a cause a person can act on: never an empty string (``str`` of a
    MemoryError is one)."""
    if isinstance(exc, MemoryError):
        return "ran out of memory (MemoryError): a file too large or too deeply nested?"
    if isinstance(exc, RecursionError):
        return "structure nested too deeply to follow (RecursionError)"
    message = str(exc).strip()
    return f"{message} ({type(exc).__name__})" if message else f"{type(exc).__name__}, with no message"


def take_import_lock():
    """Two imports never interleave: the second waits for the first to commit."""
    # SQLite needs nothing here: its transactions begin IMMEDIATE (see settings), which
    # already takes the single write lock.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('kb.import_content'))")
