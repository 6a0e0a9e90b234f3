"""Removing a text for good: ``manage.py purge_article``.

Everything else in the knowledge base keeps history (a deleted file only withdraws its
article). A purge is for a text that must never have been published: every revision of it
goes, with its flags and the images only it showed; an audit line (``Purge``) keeps who,
what, when and why, never the text; an ``ImportRun`` naming the slug makes every node drop
it from its search index, and the new content version that run makes retires every cached
page (kb.caching keys pages on it).
"""

from django.db import transaction

from kb import caching, images
from kb.importer import take_import_lock
from kb.models import Article, ImportRun, Purge, Revision


class PurgeError(Exception):
    """Why nothing was purged, in words."""


def purge(slug: str, lang: str | None, *, reason: str, by: str) -> Purge:
    if not reason.strip():
        raise PurgeError("say why (--reason): the audit line keeps it")
    with transaction.atomic():
        take_import_lock()  # not in the middle of an import that is writing the same texts
        article = Article.objects.filter(slug=slug).first()
        if article is None:
            raise PurgeError(f"no article {slug!r}")
        revisions = article.revisions.all() if lang is None else article.revisions.filter(lang=lang)
        count = revisions.count()
        if not count:
            raise PurgeError(f"{slug!r} has no {lang} text")
        refuse_if_translated(article, lang)
        doomed = Revision.objects.filter(pk__in=list(revisions.values_list("pk", flat=True)))
        doomed.update(translated_from=None)  # links between the doomed texts only: see refuse_if_translated
        doomed.delete()
        if lang is None or not article.revisions.exists():
            article.delete()
        images.drop_unused()
        record = Purge.objects.create(slug=slug, lang=lang or "", reason=reason.strip(), purged_by=by, revisions=count)
        ImportRun.objects.create(changed_slugs=[slug], summary={"purged": count})
    caching.publish_content_version()
    return record


def refuse_if_translated(article, lang):
    """Purging the text translations were made from would leave them pointing at nothing."""
    if lang is None:
        return
    dependent = article.revisions.exclude(lang=lang).filter(translated_from__lang=lang)
    langs = sorted(set(dependent.values_list("lang", flat=True)))
    if langs:
        raise PurgeError(
            f"the {', '.join(langs)} text of {article.slug!r} was translated from its {lang} text: "
            f"purge {' and '.join(langs)} first (--lang), or the whole article (no --lang)"
        )
