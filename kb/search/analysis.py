"""Text analysis: the words a text is indexed as, and a query is looked up as.

Three passes share positions:

* ASCII runs (identifiers, English words) are cut out first: an identifier such as
  ``VMExtensionProvisioningError`` or ``168.63.129.16`` is indexed whole and as its
  CamelCase/punctuation parts, so both the whole string and ``ProvisioningError`` find it;
  plain English words are lower-cased and stemmed ("extensions" finds "extension").
* The Japanese in between goes to SudachiPy (split mode A, normalised forms, so サーバ and
  サーバー are one word).
* A query word the analyzer splits, such as 「更新中」 (更新 followed by 中), is a phrase: each
  document keeps its words in order (``word_positions``), so a phrase is found by comparing
  arrays, not by reading positions.

``bench/analyzers.py`` compares Japanese analyzers by replacing ``japanese_terms`` in this
module; nothing here exists for it.
"""

import re
import threading
import unicodedata
import zlib
from bisect import bisect_left
from functools import lru_cache
from operator import itemgetter

import numpy as np
from sudachipy import dictionary as sudachi_dictionary
from sudachipy import tokenizer as sudachi_tokenizer
from whoosh.analysis import STOP_WORDS, Token, Tokenizer
from whoosh.lang.porter import stem

ASCII_RUN = re.compile(r"[\x21-\x7e]+")
CAMEL_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
PLAIN_WORD = re.compile(r"^[A-Za-z][a-z]*$|^[A-Z]+$")
SKIPPED_POS = {"補助記号", "空白"}
NAMING_POS = {"名詞", "代名詞", "接頭辞", "接尾辞"}
SUDACHI_CHUNK = 8000  # Sudachi refuses inputs over ~49 KB; keep well below in characters
SENTENCE_CONTEXT = "、"  # see japanese_terms
QUERY_CONTEXTS = (SENTENCE_CONTEXT, "その")  # see split_variants
MAX_JOINED = 5  # identifier parts joined into single terms (see ascii_terms)
JOIN = "\u00b7"  # a character the analyzer never produces otherwise

_local = threading.local()


def settings() -> dict:
    """What the words of a text depend on besides the code's versions: part of the index's
    identity (``kb.search.index.identity``), so a change here rebuilds every node's index."""
    return {
        "sudachi_mode": "A",
        "sudachi_form": "normalized_form",
        "skipped_pos": sorted(SKIPPED_POS),
        "naming_pos": sorted(NAMING_POS),
        "sudachi_chunk": SUDACHI_CHUNK,
        "sentence_context": SENTENCE_CONTEXT,
        "max_joined": MAX_JOINED,
        "stop_words": zlib.crc32(" ".join(sorted(STOP_WORDS)).encode()),
    }


def sudachi():
    if not hasattr(_local, "sudachi"):
        _local.sudachi = sudachi_dictionary.Dictionary().tokenizer()
    return _local.sudachi


class SingleCharNFKC(dict):
    """A str.translate table: each character to its NFKC form when that is one character
    (full-width ＡＢＣ, half-width ｶﾅ), so offsets stay those of the original text."""

    def __missing__(self, code):
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char)
        self[code] = folded if len(folded) == 1 else char
        return self[code]


NFKC_TABLE = SingleCharNFKC()


def normalize(text: str) -> str:
    return text if text.isascii() else text.translate(NFKC_TABLE)


