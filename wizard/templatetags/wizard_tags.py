from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from kb import languages
from wizard import markdown_cache

register = template.Library()


@register.filter
def tr(text):
    """A bilingual text ({"ja": …, "en": …}) in the page's language."""
    if not isinstance(text, dict):
        return text or ""
    return text.get(get_language()) or text.get(languages.source()) or ""


@register.filter
def md(text):
    """Tree texts are Markdown from content/, rendered and sanitised like articles."""
    return mark_safe(markdown_cache.markdown(tr(text)))


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
