"""What visitors said about results ("Did this solve it?"), read to sharpen the diagnosis's
priors (bounded there: wizard.diagnosis.prior)."""

from django.db.models import Count, Q

from wizard.models import Feedback


def helped(tree_slug):
    """{result id: "this helped" votes minus "it did not"} of a tree."""
    rows = (
        Feedback.objects.filter(tree=tree_slug)
        .values("node")
        .annotate(yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False)))
    )
    return {row["node"]: row["yes"] - row["no"] for row in rows}
