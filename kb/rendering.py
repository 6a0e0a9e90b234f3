"""Markdown to safe HTML: the one place article text becomes markup.

Python-Markdown with pymdown-extensions renders (tables, fenced code with Pygments, GitHub
alerts, Unicode heading ids so the wizard can link to a Japanese section); nh3 then removes
anything that could run in a browser. Raw HTML tags that are not formatting tags are shown
as text, because in support articles `<resourcegroupname>` is a placeholder, not markup.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as etree

import markdown
import nh3
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext, gettext_noop
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
    "div": {"class"},
    "p": {"class"},
    "span": {"class"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "loading"},
    "details": {"open"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}
# The titles pymdownx gives GitHub alerts, shown in the text's language (locale/).
# Each title a literal, so that makemessages finds it.
ALERT_TITLES = {
    "Note": gettext_noop("Note"),
    "Tip": gettext_noop("Tip"),
    "Important": gettext_noop("Important"),
    "Warning": gettext_noop("Warning"),
    "Caution": gettext_noop("Caution"),
}
TAG_NAME = re.compile(r"^</?\s*([A-Za-z][\w-]*)")


# Bump when what render() produces changes: the import renders older revisions again.
# (4: images are copied into the database, kb.images, instead of kept as paths.)
# (5: code blocks are focusable and named.)
# (6: code blocks are named regions, numbered when a text has more than one.)
RENDERER_VERSION = 6
# The classes the renderer itself emits; an article cannot add others (it could imitate the
# site's own notices). Pygments names token classes "k", "s2", "l-Scalar-Plain" …
RENDERED_CLASSES = {
    "div": {"highlight", "admonition", "note", "tip", "important", "warning", "caution"},
    "p": {"admonition-title"},
    "span": {"image-missing"},
}
PYGMENTS_CLASS = re.compile(r"^[a-z]{1,3}[0-9]?(?:-[A-Z][A-Za-z0-9]*)*$")
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


class TooDeep(ValueError):
    """Markdown nested deeper than settings.KB_MARKDOWN_MAX_DEPTH, with the line."""

    def __init__(self, depth, line):
        limit = settings.KB_MARKDOWN_MAX_DEPTH
        super().__init__(f"lists or quotes nested {depth} deep, more than {limit} (KB_MARKDOWN_MAX_DEPTH): refused")
        self.line = line


# A line can only nest deeper than the limit with a long run of quote markers, list markers
# and indentation at its start: one regular expression over the text finds the few such lines.
NESTING_PREFIX = r"^[ \t>*+\-.)0-9]{%d,}"
LINE_PREFIX = re.compile(r"((?:[ \t]*>)*)([ \t]*)((?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*)")


def check_nesting(body: str):
    """Raise TooDeep for the first line that nests lists and quotes past the limit: the
    Markdown parser would take minutes and gigabytes on them (3,000 stacked quotes, 4.5 MB,
    ran out of memory). Depth counts quote markers, then indentation (4 columns a level) and
    list markers when the line is a list item."""
    limit = settings.KB_MARKDOWN_MAX_DEPTH
    for match in re.finditer(NESTING_PREFIX % (limit + 1), body, re.MULTILINE):
        line_end = body.find("\n", match.start())
        line = body[match.start() : line_end if line_end >= 0 else len(body)]
        depth = nesting_depth(line)
        if depth > limit:
            raise TooDeep(depth, body.count("\n", 0, match.start()) + 1)


def nesting_depth(line: str) -> int:
    quotes, indent, markers = LINE_PREFIX.match(line).groups()
    depth = quotes.count(">")
    items = len(re.findall(r"(?:[-*+]|\d{1,9}[.)])[ \t]+", markers))
    if items:
        depth += len(indent.expandtabs(4)) // 4 + items
    return depth


@dataclass
class Rendered:
    html: str
    headings: list  # [{"id", "text", "level"}]
    images: dict = field(default_factory=dict)  # URL name → where the import found the file


def page_ids() -> set:
    """The ids the site's own templates use: a heading must not take one (htmx swaps into
    them, links point at them)."""
    found = set()
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        found.update(re.findall(r'\bid="([A-Za-z][\w-]*)"', template.read_text(encoding="utf-8")))
    return found


PAGE_IDS = page_ids()
PAGE_ID_PREFIXES = ("node-",)  # ids the templates make from data (the tree diagram)


class PlaceholderTagsAsText(HtmlInlineProcessor):
    def handleMatch(self, m, data):
        name = TAG_NAME.match(m.group(0))
        if name and name.group(1).lower() in FORMATTING_TAGS:
            return super().handleMatch(m, data)
        return AtomicString(m.group(0)), m.start(0), m.end(0)


def alert_title(title: str, lang: str) -> str:
    """``title`` in ``lang`` when the project translates its UI into it; otherwise as
    pymdownx wrote it (not Django's fallback, the site's default language)."""
    catalogs = (
        Path(folder) / translation.to_locale(lang) / "LC_MESSAGES" / "django.mo" for folder in settings.LOCALE_PATHS
    )
    if not any(catalog.is_file() for catalog in catalogs):
        return title
    with translation.override(lang):
        return gettext(ALERT_TITLES[title])


class ImageTreeprocessor(Treeprocessor):
    """Images found beside the source file are served (kb.views.asset serves only those the
    revision lists); missing ones become their alt text. Alert titles in the text's language."""

    def __init__(self, md, slug, lang, source, root):
        super().__init__(md)
        self.slug, self.lang, self.source, self.root = slug, lang, source, root
        self.images = {}

    def run(self, root):
        for parent in list(root.iter()):
            for index, child in enumerate(list(parent)):
                if child.tag == "img":
                    self.resolve(parent, index, child)
        for title in root.iter("p"):
            if "admonition-title" in title.get("class", "") and title.text in ALERT_TITLES:
                title.text = alert_title(title.text, self.lang)

    def resolve(self, parent, index, image):
        src = image.get("src", "")
        found = image_file(src, self.source, self.root)
        if found is not None:
            name, path = found
            self.images[name] = str(path)
            with translation.override(self.lang):  # not whatever language the import happens to run in
                image.set("src", reverse("kb:asset", kwargs={"slug": self.slug, "path": name}))
            image.set("loading", "lazy")
            return
        missing = etree.Element("span", {"class": "image-missing"})
        label = image.get("alt") or Path(urlsplit(src).path).name or "image"
        missing.text = AtomicString(f"[{label}]")
        missing.tail = image.tail
        parent.remove(image)
        parent.insert(index, missing)


