"""The live troubleshooting trees: the current revision of each, or the revision an old link
names, read from the database and built once per process (a revision never changes)."""

from dataclasses import dataclass

from wizard.models import TreeRevision
from wizard.trees import Tree, build


class TreeNotFound(Exception):
    pass


@dataclass
class LiveTree:
    revision: TreeRevision
    tree: Tree


def live_tree(slug) -> LiveTree:
    revision = TreeRevision.objects.filter(slug=slug, is_current=True).defer("data").first()
    if revision is None:
        raise TreeNotFound(slug)
    return LiveTree(revision, built(revision))


def tree_at(slug, number) -> LiveTree | None:
    revision = TreeRevision.objects.filter(slug=slug, number=number).defer("data").first()
    return LiveTree(revision, built(revision)) if revision else None


_built = {}


def built(revision):
    """Trees are immutable per revision: read and build each once per process."""
    key = (revision.pk, revision.data_hash)
    if key not in _built:
        data = TreeRevision.objects.values_list("data", flat=True).get(pk=revision.pk)
        _built[key] = build(revision.slug, data)
    return _built[key]


def live_trees():
    revisions = TreeRevision.objects.filter(is_current=True).defer("data").order_by("slug")
    return [LiveTree(revision, built(revision)) for revision in revisions]
