"""Readable diffs between two revisions of an article.

Japanese paragraphs are long single lines, so a line diff says only "this paragraph
changed". Lines are aligned with difflib, then each changed pair is diffed again within
the line by diff-match-patch, whose semantic clean-up keeps whole words and phrases
together in English and sensible character runs in Japanese.
"""

import difflib
from dataclasses import dataclass

from diff_match_patch import diff_match_patch
from django.utils.html import escape
from django.utils.safestring import mark_safe


@dataclass
class DiffRow:
    kind: str  # equal, insert, delete, replace
    old: str  # HTML: escaped text with <del>/<ins> marks
    new: str
    old_number: int | None
    new_number: int | None


def diff_texts(old: str, new: str, *, context: int = 2):
    """Rows of a side-by-side diff; runs of unchanged lines beyond ``context`` are folded
    into a single "equal" row with empty text."""
    old_lines, new_lines = old.split("\n"), new.split("\n")
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    rows = []
    for group in matcher.get_grouped_opcodes(context):
        if rows:
            rows.append(DiffRow("skip", "", "", None, None))
        for tag, i1, i2, j1, j2 in group:
            rows.extend(rows_for(tag, old_lines[i1:i2], new_lines[j1:j2], i1, j1))
    return rows


def rows_for(tag, old_lines, new_lines, old_start, new_start):
    if tag == "equal":
        return [
            DiffRow("equal", escape(a), escape(b), old_start + n + 1, new_start + n + 1)
            for n, (a, b) in enumerate(zip(old_lines, new_lines, strict=True))
        ]
    rows = []
    for n in range(max(len(old_lines), len(new_lines))):
        a = old_lines[n] if n < len(old_lines) else None
        b = new_lines[n] if n < len(new_lines) else None
        old_html, new_html = inline_diff(a or "", b or "")
        kind = "replace" if a is not None and b is not None else ("delete" if b is None else "insert")
        rows.append(
            DiffRow(
                kind,
                old_html if a is not None else "",
                new_html if b is not None else "",
                old_start + n + 1 if a is not None else None,
                new_start + n + 1 if b is not None else None,
            )
        )
    return rows


def inline_diff(old: str, new: str):
    """(old HTML, new HTML) with the changed parts of one line marked."""
    engine = diff_match_patch()
    engine.Diff_Timeout = 0.5
    diffs = engine.diff_main(old, new)
    engine.diff_cleanupSemantic(diffs)
    old_parts, new_parts = [], []
    for op, text in diffs:
        if op == 0:
            old_parts.append(escape(text))
            new_parts.append(escape(text))
        elif op == -1:
            old_parts.append(f"<del>{escape(text)}</del>")
        else:
            new_parts.append(f"<ins>{escape(text)}</ins>")
    return mark_safe("".join(old_parts)), mark_safe("".join(new_parts))


def summary(rows):
    return {
        "changed": sum(r.kind == "replace" for r in rows),
        "added": sum(r.kind == "insert" for r in rows),
        "removed": sum(r.kind == "delete" for r in rows),
    }