def image_file(src, source: Path | None, root: Path | None):
    """(name to serve it under, file) of an image the source file references, when it exists
    beside the source (or in Hexo's asset folder named after the post) inside the imported
    folder and is of an image type; else None."""
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or not parts.path or source is None:
        return None
    folder = Path(source).resolve().parent
    limit = Path(root).resolve() if root else folder
    relative = unquote(parts.path).lstrip("/")
    name = Path(relative).name
    for candidate in (folder / relative, folder / Path(source).stem / name, folder / name):
        candidate = candidate.resolve()
        if candidate.suffix.lower() in IMAGE_TYPES and candidate.is_file() and candidate.is_relative_to(limit):
            return candidate.relative_to(folder).as_posix() if candidate.is_relative_to(folder) else name, candidate
    return None


class HeadingIdTreeprocessor(Treeprocessor):
    """A heading whose id the page itself uses gets another (main → main-section)."""

    def run(self, root):
        renamed = {}
        for element in root.iter():
            if element.tag in HEADINGS and clashes(element.get("id", "")):
                renamed[element.get("id")] = element.get("id") + "-section"
                element.set("id", renamed[element.get("id")])
        if renamed:
            rename_tokens(getattr(self.md, "toc_tokens", []), renamed)


HEADINGS = {f"h{level}" for level in range(1, 7)}


def clashes(heading_id):
    return heading_id in PAGE_IDS or heading_id.startswith(PAGE_ID_PREFIXES)


def rename_tokens(tokens, renamed):
    for token in tokens:
        token["id"] = renamed.get(token["id"], token["id"])
        rename_tokens(token["children"], renamed)


class KnowledgeBaseExtension(Extension):
    def __init__(self, slug, lang, source=None, root=None):
        super().__init__()
        self.slug, self.lang, self.source, self.root = slug, lang, source, root
        self.images = None

    def extendMarkdown(self, md):
        md.inlinePatterns.register(PlaceholderTagsAsText(HTML_RE, md), "html", 90)
        self.images = ImageTreeprocessor(md, self.slug, self.lang, self.source, self.root)
        md.treeprocessors.register(self.images, "kb_images", 0)
        md.treeprocessors.register(HeadingIdTreeprocessor(md), "kb_heading_ids", 1)


def make_markdown(extension):
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
            extension,
        ],
        extension_configs={
            "pymdownx.highlight": {"css_class": "highlight", "guess_lang": False},
            "pymdownx.quotes": {"callouts": True},
            "toc": {"slugify": slugify(case="lower"), "permalink": False},
        },
    )


def render(body: str, *, slug: str = "", lang: str = "ja", source=None, root=None) -> Rendered:
    """Markdown to safe HTML. ``source``: the file the text came from, and ``root`` the folder
    it was imported from, where its images are looked for."""
    check_nesting(body)
    extension = KnowledgeBaseExtension(slug, lang, source, root)
    md = make_markdown(extension)
    html = md.convert(body)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=only_rendered_classes,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Rendered(html=scrollable_code(clean, lang), headings=flatten(md.toc_tokens), images=extension.images.images)


def scrollable_code(html, lang):
    """A code block scrolls sideways: keyboard users must be able to focus it to scroll it,
    and a focusable block needs a role and a name (axe's scrollable-region-focusable). It is
    a region, so each needs a name of its own (axe's landmark-unique): numbered when a text
    has more than one. nh3 leaves every <pre> without attributes, so the tag is found exactly."""
    count = html.count("<pre>")
    if not count:
        return html
    with translation.override(lang):
        if count == 1:
            names = [translation.gettext("Code block")]
        else:
            names = [translation.gettext("Code block %(number)d") % {"number": n} for n in range(1, count + 1)]
    labels = iter(names)
    return re.sub("<pre>", lambda _match: f'<pre tabindex="0" role="region" aria-label="{escape(next(labels))}">', html)


def only_rendered_classes(tag, attribute, value):
    if attribute != "class":
        return value
    allowed = RENDERED_CLASSES.get(tag, set())
    kept = [name for name in value.split() if name in allowed or (tag == "span" and PYGMENTS_CLASS.match(name))]
    return " ".join(kept) or None


def flatten(tokens):
    headings = []
    for token in tokens:
        text = nh3.clean(token["name"], tags=set())
        headings.append({"id": token["id"], "text": text, "level": token["level"]})
        headings.extend(flatten(token["children"]))
    return headings
