"""The articles and official pages a tree cites, as links in the visitor's language, for the
visitor's OS: a result's further reading, and the sources of each statement."""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import translation

from kb import languages
from kb.models import Revision
from wizard.trees import OS_NAMES, sources_of


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
    """A sourced text with its source links, and the parts of it for each OS (a question's
    help): only the visitor's OS's once it is known."""
    parts = [{"os": name, "text": text[name]} for name in OS_NAMES if name in text and os in ("", name)]
    return {"text": text, "sources": source_links(text, lang, texts, os), "for_os": parts}


def steps_for(steps, lang, texts, os):
    """The remediation steps that hold for the visitor's OS: once the OS is known, a step the
    tree marks for the other OS (``os``) is left out, and so is a step whose every source is
    written for the other OS (unless that would leave none). Each keeps its ``os`` (shown as
    a badge, and in the ticket summary, while the OS is not known)."""
    for_os = [step for step in steps if not (os and step.get("os") and step["os"] != os)]
    shown = [{**statement(step, lang, texts, os), "os": step.get("os", "")} for step in for_os]
    kept = [step for step in shown if step["sources"]]
    return kept or [{**statement(step, lang, texts), "os": step.get("os", "")} for step in for_os]