@lru_cache(maxsize=100_000)
def ascii_terms(run: str, mode: str) -> tuple:
    """(term, start, end, same position as previous) for one ASCII run: a word, or an
    identifier. An identifier is indexed whole, as its parts, and as every run of 2 to
    MAX_JOINED consecutive parts joined into one term, so that a query for the identifier
    or for a piece of it (``ProvisioningError``, ``waagent.log``) is one term lookup
    instead of a slow phrase of parts."""
    stripped = run.strip("\"'()[]{}<>,;:!?.`*=|")
    if not stripped:
        return ()
    offset = run.index(stripped)
    if PLAIN_WORD.match(stripped):
        word = stripped.lower()
        return () if word in STOP_WORDS else ((stem(word), offset, offset + len(stripped), False),)
    parts = [(m.group(0).lower(), offset + m.start(), offset + m.end()) for m in CAMEL_PARTS.finditer(stripped)]
    parts = [(stem(t) if t.isalpha() else t, s, e) for t, s, e in parts]
    whole = (stripped.lower(), offset, offset + len(stripped), False)
    if len(parts) <= 1:
        return (whole,) if not parts or parts[0][0] != whole[0] else ((*parts[0], False),)
    if mode == "query":
        if len(parts) <= MAX_JOINED:
            return ((JOIN.join(t for t, _, _ in parts), parts[0][1], parts[-1][2], False),)
        return tuple((t, s, e, False) for t, s, e in parts)
    found = [whole]
    for i, (term, start, end) in enumerate(parts):
        found.append((term, start, end, i == 0))
        for length in range(2, min(MAX_JOINED, len(parts) - i) + 1):
            run_parts = parts[i : i + length]
            found.append((JOIN.join(t for t, _, _ in run_parts), start, run_parts[-1][2], True))
    return tuple(found)


def identifier_parts(text: str) -> str:
    """The text with each identifier of two or more words written as its words
    (``OSProvisioningTimedOut``: "OS Provisioning Timed Out"; ``extensions/write``:
    "extensions write"): what to look for when no text holds the identifier whole. Numbers
    and addresses stay as they are."""

    def words(found):
        run = found.group(0)
        parts = CAMEL_PARTS.findall(run)
        return " ".join(parts) if sum(part.isalpha() for part in parts) >= 2 else run

    return ASCII_RUN.sub(words, text)


def japanese_terms(segment: str) -> list:
    """(term, start, end) of the Japanese between two ASCII runs. Sudachi reads the start of
    its input as the start of a sentence, where 一時ディスク becomes 1 + 時 + ディスク instead
    of 一時 + ディスク as anywhere else: each piece is given a comma before it (skipped like any
    punctuation), so a word splits the same at the start of a query, a title or a segment as
    inside a sentence."""
    return sudachi_terms(segment, SENTENCE_CONTEXT)


def sudachi_terms(segment: str, context: str) -> list:
    """(term, start, end) of ``segment`` read by Sudachi after ``context`` (not itself returned).
    (A list built in one loop: this runs over every word of every text a rebuild indexes.)"""
    if segment.isspace():  # the space between two English words: nothing for Sudachi
        return []
    found, skipped, skip = [], skipped_pos_ids(), len(context)
    tokenize, mode = sudachi().tokenize, sudachi_tokenizer.Tokenizer.SplitMode.A
    for start, chunk in chunks(segment):
        offset = start - skip
        for morpheme in tokenize(context + chunk, mode):
            begin = morpheme.begin()
            if begin >= skip and morpheme.part_of_speech_id() not in skipped:
                found.append((morpheme.normalized_form().lower(), offset + begin, offset + morpheme.end()))
    return found


@lru_cache(maxsize=1)
def skipped_pos_ids() -> frozenset:
    """The dictionary's part-of-speech ids whose first level is in SKIPPED_POS."""
    dictionary, ids, pos_id = sudachi_dictionary.Dictionary(), set(), 0
    while (pos := dictionary.pos_of(pos_id)) is not None:
        if pos[0] in SKIPPED_POS:
            ids.add(pos_id)
        pos_id += 1
    return frozenset(ids)


def japanese_nouns(text: str) -> set:
    """The Japanese words of a query that name things (nouns, prefixes, suffixes: 更新 and 中
    of 更新中), as opposed to particles, auxiliaries and verbs (に, ない, できる, 変わる)."""
    nouns = set()
    for segment in ASCII_RUN.split(normalize(text)):
        if segment.strip():
            for morpheme in sudachi().tokenize(SENTENCE_CONTEXT + segment, sudachi_tokenizer.Tokenizer.SplitMode.A):
                if morpheme.part_of_speech()[0] in NAMING_POS:
                    nouns.add(morpheme.normalized_form().lower())
    return nouns


