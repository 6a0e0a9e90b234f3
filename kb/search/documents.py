"""What the index holds for one text: the schema, and the document made from a revision.

Title and body are analysed once, as one text; the words of the title and of the headings
are also indexed on their own, so that a match there adds to the score.
"""

import re
from html import unescape

import nh3
import numpy as np
from whoosh.analysis import LowercaseFilter, RegexTokenizer
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, FieldType, Schema
from whoosh.formats import Frequency

from kb.search.analysis import HybridTokenizer, analysed, region_text, word_hash, word_positions

FIELD_WEIGHTS = {"in_title": 4.0, "in_headings": 2.0}  # added to the score of the whole text
SCORED_FIELDS = ("text", *FIELD_WEIGHTS)
SPELLING_WORD = r"[A-Za-z]{4,}"


class Sequence(COLUMN):
    """A column of each document's words in order (word_positions): their hashes, which
    phrases are checked against, or their (start, end) characters, which snippets mark.
    Computed by the writer, in the process that analyses the text. (Pickled into the index
    like the tokenizer: its import path is part of the index format.)"""

    def __init__(self, part):
        super().__init__(VarBytesColumn())
        self.part = part

    def to_column_value(self, value):
        kept = word_positions(analysed(value))
        if self.part == "hashes":
            return np.array([word_hash(term) for term, _start, _end in kept], dtype=np.uint32).tobytes()
        return np.array([(start, end) for _term, start, end in kept], dtype=np.uint32).tobytes()


def schema():
    return Schema(
        key=ID(unique=True, stored=True),
        slug=ID(stored=True),
        lang=ID(stored=True),
        kind=ID(stored=True),
        tags=KEYWORD(stored=True, commas=True, lowercase=True),
        revision=NUMERIC(stored=True),
        title=STORED(),
        body=STORED(),
        published=STORED(),
        # Title, headings and body. multitoken_query="phrase": 更新中 (更新 + 中) must match
        # as neighbours, not anywhere; the sequences below say where words stand, so the
        # postings need no positions (phrase=False).
        text=TEXT(analyzer=HybridTokenizer(), phrase=False, multitoken_query="phrase"),
        in_title=FieldType(Frequency(), HybridTokenizer("title"), scorable=True),
        in_headings=FieldType(Frequency(), HybridTokenizer("headings"), scorable=True),
        # The article a text belongs to (a hash of its slug): one result per article.
        article=COLUMN(NumericColumn("I")),
        sequence=Sequence("hashes"),
        offsets=Sequence("characters"),
        # Unstemmed English words, only for "did you mean" suggestions.
        spelling=TEXT(analyzer=RegexTokenizer(SPELLING_WORD) | LowercaseFilter(), phrase=False),
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
        "spelling": f"{revision.title}\n{body}",
    }


def indexable(slugs=None):
    """The current, visible revisions (of ``slugs`` when given), in a stable order."""
    from kb.models import Revision

    revisions = Revision.objects.current().visible().select_related("article").prefetch_related("article__tags")
    if slugs is not None:
        revisions = revisions.filter(article__slug__in=list(slugs))
    return revisions.order_by("pk").iterator(chunk_size=500)
