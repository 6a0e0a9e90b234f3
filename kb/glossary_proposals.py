"""Candidate glossary pairs from the bilingual articles themselves: each current translation's
title and headings, aligned with those of the text it was made from. Pairs whose forms the
glossary already knows on both sides are left out; an editor accepts a pair by trimming it
to the term it names and copying it into content/glossary.yaml."""

from dataclasses import dataclass

from kb.models import Revision
from kb.search.bridge import Bridge, form_key


@dataclass(frozen=True)
class Proposal:
    slug: str
    where: str  # "title" or the source heading's anchor
    forms: dict  # {lang: text}
    known: frozenset  # the languages whose text is already a glossary form

    def as_yaml(self):
        lines = [f"  # {self.slug} {self.where}" + (f" (known: {', '.join(sorted(self.known))})" if self.known else "")]
        for number, (lang, text) in enumerate(self.forms.items()):
            lines.append(f"  {'- ' if number == 0 else '  '}{lang}: [{quoted(text)}]")
        return "\n".join(lines)


def quoted(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def aligned(source: Revision, translation: Revision):
    """(where, source text, translated text): the titles, and the headings when both texts
    have the same outline (same number of headings, same levels); otherwise the headings
    cannot be paired with any confidence and only the titles are."""
    pairs = [("title", source.title, translation.title)]
    if [h["level"] for h in source.headings] == [h["level"] for h in translation.headings]:
        pairs += [
            (f"#{a['id']}", a["text"], b["text"]) for a, b in zip(source.headings, translation.headings, strict=True)
        ]
    return pairs


def proposals(bridge: Bridge):
    translations = (
        Revision.objects.current()
        .exclude(translated_from=None)
        .select_related("article", "translated_from")
        .order_by("article__slug", "lang")
    )
    seen = set()
    for translation in translations:
        source = translation.translated_from
        for where, source_text, translated_text in aligned(source, translation):
            forms = {source.lang: source_text.strip(), translation.lang: translated_text.strip()}
            key = tuple(forms.items())
            known = frozenset(lang for lang, text in forms.items() if form_key(text) in bridge.index)
            if key in seen or len(known) == len(forms) or not all(forms.values()):
                continue
            seen.add(key)
            yield Proposal(translation.article.slug, where, forms, known)
