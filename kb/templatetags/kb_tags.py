import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

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
