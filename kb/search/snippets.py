"""Snippets: escaped text around the matches, with <mark>, from the stored characters of
each word (nothing is re-analysed). A phrase or an identifier is marked where its words
stand together."""

import re
from html import escape

import numpy as np
from whoosh import highlight, query
from whoosh.analysis import Token

from kb.search import ranking
from kb.search.analysis import run_of
from kb.search.segments import Searchable

SNIPPET_CHARS = 160
# Places of each word or phrase looked at to choose the two best fragments: past the first
# few, a frequent word (VM, 仮想マシン) only makes the choice slower, not better, and a rarer
# word further on is still considered.
MARKS_PER_RUN = 12
SPACES = re.compile(r"\s+")


class Highlights:
    def __init__(self, queries, data: Searchable, unmarked=frozenset()):
        self.data = data
        self.unmarked = unmarked  # words not marked when they stand alone
        self.runs = {}  # hashes as bytes: hashes
        for q in queries:
            if q is not None:
                self.collect(q)
        singles = [run for run in self.runs.values() if run.size == 1]
        self.single_words = np.concatenate(singles) if singles else None  # looked for in one scan
        self.phrases = [run for run in self.runs.values() if run.size > 1]

    def collect(self, node):
        if isinstance(node, query.Not):
            return
        if isinstance(node, query.AndNot):
            self.collect(node.a)
            return
        if isinstance(node, query.Phrase) and node.fieldname == "text":
            groups = [node.words] if node.slop == 1 else [[word] for word in node.words]
        elif isinstance(node, query.Term) and node.fieldname == "text":
            groups = [[node.text]]
        else:
            groups = []
        for words in groups:
            if len(words) == 1 and words[0] in self.unmarked:
                continue
            run = run_of(words)
            self.runs[run.tobytes()] = run
        for child in node.children():
            self.collect(child)

    def spans(self, docnum):
        words, characters = self.data.sequence(docnum)
        if len(characters) != words.size:  # not written by this schema: no marks, no error
            return []
        found = [] if self.single_words is None else [(first_places(words, self.single_words), 1)]
        found += [(ranking.run_starts(words, run)[:MARKS_PER_RUN], run.size) for run in self.phrases]
        if not found:
            return []
        begins = np.concatenate([characters[starts, 0] for starts, _size in found])
        ends = np.concatenate([characters[starts + size - 1, 1] for starts, size in found])
        order = np.argsort(begins, kind="stable")
        return list(zip(begins[order].tolist(), ends[order].tolist(), strict=True))

    def snippet(self, docnum, title, body):
        offset = len(title) + 1  # the indexed text is the title, a newline, then the body
        tokens = []
        for start, end in self.spans(docnum):
            if start >= offset:
                token = Token(startchar=start - offset, endchar=end - offset, matched=True)
                token.text = body[token.startchar : token.endchar]
                tokens.append(token)
        if not tokens:
            return escape(SPACES.sub(" ", body[:SNIPPET_CHARS]))
        fragments = FRAGMENTER.fragment_matches(body, tokens)
        best = highlight.top_fragments(fragments, 2, highlight.BasicFragmentScorer(), highlight.FIRST)
        return SPACES.sub(" ", MarkFormatter().format(best))


class MarkFormatter(highlight.Formatter):
    between = " … "

    def format_token(self, text, token, replace=False):
        return f"<mark>{escape(highlight.get_text(text, token, replace))}</mark>"

    def format_fragment(self, fragment, replace=False):
        output, index_ = [], fragment.startchar
        text = fragment.text
        for token in fragment.matches:
            if token.startchar < index_:
                continue
            output.append(escape(text[index_ : token.startchar]))
            output.append(self.format_token(text, token, replace))
            index_ = token.endchar
        output.append(escape(text[index_ : fragment.endchar]))
        return "".join(output)


def first_places(words, hashes):
    """Where any of ``hashes`` stands in ``words``, at most MARKS_PER_RUN places for each: one
    scan of the words for all the single words of a query (a question has many)."""
    found = np.flatnonzero(np.isin(words, hashes))
    if not found.size:
        return found
    order = np.argsort(words[found], kind="stable")  # grouped by word, each group in text order
    found, values = found[order], words[found[order]]
    group_starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    place_in_group = np.arange(found.size) - np.repeat(group_starts, np.diff(np.r_[group_starts, found.size]))
    return np.sort(found[place_in_group < MARKS_PER_RUN])


FRAGMENTER = highlight.PinpointFragmenter(maxchars=SNIPPET_CHARS, surround=60, autotrim=True)
