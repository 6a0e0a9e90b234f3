"""Which section of an article a search hit's snippet comes from, so the hit can link to the
heading above the matched words (`article-url#heading-id`) instead of the article's top.

The snippet is escaped text of the article's plain body with <mark> around the matches
(kb.search.snippets). Its first fragment holding a mark is found again in the rendered text,
cut into sections at its headings; the heading of the section where the first mark stands
is the anchor. Nothing is stored and the index is not read: a snippet that cannot be placed
exactly (an index behind its texts, say) links to the article's top, as before.
"""

import operator
import re
from collections import OrderedDict
from functools import reduce
from html import unescape
from threading import Lock

from django.db.models import Q

from kb.models import Revision
from kb.search.documents import plain_text

HEADING = re.compile(r'<h[1-6]\b[^>]*?\sid="([^"]+)"')
MARK = "<mark>"
TAG = re.compile(r"<[^>]+>")
SPACES = re.compile(r"\s+")
BETWEEN = " … "  # kb.search.snippets.MarkFormatter.between
KEPT_TEXTS = 1024  # sectioned texts a process keeps (their plain text: 5–30 kB each)

_sections: OrderedDict = OrderedDict()
_lock = Lock()


def normalised(text):
    return SPACES.sub(" ", text)


def sectioned(html, headings):
    """The text as one string of normalised plain text, and where each section starts in it:
    [(start, heading or None before the first heading)]; ``headings`` as kb.rendering
    keeps them ({"id", "text", "level"})."""
    by_id = {heading["id"]: heading for heading in headings}
    cuts = [(match.start(), by_id[match.group(1)]) for match in HEADING.finditer(html) if match.group(1) in by_id]
    bounds = [(0, None), *cuts]
    parts, starts, position = [], [], 0
    for index, (begin, heading) in enumerate(bounds):
        end = bounds[index + 1][0] if index + 1 < len(bounds) else len(html)
        text = normalised(plain_text(html[begin:end])).strip()
        starts.append((position, heading))
        parts.append(text)
        position += len(text) + 1  # the space joining it to the next
    return " ".join(parts), starts


def sections_of(slug, lang, number):
    key = (slug, lang, number)
    with _lock:
        if key in _sections:
            _sections.move_to_end(key)
            return _sections[key]
    return load([key])[key]


def load(keys) -> dict:
    """Sections of the texts ``keys`` ((slug, lang, revision number)) from the database in
    one query, kept; a key without its revision is kept as None."""
    wanted = set(keys)
    exactly = reduce(operator.or_, (Q(article__slug=slug, lang=lang, number=number) for slug, lang, number in wanted))
    rows = Revision.objects.filter(exactly)
    found = dict.fromkeys(wanted)
    for slug, lang, number, html, headings in rows.values_list("article__slug", "lang", "number", "html", "headings"):
        if (slug, lang, number) in wanted:
            found[(slug, lang, number)] = sectioned(html, headings)
    with _lock:
        _sections.update(found)
        while len(_sections) > KEPT_TEXTS:
            _sections.popitem(last=False)
    return found


def prefetch(hits):
    """Load the sections of a page's hits not kept yet in one query (not one per hit)."""
    with _lock:
        missing = {(hit.slug, hit.lang, hit.revision) for hit in hits} - _sections.keys()
    if missing:
        load(missing)


def heading_of(hit):
    """The heading ({"id", "text", "level"}) above the first marked words of a hit's snippet,
    or None (no mark, before the first heading, or not found again)."""
    fragment = next((part for part in hit.snippet.split(BETWEEN) if MARK in part), None)
    if fragment is None:
        return None
    found = sections_of(hit.slug, hit.lang, hit.revision)
    if not found:
        return None
    text, starts = found
    before = normalised(unescape(TAG.sub("", fragment[: fragment.index(MARK)]))).lstrip()
    whole = normalised(unescape(TAG.sub("", fragment))).strip()
    place = text.find(whole)
    if place < 0 or text.find(whole, place + 1) >= 0:  # not there, or not in one place only
        return None
    marked_at = place + len(before)
    heading = None
    for start, section in starts:
        if start > marked_at:
            break
        heading = section
    return heading


def forget():
    with _lock:
        _sections.clear()
