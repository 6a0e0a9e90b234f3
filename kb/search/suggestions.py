"""'Did you mean': English words the index does not know, corrected from the words it does.

The words are kept as a plain sorted list in the index folder (written by a build, added to by
updates), not as a field of every document: as a field they were a fifth of all postings,
and the suggestions only ever need the list.
"""

import re
from functools import cache
from pathlib import Path

from spellchecker import SpellChecker
from whoosh.spelling import ListCorrector

WORD = re.compile(r"[a-z]{4,}")
FILE = "english_words"
_loaded = {}


def write(directory: Path, words):
    (directory / FILE).write_text("\n".join(sorted(words)), encoding="utf-8")


def add(directory: Path, words):
    known = set(vocabulary(directory))
    if not set(words) <= known:
        write(directory, known | set(words))


def vocabulary(directory: Path) -> list:
    """The sorted words, read again only when the file changed."""
    path = directory / FILE
    try:
        stamp = path.stat()
    except OSError:
        return []
    key = (stamp.st_mtime_ns, stamp.st_size)
    if _loaded.get(path, (None,))[0] != key:
        words = path.read_text(encoding="utf-8").split("\n")
        _loaded[path] = (key, [word for word in words if word])
    return _loaded[path][1]


def suggest(directory: Path, text):
    """A corrected query, or "" when no word needed correcting."""
    words = vocabulary(directory)
    if not words:
        return ""
    known, corrector = set(words), ListCorrector(words)
    typed, changed = text.split(), False
    for position, word in enumerate(typed):
        lowered = word.lower()
        if not WORD.fullmatch(lowered) or lowered in known:
            continue
        # prefix=1: most typos keep the first letter, and it spares a scan of every word.
        found = corrector.suggest(lowered, limit=1, maxdist=2, prefix=1)
        if found:
            typed[position], changed = found[0], True
    return " ".join(typed) if changed else ""


KANA = re.compile(r"[\u3041-\u3096ー]{3,}")  # a run of hiragana long enough to be a loanword
KATAKANA = re.compile(r"[ァ-ヴ][ァ-ヴー]{4,}")  # a katakana word long enough to correct


def distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of two neighbours counts one), or limit + 1
    as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before, row = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return row[-1]


# How often a word must stand in pyspellchecker's English frequency list (counts from
# OpenSubtitles) to be a word in its own right rather than a typo: "fine", "worked", "sever".
ENGLISH_WORD_COUNT = 50


@cache
def english_counts():
    return SpellChecker(distance=1).word_frequency


def is_english_word(word: str) -> bool:
    """Whether ``word`` is an English word people write (not a typo of another), by
    pyspellchecker's frequency list: "fine" and "worked" are, "provisoning" is not."""
    return english_counts()[word] >= ENGLISH_WORD_COUNT


def needs_correcting(word: str, filler) -> bool:
    """An English word no text holds is corrected unless it is a word of the language ("fine"
    is not a typo of "file", nor "worked" of "worker") or a filler of a question (``filler``:
    "dont", "wont"). (Not by its stem: "extention" stems to "extent", which texts hold.)"""
    return not is_english_word(word) and not filler(word)


def closest(word: str, words, frequency) -> str:
    """The known word nearest ``word`` (at most 1 edit for a word of up to 5 letters, else 2),
    the most frequent among the nearest; "" when none is near."""
    limit = 1 if len(word) <= 5 else 2
    best, best_key = "", None
    for known in words:
        if known[0] != word[0] or abs(len(known) - len(word)) > limit:  # most typos keep the first letter
            continue
        found = distance(word, known, limit)
        if found <= limit:
            key = (found, -frequency(known))
            if best_key is None or key < best_key:
                best, best_key = known, key
    return best


def correct(
    directory: Path, text: str, frequency, known_reading, katakana_words=tuple, filler=lambda word: False
) -> str:
    """The query with each English word no text holds (``needs_correcting``) replaced by the
    nearest word texts do hold (edit distance, then frequency: ``frequency(word)`` is how
    many texts hold it), each hiragana run no text holds replaced by its katakana spelling
    when texts hold that (すなっぷしょっと: スナップショット; ``known_reading(run)`` says
    whether they do), and each
    katakana word no text holds by the nearest of the index's ``katakana_words()`` (called only
    then: プロビジョニンク: プロビジョニング). The query unchanged when nothing needed correcting."""
    words = vocabulary(directory)
    known = set(words)
    typed = text.split()
    for position, word in enumerate(typed):
        lowered = word.lower()
        if WORD.fullmatch(lowered):
            if lowered not in known and words and needs_correcting(lowered, filler):
                typed[position] = closest(lowered, words, frequency) or word
        elif KANA.fullmatch(word):
            katakana = "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in word)
            if not known_reading(word) and known_reading(katakana):
                typed[position] = katakana
        elif KATAKANA.fullmatch(word) and not known_reading(word):
            typed[position] = closest(word, katakana_words(), frequency) or word
    return " ".join(typed)
