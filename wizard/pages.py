"""What the wizard pages need from the database and the tree: the live tree, incident
windows, URLs, the answers as the visitor gave them, and each candidate laid out with its
cause, remediation, sources, checks and articles (for the visitor's OS)."""

from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kb import languages
from kb.models import Article, Kind, Revision
from kb.rendering import render as render_markdown
from wizard import moments, walking
from wizard.models import Feedback, TreeRevision
from wizard.trees import UNKNOWN, Tree, build, sources_of

PASTE_EXCERPT_LIMIT = 300  # characters of a paste a link carries into the ticket summary


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


def incidents():
    """RCA impact windows: {slug: (start, end)}."""
    rcas = Article.objects.visible().filter(kind=Kind.RCA, impact_start__isnull=False, impact_end__isnull=False)
    return {a.slug: (a.impact_start, a.impact_end) for a in rcas}


def helped(tree_slug):
    """{result id: votes "this helped"} of a tree: the second key of the candidates' order."""
    rows = Feedback.objects.filter(tree=tree_slug).values("node").annotate(yes=Count("pk", filter=Q(helpful=True)))
    return {row["node"]: row["yes"] for row in rows}


@lru_cache(maxsize=2048)
def markdown(text):
    return render_markdown(text).html


# -- URLs ----------------------------------------------------------------------------------


def query(**params):
    kept = {key: value for key, value in params.items() if value not in (None, "", False)}
    return f"?{urlencode(kept)}" if kept else ""


def step_url(slug, answers: walking.Answers, **extra):
    return reverse("wizard:step", kwargs={"tree": slug}) + query(a=answers.encode(), **extra)


def outcome_url(live: LiveTree, step: walking.Step, answers, made_on=None, paste="", stop=False):
    """The permanent link of where a walk ended: one result, or the candidates."""
    params = {"a": answers.encode(), "r": live.revision.number, "at": made_on and made_on.isoformat(), "p": paste}
    if step.result is not None:
        return reverse("wizard:result", kwargs={"tree": live.tree.slug, "node": step.result.id}) + query(**params)
    return reverse("wizard:candidates", kwargs={"tree": live.tree.slug}) + query(**params, end=int(stop))


# -- what the visitor answered ----------------------------------------------------------------


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
    and the link that goes back to change it."""
    return [
        {
            "node": node_id,
            "question": question_text(tree, node_id, lang),
            "answer": answer_text(tree, node_id, value, lang),
            "unknown": value == UNKNOWN,
            "change_url": step_url(slug, answers.before(node_id), p=paste) if slug else "",
        }
        for node_id, value in answers.values.items()
    ]


# -- sources and articles ----------------------------------------------------------------------


@dataclass
class Link:
    slug: str
    title: str
    url: str
    lang: str
    os: str = ""
    flags: list = field(default_factory=list)
    updated_since: bool = False
    missing: bool = False
    section: str = ""  # the heading's text, when the link points at a section


def texts_of(slugs):
    """{slug: {lang: current revision}} of visible articles."""
    found = {}
    revisions = Revision.objects.current().visible().filter(article__slug__in=set(slugs))
    for revision in revisions.select_related("article").prefetch_related("flags", "article__tags"):
        found.setdefault(revision.article.slug, {})[revision.lang] = revision
    return found


OS_TAGS = {"windows": "windows", "linux": "linux"}


def written_for(revision):
    """The one OS an article is written for, as its tags say (Windows, Linux), or ""."""
    tagged = {OS_TAGS[tag.name.lower()] for tag in revision.article.tags.all() if tag.name.lower() in OS_TAGS}
    return tagged.pop() if len(tagged) == 1 else ""


def article_link(texts, slug, section, lang, os="", since=None):
    by_lang = texts.get(slug, {})
    revision = by_lang.get(lang) or by_lang.get(languages.source()) or next(iter(by_lang.values()), None)
    if revision is None:
        return Link(slug, slug, "", lang, os, missing=True)
    os = os or written_for(revision)
    with translation.override(revision.lang):
        url = reverse("kb:article", kwargs={"slug": slug})
    heading = ""
    if section:
        url += "#" + section[revision.lang]
        heading = next((h["text"] for h in revision.headings if h["id"] == section[revision.lang]), "")
    updated = bool(since and revision.imported_at.date() > since)
    return Link(slug, revision.title, url, revision.lang, os, list(revision.flags.all()), updated, section=heading)


def article_links(links, lang, os="", since=None, texts=None):
    """The articles a result cites, in the visitor's language where they exist, leaving out
    those written for the other OS once the OS is known (the tree's ``os`` on the link, or
    the article's Windows/Linux tag)."""
    texts = texts if texts is not None else texts_of(link["slug"] for link in links)
    found = [article_link(texts, link["slug"], link.get("section"), lang, link.get("os", ""), since) for link in links]
    return [link for link in found if fits(link, os)]


def fits(link, os):
    return not (os and link.os and link.os != os)


def source_links(statement, lang, texts, os=""):
    """(label, URL) of a statement's sources: an article section here, or official docs;
    once the OS is known, not an article written for the other one."""
    found = []
    for source in sources_of(statement):
        if "url" in source:
            found.append((source["url"].split("/")[2], source["url"]))
            continue
        link = article_link(texts, source["article"], source.get("section"), lang)
        if not link.missing and fits(link, os):
            found.append((link.title + (f" › {link.section}" if link.section else ""), link.url))
    return found


def statement(text, lang, texts, os=""):
    return {"text": text, "sources": source_links(text, lang, texts, os)}


def steps_for(steps, lang, texts, os):
    """The remediation steps that hold for the visitor's OS: a step whose every source is
    written for the other OS is left out (unless that would leave none)."""
    shown = [statement(step, lang, texts, os) for step in steps]
    kept = [step for step in shown if step["sources"]]
    return kept or [statement(step, lang, texts) for step in steps]


# -- candidates -----------------------------------------------------------------------------


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
            )
        )
    return views


def condition_row(tree: Tree, condition: walking.Condition, lang, incident_info):
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


def incident_windows(lang):
    """{RCA slug: {"title", "window"}} for the wording of "when" steps."""
    found = {}
    zone = moments.ZONES["jst"]
    rcas = Article.objects.visible().filter(kind=Kind.RCA, impact_start__isnull=False, impact_end__isnull=False)
    texts = texts_of(a.slug for a in rcas)
    for article in rcas:
        start, end = article.impact_start.astimezone(zone), article.impact_end.astimezone(zone)
        by_lang = texts.get(article.slug, {})
        revision = by_lang.get(lang) or next(iter(by_lang.values()), None)
        window = f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} JST"
        found[article.slug] = {"title": revision.title if revision else article.slug, "window": window}
    return found
