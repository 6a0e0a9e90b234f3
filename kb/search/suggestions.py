"""'Did you mean': English words the index does not know, corrected from the words it does."""

import re

WORD = re.compile(r"[a-z]{4,}")


def suggest(s, text):
    """A corrected query, or "" when no word needed correcting."""
    corrector = s.corrector("spelling")
    reader = s.reader()
    words, changed = text.split(), False
    for index_, word in enumerate(words):
        lowered = word.lower()
        if not WORD.fullmatch(lowered) or reader.frequency("spelling", lowered):
            continue
        # prefix=1: most typos keep the first letter, and it spares a scan of every word.
        found = corrector.suggest(lowered, limit=1, maxdist=2, prefix=1)
        if found:
            words[index_], changed = found[0], True
    return " ".join(words) if changed else ""
