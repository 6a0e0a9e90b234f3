"""What the wizard pages need from the database: the live tree, incident windows, the
articles a result links to, and the plain-text summary a support agent pastes."""

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kb.models import Article, Kind, Revision
from kb.rendering import render as render_markdown
from wizard import trees
from wizard.models import TreeRevision


class TreeNotFound(Exception):
    pass


@dataclass
class LiveTree:
    revision: TreeRevision
    tree: trees.Tree


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
        _built[key] = trees.build(revision.slug, data)
    return _built[key]


def live_trees():
    revisions = TreeRevision.objects.filter(is_current=True).defer("data").order_by("slug")
    return [LiveTree(revision, built(revision)) for revision in revisions]


def incidents():
    """RCA impact windows: {slug: (start, end)}."""
    rcas = Article.objects.visible().filter(kind=Kind.RCA, impact_start__isnull=False, impact_end__isnull=False)
    return {a.slug: (a.impact_start, a.impact_end) for a in rcas}


@lru_cache(maxsize=2048)
def markdown(text):
    return render_markdown(text).html


def step_url(slug, answers):
    base = reverse("wizard:step", kwargs={"tree": slug})
    return f"{base}?{urlencode({'a': ','.join(answers)})}" if answers else base


def result_url(live: LiveTree, node_id, answers, made_on=None):
    base = reverse("wizard:result", kwargs={"tree": live.tree.slug, "node": node_id})
    query = {"a": ",".join(answers), "r": live.revision.number}
    if made_on:
        query["at"] = made_on.isoformat()
    return f"{base}?{urlencode(query)}"


@dataclass
class ArticleLink:
    slug: str
    title: str
    url: str
    lang: str
    flags: list = field(default_factory=list)
    updated_since: bool = False
    missing: bool = False
    section: str = ""  # the heading's text, when the link points at a section


def article_links(links, lang, since=None):
    """The articles a result cites, in the visitor's language where it exists, with their flags."""
    slugs = [link["slug"] for link in links]
    texts = {}
    for revision in (
        Revision.objects.current()
        .visible()
        .filter(article__slug__in=slugs)
        .select_related("article")
        .prefetch_related("flags")
    ):
        texts.setdefault(revision.article.slug, {})[revision.lang] = revision
    result = []
    for link in links:
        by_lang = texts.get(link["slug"], {})
        revision = by_lang.get(lang) or next(iter(by_lang.values()), None)
        if revision is None:
            result.append(ArticleLink(link["slug"], link["slug"], "", lang, missing=True))
            continue
        with translation.override(revision.lang):
            url = reverse("kb:article", kwargs={"slug": link["slug"]})
        section = ""
        if "section" in link:
            anchor = link["section"][revision.lang]
            url += "#" + anchor
            section = next((h["text"] for h in revision.headings if h["id"] == anchor), "")
        result.append(
            ArticleLink(
                link["slug"],
                revision.title,
                url,
                revision.lang,
                list(revision.flags.all()),
                updated_since=bool(since and revision.imported_at.date() > since),
                section=section,
            )
        )
    return result


def answered_steps(walk: trees.Walk, lang, slug=""):
    """(question text, answer text, link to change it) for each answer given."""
    rows = []
    for index, step in enumerate(walk.steps):
        if step.answer is not None:
            answer = step.answer.label[lang]
        elif step.value == trees.UNKNOWN:
            answer = _("I don't know")
        else:
            moment = trees.parse_moment(step.value)
            answer = moment.astimezone(dt.timezone(dt.timedelta(hours=9))).strftime("%Y-%m-%d %H:%M JST")
        rows.append(
            {
                "question": step.node.text[lang],
                "answer": answer,
                "value": step.value,
                "change_url": step_url(slug, walk.answers[:index]) if slug else "",
            }
        )
    return rows


def ticket_summary(live: LiveTree, walk: trees.Walk, lang, links, permalink):
    """The plain text a support agent pastes into a ticket."""
    node = walk.node
    with translation.override(lang):
        label = {
            "result": _("Troubleshooting result"),
            "answers": _("Answers"),
            "cause": _("Likely cause"),
            "remediation": _("Remediation"),
            "articles": _("Articles"),
            "link": _("Permanent link"),
        }
        answers = answered_steps(walk, lang)
    lines = [f"{label['result']}: {node.text[lang]}", "", f"{label['answers']}:"]
    lines += [f"- {row['question']} → {row['answer']}" for row in answers]
    lines += ["", f"{label['cause']}: {node.cause[lang]}", "", f"{label['remediation']}:"]
    lines += [f"{n}. {step[lang]}" for n, step in enumerate(node.remediation, 1)]
    lines += ["", f"{label['articles']}:"]
    lines += [f"- {link.title}{' › ' + link.section if link.section else ''}: {link.url}" for link in links]
    lines += ["", f"{label['link']}: {permalink}"]
    return "\n".join(lines)


def outline(tree: trees.Tree):
    """The tree as nested branches for drawing; a node met again is drawn as a reference."""
    seen = set()

    def branch(node_id, label):
        node = tree.nodes[node_id]
        if node_id in seen:
            return {"node": node, "label": label, "ref": True, "children": []}
        seen.add(node_id)
        edges = [(a.label, a.next) for a in node.answers]
        if node.kind == "when":
            edges = [(WHEN_LABELS["incident"], node.incident_next), (WHEN_LABELS["other"], node.next)]
        return {
            "node": node,
            "label": label,
            "ref": False,
            "children": [branch(target, edge) for edge, target in edges],
        }

    return branch(tree.start, None)


WHEN_LABELS = {
    "incident": {"ja": "インシデントの時間帯", "en": "inside an incident window"},
    "other": {"ja": "それ以外 / 不明", "en": "otherwise / unknown"},
}
