"""The wizard's own links: a step with its answers, and the permanent link of an outcome."""

from urllib.parse import urlencode

from django.urls import reverse

from wizard import walking
from wizard.tree_cache import LiveTree


def query(**params):
    kept = {key: value for key, value in params.items() if value not in (None, "", False)}
    return f"?{urlencode(kept)}" if kept else ""


def step_url(slug, answers: walking.Answers, **extra):
    return reverse("wizard:step", kwargs={"tree": slug}) + query(a=answers.encode(), **extra)


def outcome_url(live: LiveTree, step, answers, made_on=None, paste="", stop=False, described=""):
    """The permanent link of where a walk ended: one result, or the candidates (or the page
    that says the wizard does not cover it, with the customer's words)."""
    params = {
        "a": answers.encode(),
        "r": live.revision.number,
        "at": made_on and made_on.isoformat(),
        "p": paste,
        "d": described,
    }
    if step.result is not None:
        return reverse("wizard:result", kwargs={"tree": live.tree.slug, "node": step.result.id}) + query(**params)
    return reverse("wizard:candidates", kwargs={"tree": live.tree.slug}) + query(**params, end=int(stop))
