"""A plain BM25 peer for the relevance measurement (bench/relevance.py); the site never uses it.

Roughly what Elasticsearch's default ``match`` query does with a kuromoji analyzer, so that every
figure of ours has a plain baseline beside it: words from SudachiPy (split mode A, normalised
forms, lower-cased), particles, auxiliaries, symbols and blanks dropped by their part of speech,
whoosh's own BM25F over the title (counted 3x) and the body, and the query's words in an OR group.
Nothing of ours: no identifier splitting, no stemming, no phrases, no glossary, no relaxation.
It lives here because whoosh is imported only inside kb/search/.
"""

from collections.abc import Iterable, Iterator

from sudachipy import dictionary, tokenizer
from whoosh.analysis import RegexTokenizer
from whoosh.fields import STORED, TEXT, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.query import Or, Term
from whoosh.scoring import BM25F

STOP_PARTS_OF_SPEECH = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白"})
CHUNK = 8000  # characters: Sudachi refuses inputs over ~49 KB
TITLE_BOOST = 3.0


class Baseline:
    """An in-memory index of (slug, lang, title, body) texts, searched as plain BM25-OR."""

    def __init__(self, texts: Iterable[tuple[str, str, str, str]]):
        self._sudachi = dictionary.Dictionary().tokenizer(mode=tokenizer.Tokenizer.SplitMode.A)
        words = RegexTokenizer(r"\S+")  # the words are split already: keep them as they are
        schema = Schema(
            slug=STORED,
            title=TEXT(analyzer=words, field_boost=TITLE_BOOST),
            body=TEXT(analyzer=words),
        )
        self._index = RamStorage().create_index(schema)
        with self._index.writer() as writer:
            for slug, _lang, title, body in texts:
                writer.add_document(slug=slug, title=" ".join(self.words(title)), body=" ".join(self.words(body)))

    def words(self, text: str) -> Iterator[str]:
        """The text's Sudachi words, normalised and lower-cased, without the stop parts of speech."""
        for chunk in chunks(text):
            for morpheme in self._sudachi.tokenize(chunk):
                if morpheme.part_of_speech()[0] in STOP_PARTS_OF_SPEECH:
                    continue
                yield from morpheme.normalized_form().lower().split()

    def search(self, query: str, limit: int = 10) -> list[str]:
        """The slugs of the best texts for the query, best first, each slug once."""
        terms = sorted(set(self.words(query)))
        if not terms:
            return []
        either = Or([Term(field, term) for term in terms for field in ("title", "body")])
        slugs: list[str] = []
        with self._index.searcher(weighting=BM25F()) as searcher:
            for hit in searcher.search(either, limit=limit * 2):  # a slug may hit in both languages
                if hit["slug"] not in slugs:
                    slugs.append(hit["slug"])
        return slugs[:limit]


def chunks(text: str) -> Iterator[str]:
    """The text in pieces of at most CHUNK characters, cut at line ends where there are any."""
    piece = ""
    for line in text.splitlines(keepends=True):
        while len(line) > CHUNK:
            if piece:
                yield piece
                piece = ""
            yield line[:CHUNK]
            line = line[CHUNK:]
        if len(piece) + len(line) > CHUNK:
            yield piece
            piece = ""
        piece += line
    if piece:
        yield piece
