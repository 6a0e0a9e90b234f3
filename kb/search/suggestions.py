"""'Did you mean': English words the index does not know, corrected from the words it does.

The words are kept as a plain sorted list in the index folder (written by a build, added to by
updates), not as a field of every document: as a field they were a fifth of all postings,
and the suggestions only ever need the list.
"""

import re
from pathlib import Path

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
