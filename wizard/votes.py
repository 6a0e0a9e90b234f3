"""What visitors said about results ("Did this solve it?"): read for ordering candidates."""

from django.db.models import Count, Q

from wizard.models import Feedback


def helped(tree_slug):
    """{result id: votes "this helped"} of a tree: the second key of the candidates' order."""
    rows = Feedback.objects.filter(tree=tree_slug).values("node").annotate(yes=Count("pk", filter=Q(helpful=True)))
    return {row["node"]: row["yes"] for row in rows}
