"""The content languages, read from settings.LANGUAGES in one place.

The site's UI languages and the languages articles, trees and staleness reasons are written
in are the same list; the first (``settings.LANGUAGE_CODE``, Japanese) is the language
originals are written in by default. A third language is a settings and content change.
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation import get_language_info, gettext


def codes() -> tuple[str, ...]:
    return tuple(code for code, _name in settings.LANGUAGES)


def source() -> str:
    """The language originals are written in unless their file says otherwise."""
    return settings.LANGUAGE_CODE


def others(lang: str) -> tuple[str, ...]:
    return tuple(code for code in codes() if code != lang)


def url_pattern() -> str:
    """A URL converter regex matching exactly the content languages."""
    return "|".join(sorted(codes(), key=len, reverse=True))


def name(code: str, in_lang: str) -> str:
    """The language ``code`` called by its name in ``in_lang`` (英語, Japanese, 日语 …)."""
    with translation.override(in_lang):
        return gettext(get_language_info(code)["name"])


# Languages written in the Latin alphabet: their texts hold no Japanese (or Chinese) words,
# while Japanese texts hold plenty of English ones.
LATIN_SCRIPT = {"en", "fr", "de", "es", "it", "pt", "pt-br", "nl", "sv", "da", "nb", "fi", "pl", "cs", "tr", "id", "vi"}


def latin_script() -> tuple[str, ...]:
    return tuple(code for code in codes() if code in LATIN_SCRIPT)


def local_name(code: str) -> str:
    """The language's name in itself (日本語, English): for language switches."""
    return get_language_info(code)["name_local"]


def written_in(text: str, page_lang: str) -> str:
    """The language a few typed words are in, as far as their letters tell (for a lang
    attribute): ASCII only is the page's language when it is written in the Latin alphabet,
    else the first such language; anything else is the page's language unless that one is
    Latin-script, then the source language (プロビジョニング on an English page is Japanese)."""
    latin = latin_script()
    if text.isascii():
        return page_lang if page_lang in latin or not latin else latin[0]
    return source() if page_lang in latin else page_lang
