"""Incident windows of the RCA articles: the hours each affected, for comparing a customer's
"when" with them and for wording it on a page."""

from kb.models import Article, Kind
from wizard import moments
from wizard.articles import texts_of


def impact_windows():
    """RCA impact windows: {slug: (start, end)}."""
    rcas = Article.objects.visible().filter(kind=Kind.RCA, impact_start__isnull=False, impact_end__isnull=False)
    return {a.slug: (a.impact_start, a.impact_end) for a in rcas}


def worded(lang):
    """{RCA slug: {"title", "window"}} for the wording of "when" steps."""
    found = {}
    zone = moments.ZONES["jst"]
    rcas = Article.objects.visible().filter(kind=Kind.RCA, impact_start__isnull=False, impact_end__isnull=False)
    texts = texts_of(a.slug for a in rcas)
    for article in rcas:
        start, end = article.impact_start.astimezone(zone), article.impact_end.astimezone(zone)
        by_lang = texts.get(article.slug, {})
        revision = by_lang.get(lang) or next(iter(by_lang.values()), None)
        window = f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} JST"
        found[article.slug] = {"title": revision.title if revision else article.slug, "window": window}
    return found
