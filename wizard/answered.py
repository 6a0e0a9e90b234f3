"""The answers as the visitor gave them: one row per answer, in the page's language, with
the link that goes back to change it."""

from django.utils.translation import gettext as _

from wizard import moments, walking
from wizard.links import step_url
from wizard.trees import UNKNOWN, Tree


def answer_text(tree: Tree, node_id, value, lang):
    if node_id == walking.OS:
        return {"linux": "Linux", "windows": "Windows"}.get(value, value)
    node = tree.nodes[node_id]
    if value == UNKNOWN:
        return _("I don't know")
    if node.kind == "when":
        return moments.describe(moments.parse(value), lang)
    return node.answer(value).label[lang]


def question_text(tree: Tree, node_id, lang):
    if node_id == walking.OS:
        return _("Operating system of the VM")
    return tree.nodes[node_id].text[lang]


def answered(tree: Tree, answers: walking.Answers, lang, slug="", paste=""):
    """One row per answer given: the question, the answer, whether it was "I don't know",
    and the link that goes back to change it. The OS that no question asked (a paste named it,
    or the agent form) is stated as taken, and its link drops only it, so it is asked."""
    return [
        {
            "node": node_id,
            "question": question_text(tree, node_id, lang),
            "answer": answer_text(tree, node_id, value, lang) + (inferred_note() if node_id == walking.OS else ""),
            "unknown": value == UNKNOWN,
            "change_url": change_url(answers, node_id, slug, paste) if slug else "",
        }
        for node_id, value in answers.values.items()
    ]


def inferred_note():
    return " (" + _("taken from your paste or the form, not asked") + ")"


def change_url(answers: walking.Answers, node_id, slug, paste):
    if node_id == walking.OS:
        kept = walking.Answers({q: v for q, v in answers.values.items() if q != walking.OS})
        return step_url(slug, kept, p=paste)
    return step_url(slug, answers.before(node_id), p=paste)
