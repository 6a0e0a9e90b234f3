"""Articles and their revisions, one row per imported version of one language's text.

Content comes from files; the database keeps every version ever imported so that old
revisions stay readable and comparable. Nothing here is edited through the web.
"""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kb import languages

LANGUAGE_CODE_LENGTH = 10  # "ja", "en", "zh-hans": the languages themselves are settings


class Kind(models.TextChoices):
    GUIDE = "guide", _("Guide")
    REFERENCE = "reference", _("Reference")
    RCA = "rca", _("RCA")


class Tag(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ArticleQuerySet(models.QuerySet):
    def visible(self):
        return self.filter(withdrawn_at__isnull=True)


class Article(models.Model):
    slug = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.GUIDE)
    tags = models.ManyToManyField(Tag, blank=True, related_name="articles")
    source_lang = models.CharField(max_length=LANGUAGE_CODE_LENGTH, default=languages.source)
    # Which imported folder owns the article: a removed file withdraws only its own articles.
    source_root = models.CharField(max_length=500)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # Incident fields, for an RCA.
    tracking_id = models.CharField(max_length=50, blank=True)
    impact_start = models.DateTimeField(null=True, blank=True)
    impact_end = models.DateTimeField(null=True, blank=True)
    # Review cycle, from front matter.
    owner = models.CharField(max_length=100, blank=True)
    reviewed_on = models.DateField(null=True, blank=True)
    review_every_days = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug

    def get_absolute_url(self):
        return reverse("kb:article", kwargs={"slug": self.slug})

    @property
    def is_withdrawn(self):
        return self.withdrawn_at is not None


class RevisionQuerySet(models.QuerySet):
    def current(self, lang=None):
        qs = self.filter(is_current=True)
        return qs.filter(lang=lang) if lang else qs

    def for_article(self, slug):
        return self.filter(article__slug=slug)

    def visible(self):
        return self.filter(article__withdrawn_at__isnull=True)


class Revision(models.Model):
    class Significance(models.TextChoices):
        MAJOR = "major", _("Major")
        MINOR = "minor", _("Minor")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    lang = models.CharField(max_length=LANGUAGE_CODE_LENGTH)  # one of settings.LANGUAGES, checked at import
    number = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    title = models.CharField(max_length=500)
    body = models.TextField()
    body_hash = models.CharField(max_length=64, db_index=True)
    html = models.TextField()
    # [{"id", "text", "level"}] of the rendered headings: the anchors others may link to.
    headings = models.JSONField(default=list)
    # {name in the URL: sha256 of a StoredImage} of the images the text shows.
    images = models.JSONField(default=dict)
    renderer = models.PositiveIntegerField(default=0)  # kb.rendering.RENDERER_VERSION that made html
    published_at = models.DateTimeField(null=True, blank=True)
    significance = models.CharField(max_length=5, choices=Significance.choices, default=Significance.MAJOR)
    source_path = models.CharField(max_length=500)
    imported_at = models.DateTimeField(auto_now_add=True)
    # For a translation: the source-language revision it was made from.
    translated_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="translations"
    )

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["article__slug", "lang", "number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "lang", "number"], name="unique_revision_number"),
            models.UniqueConstraint(
                fields=["article", "lang"], condition=Q(is_current=True), name="one_current_revision"
            ),
        ]

    def __str__(self):
        return f"{self.article.slug} {self.lang} r{self.number}"

    def get_absolute_url(self):
        return reverse("kb:revision", kwargs={"slug": self.article.slug, "lang": self.lang, "number": self.number})

    @property
    def heading_ids(self):
        return {heading["id"] for heading in self.headings}


class Flag(models.Model):
    """A staleness flag raised on one revision by one rule of content/staleness.yaml."""

    TRANSLATION_BEHIND = "translation_behind"  # the code of flags on a translation of an older source

    class Severity(models.TextChoices):
        INFO = "info", _("Info")
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="flags")
    rule_id = models.CharField(max_length=100)
    code = models.CharField(max_length=40)  # the kind of flag: archived, age, retired_term, …
    severity = models.CharField(max_length=10, choices=Severity.choices)
    reasons = models.JSONField(default=dict)  # {lang: the reason in that language}
    raised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["revision", "code", "rule_id"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "rule_id"], name="one_flag_per_rule"),
        ]

    def __str__(self):
        return f"{self.rule_id} on {self.revision}"

    def reason(self, lang):
        return self.reasons.get(lang) or self.reasons.get(languages.source(), "")

    @property
    def is_translation_behind(self):
        return self.code == self.TRANSLATION_BEHIND


