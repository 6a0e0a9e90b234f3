import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from kb import languages, sections
from kb.models import Kind

register = template.Library()

BACKTICKS = re.compile(r"`([^`]+)`")


@register.filter
def inline_code(text):
    """Flag reasons name commands in `backticks`: show them as code, escape the rest."""
    return mark_safe(BACKTICKS.sub(r"<code>\1</code>", escape(text)))


@register.filter
def reason(flag, lang):
    """A flag's reason in the page's language, with `commands` as code."""
    return inline_code(flag.reason(lang))


@register.filter
def kind_label(kind):
    """A kind's name in the page's language (a search hit carries only its value)."""
    return Kind(kind).label if kind in Kind.values else kind


@register.filter
def written_in(text, page_lang):
    """The language typed words are in, for their lang attribute (kb.languages.written_in)."""
    return languages.written_in(str(text), page_lang)


SERIOUS = ("warning", "critical")  # severities that put a text's steps in doubt (info: its age, a rename)


@register.filter
def all_flagged(links):
    """Whether every article a result rests on may be out of date: flagged with a warning or
    worse, or no longer there. An info flag alone (published over three years ago, a product
    renamed) is no reason to doubt every step."""
    links = list(links or [])
    return bool(links) and all(serious_flags([link]) or field(link, "missing") for link in links)


@register.filter
def serious_flags(links):
    """The warning-or-worse flags of these links, one per rule, in order (for saying which)."""
    found = {}
    for link in links or []:
        for flag in field(link, "flags") or []:
            if field(flag, "severity") in SERIOUS:
                found.setdefault(field(flag, "rule_id"), flag)
    return list(found.values())


def field(item, name):
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


@register.filter
def section_of(hit):
    """The heading above a search hit's first marked words, for a link to it (kb.sections)."""
    return sections.heading_of(hit)
