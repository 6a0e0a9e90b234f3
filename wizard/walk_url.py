"""A wizard URL, parsed: the tree it names, the answers (``a=``), the pasted excerpt the
ticket keeps (``p=``), the customer's own words for a symptom the tree does not know (``d=``)
and whether the visitor asked to see the candidates now (``end=1``).
A link that is too long, or names answers this tree does not have, says so in ``problem``."""

from django.utils.translation import gettext as _

from wizard import diagnosis, incidents, legacy, votes, walking
from wizard.tree_cache import LiveTree

MAX_ANSWERS_PARAM = 2000
PASTE_EXCERPT_LIMIT = 600  # characters of a paste a link carries into the ticket summary
DESCRIPTION_LIMIT = 300  # characters of "something else" a link carries


class WalkURL:
    """What a wizard URL says: the tree, the answers, and the rest of its query."""

    def __init__(self, request, live: LiveTree):
        self.live, self.tree = live, live.tree
        raw = request.GET.get("a", "")
        self.paste = request.GET.get("p", "")[:PASTE_EXCERPT_LIMIT]
        self.stop = request.GET.get("end") == "1"
        self.described = " ".join(request.GET.get("d", "").split())[:DESCRIPTION_LIMIT]
        self.incidents = incidents.impact_windows()
        self.problem = ""
        if len(raw) > MAX_ANSWERS_PARAM:
            self.answers, self.problem = (
                walking.Answers(),
                _("This link is damaged or unknown: it is too long to be a path through this tree."),
            )
        elif legacy.is_positional(raw):  # a link made before answers named their question
            self.answers = walking.from_positional(self.tree, raw.split(","), self.incidents)
        else:
            self.answers = walking.parse_answers(self.tree, raw)
            self.problem = self.answers.problem and _(
                "This link is damaged or unknown: some of its answers are not answers to this tree's questions, "
                "and were left out."
            )

    def step(self) -> diagnosis.Step:
        """Where the diagnosis stands with these answers."""
        return diagnosis.next_step(self.tree, self.answers, self.incidents, self.stop, votes.helped(self.tree.slug))

    def tree_walk(self) -> walking.Step:
        """Where the tree's own walk leads with these answers: how links were made before the
        diagnosis, so that such a link still shows the result it named."""
        return walking.next_step(self.tree, self.answers, self.incidents, self.stop)
