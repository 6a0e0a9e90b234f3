"""Each candidate cause laid out for a page: its cause, remediation, sources, articles,
incident reports, what the visitor said that points to it, and the check that would confirm
or rule it out."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from wizard import walking
from wizard.articles import article_links, statement, steps_for, texts_of
from wizard.links import step_url
from wizard.tree_cache import LiveTree
from wizard.trees import Tree, sources_of


@dataclass
class CandidateView:
    candidate: walking.Candidate
    node: object
    cause: dict
    remediation: list
    links: list
    rcas: list
    reasons: list  # rows: what the visitor said that points here
    open: list  # rows: what is not known, each with its check
    check: dict | None  # the first open question, answerable right here
    standing: str = ""  # likely, possible, unlikely (the diagnosis's words; "" for a tree walk)
    os: str = ""  # the VM's OS as the walk knows it ("" when it does not)


def cited_slugs(tree: Tree, candidates):
    slugs = set()
    for candidate in candidates:
        node = candidate.result
        slugs |= {link["slug"] for link in node.articles} | set(node.rcas)
        for text in [node.cause, *node.remediation]:
            slugs |= {s["article"] for s in sources_of(text) if "article" in s}
    for node in tree.nodes.values():
        if node.help:
            slugs |= {s["article"] for s in sources_of(node.help) if "article" in s}
    return slugs


def candidate_views(live: LiveTree, candidates, answers, lang, os, since=None, paste="", incident_info=None):
    tree = live.tree
    texts = texts_of(cited_slugs(tree, candidates))
    views = []
    for candidate in candidates:
        node = candidate.result
        rows = [condition_row(tree, condition, lang, incident_info or {}) for condition in candidate.conditions]
        open_rows = [row for row in rows if not row["settled"]]
        first_open = next((c for c in candidate.conditions if not c.settled and c.node in tree.nodes), None)
        views.append(
            CandidateView(
                candidate=candidate,
                node=node,
                cause=statement(node.cause, lang, texts, os),
                remediation=steps_for(node.remediation, lang, texts, os),
                links=article_links(node.articles, lang, os, since, texts),
                rcas=article_links([{"slug": slug} for slug in node.rcas], lang, os, texts=texts),
                reasons=[row for row in rows if row["settled"] and row["given"]],
                open=open_rows,
                check=check_for(live, first_open, answers, lang, texts, paste, os) if first_open else None,
                standing=getattr(candidate, "standing", ""),
                os=os,
            )
        )
    return views


def condition_row(tree: Tree, condition: walking.Condition, lang, incident_info):
    if condition.node == walking.OS:
        return {
            "question": _("Operating system of the VM"),
            "answer": {"linux": "Linux", "windows": "Windows"}.get(condition.answer, condition.answer),
            "status": condition.status,
            "settled": condition.settled,
            "given": condition.status == "known",
        }
    node = tree.nodes[condition.node]
    if node.kind == "when":
        answer = incident_text(node, condition, lang, incident_info)
    else:
        answer = node.answer(condition.answer).label[lang]
    return {
        "question": node.text[lang],
        "answer": answer,
        "status": condition.status,
        "settled": condition.settled,
        "given": condition.status == "known",
    }


def incident_text(node, condition, lang, incident_info):
    """How a "when" step reads on a result: never a certainty the visitor did not give."""
    windows = [incident_info[slug] for slug in node.rcas if slug in incident_info]
    if not windows:
        return _("outside any known incident window") if condition.answer == "other" else _("in an incident window")
    window = windows[0]
    if condition.answer == "other":
        return _("not inside the window of %(title)s") % {"title": window["title"]}
    if condition.status == "known":
        return _("inside the window of %(title)s (%(window)s)") % window
    return (
        _(
            "%(title)s affected operations on that day between %(window)s; if your failures fell in that window, this applies"
        )
        % window
    )


def check_for(live: LiveTree, condition, answers, lang, texts, paste, os=""):
    """The question that would confirm or rule out a candidate, with its help and its
    answers as links that narrow the walk."""
    node = live.tree.nodes[condition.node]
    if node.kind == "when":
        return {"node": node, "help": statement(node.help, lang, texts, os) if node.help else None, "choices": []}
    return {
        "node": node,
        "help": statement(node.help, lang, texts, os) if node.help else None,
        "choices": [
            {"answer": a, "url": step_url(live.tree.slug, answers.with_answer(node.id, a.id), p=paste)}
            for a in node.known_answers
        ],
    }
