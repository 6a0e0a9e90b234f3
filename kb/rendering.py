"""Markdown to safe HTML: the one place article text becomes markup.

Python-Markdown with pymdown-extensions renders (tables, fenced code with Pygments, GitHub
alerts, Unicode heading ids so the wizard can link to a Japanese section); nh3 then removes
anything that could run in a browser. Raw HTML tags that are not formatting tags are shown
as text, because in support articles `<resourcegroupname>` is a placeholder, not markup.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as etree

import markdown
import nh3
from django.conf import settings
from django.urls import reverse
from markdown.extensions import Extension
from markdown.inlinepatterns import HTML_RE, HtmlInlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString
from pymdownx.slugs import slugify

FORMATTING_TAGS = {
    "a",
    "abbr",
    "b",
    "br",
    "code",
    "del",
    "details",
    "em",
    "i",
    "img",
    "ins",
    "kbd",
    "mark",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "u",
    "div",
}
ALLOWED_TAGS = FORMATTING_TAGS | {
    "blockquote",
    "caption",
    "col",
    "colgroup",
    "dd",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"class"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "loading"},
    "details": {"open"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}
ALERT_TITLES_JA = {
    "Note": "注記",
    "Tip": "ヒント",
    "Important": "重要",
    "Warning": "警告",
    "Caution": "注意",
}
TAG_NAME = re.compile(r"^</?\s*([A-Za-z][\w-]*)")


@dataclass
class Rendered:
    html: str
    headings: list  # [{"id", "text", "level"}]


class PlaceholderTagsAsText(HtmlInlineProcessor):
    def handleMatch(self, m, data):
        name = TAG_NAME.match(m.group(0))
        if name and name.group(1).lower() in FORMATTING_TAGS:
            return super().handleMatch(m, data)
        return AtomicString(m.group(0)), m.start(0), m.end(0)


class ImageTreeprocessor(Treeprocessor):
    """Images that exist beside the article are served; missing ones become their alt text."""

    def __init__(self, md, slug, lang):
        super().__init__(md)
        self.slug = slug
        self.lang = lang

    def run(self, root):
        for parent in list(root.iter()):
            for index, child in enumerate(list(parent)):
                if child.tag == "img":
                    self.resolve(parent, index, child)
        for title in root.iter("p"):
            if self.lang == "ja" and "admonition-title" in title.get("class", ""):
                title.text = ALERT_TITLES_JA.get(title.text or "", title.text)

    def resolve(self, parent, index, image):
        src = image.get("src", "")
        local = asset_path(self.slug, src)
        if local is not None:
            image.set("src", reverse("kb:asset", kwargs={"slug": self.slug, "path": local}))
            image.set("loading", "lazy")
            return
        missing = etree.Element("span", {"class": "image-missing"})
        label = image.get("alt") or Path(urlsplit(src).path).name or "image"
        missing.text = AtomicString(f"[{label}]")
        missing.tail = image.tail
        parent.remove(image)
        parent.insert(index, missing)


def asset_path(slug, src):
    """The image's path inside content/articles/<slug>/ when that file exists, else None."""
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    folder = (Path(settings.CONTENT_DIR) / "articles" / slug).resolve()
    relative = unquote(parts.path).lstrip("./")
    for candidate in (folder / relative, folder / Path(relative).name):
        candidate = candidate.resolve()
        if candidate.is_file() and candidate.is_relative_to(folder):
            return str(candidate.relative_to(folder))
    return None


class KnowledgeBaseExtension(Extension):
    def __init__(self, slug, lang):
        super().__init__()
        self.slug = slug
        self.lang = lang

    def extendMarkdown(self, md):
        md.inlinePatterns.register(PlaceholderTagsAsText(HTML_RE, md), "html", 90)
        md.treeprocessors.register(ImageTreeprocessor(md, self.slug, self.lang), "kb_images", 0)


def make_markdown(slug, lang):
    return markdown.Markdown(
        extensions=[
            "tables",
            "sane_lists",
            "nl2br",
            "pymdownx.superfences",
            "pymdownx.highlight",
            "pymdownx.quotes",
            "pymdownx.magiclink",
            "toc",
            KnowledgeBaseExtension(slug, lang),
        ],
        extension_configs={
            "pymdownx.highlight": {"css_class": "highlight", "guess_lang": False},
            "pymdownx.quotes": {"callouts": True},
            "toc": {"slugify": slugify(case="lower"), "permalink": False},
        },
    )


def render(body: str, *, slug: str = "", lang: str = "ja") -> Rendered:
    md = make_markdown(slug, lang)
    html = md.convert(body)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Rendered(html=clean, headings=flatten(md.toc_tokens))


def flatten(tokens):
    headings = []
    for token in tokens:
        text = nh3.clean(token["name"], tags=set())
        headings.append({"id": token["id"], "text": text, "level": token["level"]})
        headings.extend(flatten(token["children"]))
    return headings