# What a Japanese word of a query does, by its part of speech (``japanese_roles``).
CONTENT, LIGHT, FUNCTION = "content", "light", "function"
# Parts of speech that only frame a question (particles, auxiliaries, adverbs, pronouns):
# どうして, ですか, でしょうか, の, を; a text need not hold them.
FUNCTION_POS = {"助詞", "助動詞", "副詞", "接続詞", "連体詞", "感動詞", "代名詞"}
# Words that frame a clause rather than name anything: the stem of an auxiliary (試すように:
# よう), and a noun that works as an adverb after a verb or an auxiliary (接続できないときに:
# とき; not 中 of 更新中, which follows a noun).
CLAUSE_POS = {"動詞", "助動詞", "形容詞"}
# Negation is an auxiliary that changes what is asked (起動しない), so it stays.
NEGATION = {"ない", "ず", "ぬ"}


def japanese_roles(text: str) -> dict:
    """Each Japanese word of a query (as the analyzer writes it) → CONTENT (nouns, verbs that
    stand alone: 停止, 消える, 知る), LIGHT (verbs and adjectives that lean on another word:
    する, できる, いる, 続く) or FUNCTION (particles, auxiliaries, adverbs, framing nouns: を,
    です, か, どう, よう, とき);
    negation (ない, ず) is CONTENT. A word seen in several roles takes the weightiest."""
    rank = {FUNCTION: 0, LIGHT: 1, CONTENT: 2}
    roles: dict = {}
    for segment in ASCII_RUN.split(normalize(text)):
        if not segment.strip():
            continue
        after = ""  # the part of speech before this word
        for morpheme in sudachi().tokenize(SENTENCE_CONTEXT + segment, sudachi_tokenizer.Tokenizer.SplitMode.A):
            pos, form = morpheme.part_of_speech(), morpheme.normalized_form().lower()
            framing = pos[1] == "助動詞語幹" or ("副詞可能" in pos[1:3] and after in CLAUSE_POS)
            after = pos[0]
            if form in NEGATION:
                role = CONTENT
            elif pos[0] in FUNCTION_POS or framing:
                role = FUNCTION
            elif pos[1] == "非自立可能" and pos[0] in ("動詞", "形容詞"):
                role = LIGHT
            else:
                role = CONTENT
            if form not in roles or rank[role] > rank[roles[form]]:
                roles[form] = role
    return roles


def split_variants(text: str) -> dict:
    """For each Japanese run of a query that Sudachi splits differently depending on what
    comes before it (割り当て解除: 割る + 当てる + 解除 after a comma, 割り当て + 解除 after その),
    its usual split → the other splits. A text holds the words one way or the other, so a
    query looks for every split."""
    variants = {}
    for piece in normalize(text).split():
        for segment in ASCII_RUN.split(piece):
            if not segment:
                continue
            splits = []
            for context in QUERY_CONTEXTS:
                words = tuple(term for term, _start, _end in sudachi_terms(segment, context))
                if words and words not in splits:
                    splits.append(words)
            if len(splits) > 1:
                variants[splits[0]] = splits[1:]
    return variants


def chunks(segment: str):
    """(start, piece) of at most SUDACHI_CHUNK characters, cut after a line or a sentence
    where there is one, so that no word is cut in two."""
    if len(segment) <= SUDACHI_CHUNK:
        return ((0, segment),)
    pieces, start = [], 0
    while start < len(segment):
        end = min(start + SUDACHI_CHUNK, len(segment))
        if end < len(segment):
            cut = max(segment.rfind("\n", start, end), segment.rfind("。", start, end))
            end = cut + 1 if cut > start else end
        pieces.append((start, segment[start:end]))
        start = end
    return pieces


