"""What pages and commands show, put together from the models: the text to show in a
language, search hits with their flags, the editor's worklist."""

import re
import threading
from collections import defaultdict
from html import unescape
from typing import Any

from cachetools import LRUCache
from django.db.models import F
from django.urls import reverse
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.text import Truncator

from kb import caching, languages, process_state
from kb import search as search_index
from kb.models import Article, Flag, Revision
from kb.site_url import absolute_url

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def text_for(article: Article, lang: str):
    """The current text in ``lang``, else in the other language; for a withdrawn article the
    last text there was."""
    current = {r.lang: r for r in Revision.objects.current().filter(article=article).defer("body")}
    if current:
        return current.get(lang) or current.get(article.source_lang) or next(iter(current.values()))
    latest = Revision.objects.filter(article=article).order_by("lang", "-number")
    return latest.filter(lang=lang).first() or latest.first()


def contents(headings):
    """The table of contents: the top level of headings, each with the level below it, so
    that the list numbers only the top level (1, 2, 3 …)."""
    if not headings:
        return []
    top = min(heading["level"] for heading in headings)
    entries = []
    for heading in headings:
        if heading["level"] == top:
            entries.append({"heading": heading, "children": []})
        elif heading["level"] == top + 1 and entries:
            entries[-1]["children"].append(heading)
    return entries


def translation_behind(flags):
    """Whether a text's flags say it was translated from an older source text."""
    return any(flag.is_translation_behind for flag in flags)


def article_rows(articles, lang):
    articles = list(articles)
    texts: defaultdict[int, dict[str, Revision]] = defaultdict(dict)
    for revision in Revision.objects.current().filter(article__in=articles).prefetch_related("flags"):
        texts[revision.article_id][revision.lang] = revision
    rows = []
    for article in articles:
        by_lang = texts.get(article.pk, {})
        revision = by_lang.get(lang) or next(iter(by_lang.values()), None)
        if revision is not None:
            rows.append({"article": article, "revision": revision, "flags": list(revision.flags.all())})
    return rows


HIT_FLAG_TEXTS = 20_000  # texts whose flags a process keeps for search hits
_hit_flags: dict[str, Any] = {"version": None, "texts": LRUCache(HIT_FLAG_TEXTS)}
_hit_flags_lock = threading.Lock()


@process_state.resettable
def forget_hit_flags():
    with _hit_flags_lock:
        _hit_flags.update(version=None, texts=LRUCache(HIT_FLAG_TEXTS))


def flags_for_hits(hits):
    """Each hit's flags. Flags change only with an import, so a process keeps them per text
    for the content version and asks the database only about texts it has not shown since."""
    keys = {(hit.slug, hit.lang) for hit in hits}
    version = caching.content_version()
    with _hit_flags_lock:
        if _hit_flags["version"] != version:
            _hit_flags.update(version=version, texts=LRUCache(HIT_FLAG_TEXTS))
        texts = _hit_flags["texts"]
        known = {key: texts[key] for key in keys if key in texts}
    missing = keys - known.keys()
    if missing:
        found: dict[tuple[str, str], list[Flag]] = {key: [] for key in missing}
        rows = Flag.objects.filter(
            revision__is_current=True, revision__article__slug__in={slug for slug, _ in missing}
        ).annotate(slug=F("revision__article__slug"), lang=F("revision__lang"))
        for flag in rows:
            if (flag.slug, flag.lang) in found:
                found[(flag.slug, flag.lang)].append(flag)
        with _hit_flags_lock:
            if _hit_flags["version"] == version:
                _hit_flags["texts"].update(found)
        known.update(found)
    for hit in hits:
        hit.flags = known[(hit.slug, hit.lang)]
    return hits


def search(params, visitor_lang):
    results = search_index.search(
        params.q,
        lang=params.language_filter,
        prefer_lang=None if params.lang else visitor_lang,
        kind=params.kind or None,
        tag=params.tag or None,
        page=params.page,
        page_size=params.limit,
        as_typed=params.as_typed,
    )
    flags_for_hits(results.hits)
    return results


def article_path(slug, lang):
    with translation.override(lang):
        return reverse("kb:article", kwargs={"slug": slug})


def hit_url(hit):
    return article_path(hit.slug, hit.lang)


DESCRIPTION_CHARACTERS = 160  # about what web search shows of a description
PARAGRAPH = re.compile(r"<p(?: [^>]*)?>(.*?)</p>", re.S)
WHITESPACE = re.compile(r"\s+")


def description(html):
    """A meta description from a text's own words: its first paragraphs, as plain text, up to
    about what web search shows (a greeting alone is too short, so paragraphs are joined until
    there is enough). Alert titles ("Note") are not text of the article."""
    words = ""
    for match in PARAGRAPH.finditer(html):
        if 'class="admonition-title"' in match.group(0):
            continue
        paragraph = WHITESPACE.sub(" ", unescape(strip_tags(match.group(1)))).strip()
        words = f"{words} {paragraph}".strip() if paragraph else words
        if len(words) >= DESCRIPTION_CHARACTERS:
            break
    return Truncator(words).chars(DESCRIPTION_CHARACTERS)


def search_payload(params, request, visitor_lang=None):
    results = search(params, visitor_lang or languages.source()) if params.q else search_index.Results(query=params.q)
    return {
        "query": results.query,
        "total": results.total,
        "page": results.page,
        "suggestion": results.suggestion,
        "corrected": results.corrected,
        "relaxed": results.relaxed,
        "weak": results.weak,
        "results": [
            {
                "slug": hit.slug,
                "lang": hit.lang,
                "title": hit.title,
                "url": absolute_url(hit_url(hit)) if request else hit_url(hit),
                "snippet": hit.snippet,
                "score": hit.score,
                "kind": hit.kind,
                "flags": [flag.rule_id for flag in hit.flags],
            }
            for hit in results.hits
        ],
    }


def flagged_rows(sort="severity"):
    rows = []
    flags = Flag.objects.filter(revision__is_current=True, revision__article__withdrawn_at__isnull=True)
    grouped = defaultdict(list)
    for flag in flags.select_related("revision__article"):
        grouped[flag.revision].append(flag)
    for revision, found in grouped.items():
        rows.append(
            {
                "revision": revision,
                "article": revision.article,
                "flags": found,
                "worst": min(SEVERITY_ORDER[f.severity] for f in found),
                "codes": sorted({f.code for f in found}),
                "published": revision.published_at,
            }
        )
    keys = {
        "severity": lambda r: (r["worst"], r["article"].slug),
        "code": lambda r: (r["codes"], r["article"].slug),
        "age": lambda r: (r["published"] is None, r["published"] and r["published"].timestamp()),
        "slug": lambda r: r["article"].slug,
    }
    rows.sort(key=keys.get(sort, keys["severity"]))
    return rows


def sort_choices():
    from django.utils.translation import gettext as _

    return [("severity", _("severity")), ("code", _("kind of flag")), ("age", _("age")), ("slug", _("slug"))]


def coverage():
    """Per language: articles whose text in that language is current and not behind."""
    articles = Article.objects.visible()
    total = articles.count()
    figures = []
    for lang in languages.codes():
        texts = Revision.objects.current(lang).visible()
        behind = texts.filter(flags__code=Flag.TRANSLATION_BEHIND).distinct().count()
        present = texts.count()
        figures.append(
            {
                "lang": lang,
                "present": present,
                "up_to_date": present - behind,
                "total": total,
                "percent": round(100 * (present - behind) / total) if total else 0,
            }
        )
    return figures