class ImportRun(models.Model):
    """One committed import. Search indexes follow these: each process applies the runs it
    has not seen, so every node's index catches up with the shared database."""

    finished_at = models.DateTimeField(auto_now_add=True)
    changed_slugs = models.JSONField(default=list)
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-pk"]

    def __str__(self):
        return f"import #{self.pk} ({len(self.changed_slugs)} articles changed)"


class StoredImage(models.Model):
    """An image a text shows, copied into the database by the import that found it: served
    from here on every node, never opened by path at request time, so what happens to the
    file afterwards changes nothing served. Keyed by content, so a copy is stored once."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    content_type = models.CharField(max_length=50)
    data = models.BinaryField()
    size = models.PositiveIntegerField()
    stored_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.sha256[:12]} {self.content_type} {self.size} bytes"


class Purge(models.Model):
    """The audit line of a text removed for good by ``manage.py purge_article``: who, what,
    when and why, never the text. While a purged text has no revision, the import refuses
    its file (kb.article_import.check_purged)."""

    slug = models.CharField(max_length=200, db_index=True)
    lang = models.CharField(max_length=LANGUAGE_CODE_LENGTH, blank=True)  # blank: the whole article
    reason = models.TextField()
    purged_by = models.CharField(max_length=150)
    purged_at = models.DateTimeField(auto_now_add=True)
    revisions = models.PositiveIntegerField()  # how many revisions were deleted

    class Meta:
        ordering = ["-purged_at"]

    def __str__(self):
        return f"{self.slug} {self.lang or 'all languages'} purged by {self.purged_by}"


class Glossary(models.Model):
    """content/glossary.yaml as imported, every version kept: the term bridge that lets a
    query in one language find texts in another (kb.search.bridge)."""

    number = models.PositiveIntegerField(unique=True)
    is_current = models.BooleanField(default=True)
    entries = models.JSONField()  # [{lang: [form, …]}, …]
    data_hash = models.CharField(max_length=64)
    source_path = models.CharField(max_length=500)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["is_current"], condition=Q(is_current=True), name="one_current_glossary")
        ]

    def __str__(self):
        return f"glossary r{self.number} ({len(self.entries)} entries)"


class SearchDay(models.Model):
    """What visitors searched on one day, one row per normalised query and language, with no
    personal data (kb.search_log). Days older than a few months are rolled up into the first
    day of their month."""

    day = models.DateField()
    query = models.CharField(max_length=300)
    lang = models.CharField(max_length=LANGUAGE_CODE_LENGTH)
    searches = models.PositiveIntegerField(default=0)
    empty = models.PositiveIntegerField(default=0)  # searches that found nothing
    results = models.PositiveBigIntegerField(default=0)  # results found, summed over the searches
    opened = models.PositiveIntegerField(default=0)  # times a result was opened next

    class Meta:
        ordering = ["-day", "query"]
        constraints = [models.UniqueConstraint(fields=["day", "query", "lang"], name="one_row_per_query_a_day")]

    def __str__(self):
        return f"{self.day} {self.lang} {self.query!r} ×{self.searches}"


class JobRun(models.Model):
    """One run of a job that must happen once however many nodes start it (``kb.jobs``): the
    unique (job, key) row is the lock, in the database every node shares. ``key`` names what
    the run is for (the day of a daily run); a run that failed, or stopped without finishing,
    may be taken over."""

    job = models.CharField(max_length=40)
    key = models.CharField(max_length=40)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(null=True)
    summary = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "key"], name="one_run_per_job_and_key")]

    def __str__(self):
        return f"{self.job} {self.key} ({'ok' if self.ok else 'failed' if self.ok is False else 'running'})"
