"""Troubleshooting trees as a kind of content: ``wizard/<tree>.yaml``, validated against the
articles as they will be after the same import, stored as a new revision when changed."""

from pathlib import Path

from django.db.models import Max

from kb.article_import import headings_after
from kb.importer import ContentKind, FileResult, stored_path
from wizard import trees
from wizard.models import TreeRevision


class Trees(ContentKind):
    name = "trees"
    order = 20

    def marks_content_root(self, root):
        return (root / "wizard").is_dir()

    def read(self, plan, root, layout):
        if layout == "content" and (root / "wizard").is_dir():
            plan.part(self.name).extend(sorted((root / "wizard").glob("*.yaml")))

    def validate(self, plan):
        paths = plan.part(self.name)
        if not paths:
            return
        headings = headings_after(plan)
        for path in paths:
            plan.problems += trees.check_file(path, headings)

    def sync(self, plan, report):
        for path in plan.part(self.name):
            status, detail = sync_file(path)
            report.results.append(FileResult(path, status, detail))
            if status != "unchanged":
                report.changed_kinds.add(self.name)

    def describe(self, plan):
        count = len(plan.part(self.name))
        return f"{count} tree{'s' if count != 1 else ''}"


def sync_file(path: Path):
    """(status, detail) after storing a validated tree file as a new revision if it changed.
    Numbers continue from the highest ever stored, so a revision removed by hand is never
    reused."""
    slug, data = Path(path).stem, trees.read_file(path)
    digest = trees.data_hash(data)
    current = TreeRevision.objects.filter(slug=slug, is_current=True).first()
    if current and current.data_hash == digest:
        return "unchanged", "tree"
    number = (TreeRevision.objects.filter(slug=slug).aggregate(n=Max("number"))["n"] or 0) + 1
    TreeRevision.objects.filter(slug=slug, is_current=True).update(is_current=False)
    TreeRevision.objects.create(slug=slug, number=number, data=data, data_hash=digest, source_path=stored_path(path))
    return ("new" if number == 1 else "updated"), f"tree r{number}"
