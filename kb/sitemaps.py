"""sitemap.xml for web search: every visible article once per language it has a text in,
each with hreflang alternates for its other texts, and the pages that list and search them.

Only the texts that exist are listed: /en/articles/<slug>/ of an article with no English text
shows the Japanese one with a notice, and is not offered as a translation."""

from collections import defaultdict
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap as DjangoSitemap
from django.db.models import Max
from django.urls import reverse

from kb.models import Article, Revision


class Sitemap(DjangoSitemap):
    """Addresses from KB_SITE_URL, like every absolute link the site writes: the Host header of
    whoever asked first never reaches the copy another visitor gets."""

    def get_protocol(self, protocol=None):
        return urlsplit(settings.KB_SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.KB_SITE_URL).netloc


class ArticleSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = False  # an article has no language-neutral URL (/articles/… does not exist)

    def items(self):
        texts = Revision.objects.current().visible().values("article_id", "lang", "imported_at")
        self.languages, self.updated = defaultdict(list), {}
        for text in texts.order_by("article_id", "lang"):
            self.languages[text["article_id"]].append(text["lang"])
            newest = self.updated.get(text["article_id"])
            self.updated[text["article_id"]] = max(newest, text["imported_at"]) if newest else text["imported_at"]
        return Article.objects.visible().filter(pk__in=self.languages.keys()).order_by("pk").only("pk", "slug")

    def get_languages_for_item(self, article):
        return self.languages[article.pk]

    def location(self, article):
        return reverse("kb:article", kwargs={"slug": article.slug})

    def lastmod(self, article):
        return self.updated[article.pk]


class PageSitemap(Sitemap):
    """The home page, the article list and the wizard's start, in every language."""

    i18n = True
    alternates = True

    def items(self):
        return ["kb:home", "kb:articles", "wizard:start"]

    def location(self, name):
        return reverse(name)

    def lastmod(self, name):
        return Revision.objects.current().visible().aggregate(newest=Max("imported_at"))["newest"]


SITEMAPS = {"articles": ArticleSitemap, "pages": PageSitemap}
