"""The whole tree as nested branches, for the staff diagram page."""

from django.utils.translation import gettext_lazy as _

from wizard.trees import Tree

WHEN_LABELS = {"incident": _("inside an incident window"), "other": _("otherwise / unknown")}


def outline(tree: Tree):
    """The tree as nested branches for drawing; a node met again is drawn as a reference.
    (Iterative: a tree of a thousand nodes in a chain must not exhaust Python's stack.)"""
    seen = set()
    root = {"node": tree.nodes[tree.start], "label": None, "ref": False, "children": []}
    seen.add(tree.start)
    stack = [root]
    while stack:
        branch = stack.pop()
        node = branch["node"]
        edges = [(a.label, a.next) for a in node.leading_answers]
        if node.kind == "when":
            edges = [(WHEN_LABELS["incident"], node.incident_next), (WHEN_LABELS["other"], node.next)]
        for label, target in edges:
            child = {"node": tree.nodes[target], "label": label, "ref": target in seen, "children": []}
            branch["children"].append(child)
            if target not in seen:
                seen.add(target)
                stack.append(child)
    return root
