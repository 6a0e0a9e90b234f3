"""What the index holds for one text: the schema, and the document made from a revision.

Title and body are analysed once, as one text; the words of the title and of the headings
are also indexed on their own, so that a match there adds to the score.
"""

import re
from collections import Counter
from html import unescape
from itertools import chain
from operator import itemgetter

import nh3
import numpy as np
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, FieldType, Schema
from whoosh.formats import Frequency
from whoosh.system import pack_uint

from kb.search.analysis import (
    HybridTokenizer,
    analysed,
    in_region,
    region_text,
    word_hash,
    word_hashes,
    word_positions,
)

FIELD_WEIGHTS = {"in_title": 4.0, "in_headings": 2.0}  # added to the score of the whole text
SCORED_FIELDS = ("text", *FIELD_WEIGHTS)
ENGLISH_WORD = re.compile(r"[A-Za-z]{4,}")


class Counted(FieldType):
    """A scored field whose terms and frequencies are counted straight from the analysis of
    the text (computed once for every field, ``analysis.analysed``), not token by token
    through whoosh's analyzer pipeline: most of a rebuild's time went there. Queries are
    still analysed by ``analyzer``. (``FieldType.index`` is whoosh's public extension point.
    Pickled into the index like the tokenizer: its import path is part of the index format.)"""

    def __init__(self, region=None):
        # multitoken_query: a query word the analyzer splits (更新中: 更新 + 中) is a phrase,
        # not its parts anywhere.
        super().__init__(Frequency(), HybridTokenizer(region), scorable=True, multitoken_query="phrase")
        self.region = region

    def index(self, value, **kwargs):
        for term, count in self.counts(value).items():
            yield term.encode("utf-8"), count, float(count), pack_uint(count)

    def counts(self, value) -> Counter:
        """Each term of the text → its frequency (``kb.search.building`` takes them so)."""
        found = analysed(value)
        if self.region:
            found = in_region(found, getattr(value, "regions", ()), self.region)
        return Counter(map(itemgetter(0), found))


class Sequence(COLUMN):
    """A column of each document's words in order (word_positions): their hashes, which
    phrases are checked against, or their (start, end) characters, which snippets mark.
    Computed by the writer, in the process that analyses the text. (Pickled into the index
    like the tokenizer: its import path is part of the index format.)"""

    def __init__(self, part):
        super().__init__(VarBytesColumn())
        self.part = part

    def to_column_value(self, value):
        kept = positions(value)
        if self.part == "hashes":
            return word_hashes([term for term, _start, _end in kept]).tobytes()
        characters = chain.from_iterable(map(itemgetter(1, 2), kept))
        return np.fromiter(characters, dtype=np.uint32, count=2 * len(kept)).tobytes()


def positions(value):
    """word_positions of a text being indexed, once for both sequence columns."""
    if _last.get("value") is not value:
        _last["value"], _last["kept"] = value, word_positions(analysed(value))
    return _last["kept"]


_last = {}


def schema():
    return Schema(
        key=ID(unique=True, stored=True),
        slug=ID(stored=True),
        lang=ID(stored=True),
        kind=ID(stored=True),
        tags=KEYWORD(stored=True, commas=True, lowercase=True),
        revision=STORED(),
        title=STORED(),
        body=STORED(),
        published=STORED(),
        # Title, headings and body, with frequencies only: the sequences below say where
        # words stand, for phrases.
        text=Counted(),
        in_title=Counted("title"),
        in_headings=Counted("headings"),
        # The article a text belongs to (a hash of its slug): one result per article.
        article=COLUMN(NumericColumn("I")),
        sequence=Sequence("hashes"),
        offsets=Sequence("characters"),
    )


def plain_text(html: str) -> str:
    text = re.sub(r"</(p|li|h\d|tr|pre|div|blockquote)>", "\n", html)
    return unescape(nh3.clean(text, tags=set())).strip()


def document(revision):
    article = revision.article
    body = plain_text(revision.html)
    text = region_text(revision.title, body, [h["text"] for h in revision.headings])
    return {
        "key": f"{article.slug}:{revision.lang}",
        "slug": article.slug,
        "lang": revision.lang,
        "kind": article.kind,
        "tags": ",".join(tag.name for tag in article.tags.all()),
        "revision": revision.number,
        "title": revision.title,
        "body": body,
        "published": revision.published_at.date().isoformat() if revision.published_at else "",
        "article": word_hash(article.slug),
        "text": text,
        # The same object five times: analysed once for all five fields.
        "in_title": text,
        "in_headings": text,
        "sequence": text,
        "offsets": text,
    }


def english_words(doc) -> set:
    """The unstemmed English words of a document, for "did you mean" (kb.search.suggestions)."""
    return {word.lower() for word in ENGLISH_WORD.findall(doc["text"])}


def indexable(slugs=None):
    """The current, visible revisions (of ``slugs`` when given), in a stable order."""
    from kb.models import Revision

    revisions = Revision.objects.current().visible().select_related("article").prefetch_related("article__tags")
    if slugs is not None:
        revisions = revisions.filter(article__slug__in=list(slugs))
    return revisions.order_by("pk").iterator(chunk_size=500)