def terms(text: str, mode: str = "index") -> list:
    """(term, start, end, same position as previous) over a text, in order."""
    text = normalize(text)
    found, cursor = [], 0
    for match in ASCII_RUN.finditer(text):
        at = match.start()
        if at > cursor and not (between := text[cursor:at]).isspace():  # (most often one space)
            found += [(term, cursor + start, cursor + end, False) for term, start, end in japanese_terms(between)]
        parts = ascii_terms(match.group(), mode)
        if len(parts) == 1:  # (a word: most runs)
            term, start, end, same = parts[0]
            found.append((term, at + start, at + end, same))
        else:
            found += [(term, at + start, at + end, same) for term, start, end, same in parts]
        cursor = match.end()
    if cursor < len(text):
        found += [(term, cursor + start, cursor + end, False) for term, start, end in japanese_terms(text[cursor:])]
    return found


def analysed(value: str) -> list:
    """terms() of a text being indexed, computed once for the fields that read it."""
    cached = getattr(_local, "analysed", None)
    if cached is not None and (cached[0] is value or cached[0] == value):
        return cached[1]
    found = terms(value, "index")
    _local.analysed = (value, found)
    return found


def word_hash(word: str) -> int:
    return zlib.crc32(word.encode())


# word_hash of the words of texts being indexed: most recur from one text to the next.
known_word_hash = lru_cache(maxsize=500_000)(word_hash)


def word_hashes(words) -> np.ndarray:
    """word_hash of each word, as an array."""
    return np.fromiter(map(known_word_hash, words), dtype=np.uint32, count=len(words))


def word_positions(found) -> list:
    """One (term, start, end) per position of a text, in order. Where an identifier puts
    several terms at one position, its part is kept (``standard`` of ``Standard_D2s_v3``,
    then ``d``, ``2``, …): an identifier is the run of its parts."""
    if not any(map(itemgetter(3), found)):  # no identifier of several parts: every term is a position
        return [(term, start, end) for term, start, end, _same in found if JOIN not in term]
    kept = []
    for term, start, end, same_position in found:
        if JOIN in term:
            continue
        if same_position and kept:
            kept[-1] = (term, start, end)
        else:
            kept.append((term, start, end))
    return kept


def run_of(words) -> np.ndarray:
    """The hashes a phrase or joined identifier term is looked for as, in sequences."""
    return np.array([word_hash(part) for word in words for part in word.split(JOIN)], dtype=np.uint32)


class RegionText(str):
    """A document's title and body as one string, with the (start, end, name) regions of the
    title and of each heading."""

    regions: tuple = ()


def region_text(title: str, body: str, headings) -> RegionText:
    text = RegionText(f"{title}\n{body}")
    regions = [(0, len(title), "title")]
    cursor = len(title) + 1
    for heading in headings:
        found = text.find(heading, cursor) if heading else -1
        if found >= 0:
            regions.append((found, found + len(heading), "headings"))
            cursor = found + len(heading)
    text.regions = tuple(regions)
    return text


def in_region(found, regions, name):
    """The terms of ``found`` (in order of their start) that start inside the regions called
    ``name`` (regions in order, not overlapping)."""
    spans = [(start, end) for start, end, region in regions if region == name]
    if not spans:
        return []
    starts = [item[1] for item in found]
    inside = []
    for start, end in spans:
        inside += found[bisect_left(starts, start) : bisect_left(starts, end)]
    return inside


class HybridTokenizer(Tokenizer):
    """The analysis above as a whoosh tokenizer; with ``region``, only the words of the title
    or of the headings of a RegionText. (whoosh pickles this class into the index: its
    import path is part of the index format, see ``kb.search.index.INDEX_FORMAT``.)"""

    region = None

    def __init__(self, region=None):
        self.region = region

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        found = analysed(value) if mode == "index" else terms(value, mode)
        if self.region:
            found = in_region(found, getattr(value, "regions", ()), self.region)
        position = start_pos - 1
        for term, start, end, same_position in found:
            if not same_position:
                position += 1
            token.text = term
            token.boost, token.stopped = 1.0, False  # the token is reused: undo any filter's marks
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = position
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token
