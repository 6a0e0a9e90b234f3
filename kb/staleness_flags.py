"""Staleness flags in the database: the facts the rules look at, read from revisions; the
flags ``kb.staleness`` computes from them, stored; and the rules file as a kind of content
(flags recomputed for every current text at each import)."""

from collections import Counter

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kb import staleness
from kb.content_files import ContentError
from kb.importer import ContentKind, ImportReport, Plan
from kb.models import Flag, Revision
from kb.staleness import Facts, Rules

RULES_FILE = "staleness.yaml"


def facts_for(revision: Revision, source_current, history) -> Facts:
    """What the rules look at about a revision: its text, its article's kind, tags and
    review, and for a translation the source it was made from."""
    article = revision.article
    published = revision.published_at
    if published is None and revision.translated_from_id:
        published = revision.translated_from.published_at
    return Facts(
        title=revision.title,
        body=revision.body,
        lang=revision.lang,
        kind=article.kind,
        tags=tuple(t.name for t in article.tags.all()),
        published_at=published,
        review_due=staleness.review_due(article.reviewed_on, article.review_every_days),
        source_lang=revision.translated_from.lang if revision.translated_from_id else "",
        behind=translation_lag(revision, source_current, history),
    )


def translation_lag(revision, source_current, history):
    """(made-from number, current number) when a major source change came after the
    revision this translation was made from; None when it is up to date."""
    made_from = revision.translated_from
    if made_from is None or source_current is None or source_current.number <= made_from.number:
        return None
    later = [r for r in history if made_from.number < r.number <= source_current.number]
    if not any(r.significance == Revision.Significance.MAJOR for r in later):
        return None
    return made_from.number, source_current.number


def revisions_behind(revision):
    """The source-language revisions made after the one a translation was made from."""
    made_from = revision.translated_from
    if made_from is None:
        return Revision.objects.none()
    return Revision.objects.filter(article=revision.article, lang=made_from.lang, number__gt=made_from.number).order_by(
        "number"
    )


def compute_flags(rules: Rules, revisions, today):
    """{revision id: {rule id: (rule, {lang: reason})}} for the given revisions."""
    revisions = list(revisions)
    article_ids = {r.article_id for r in revisions}
    history = {}
    for source in Revision.objects.filter(article_id__in=article_ids).only(
        "id", "article_id", "lang", "number", "significance", "is_current"
    ):
        history.setdefault((source.article_id, source.lang), []).append(source)
    found = {}
    for revision in revisions:
        source_lang = revision.translated_from.lang if revision.translated_from_id else None
        source_history = history.get((revision.article_id, source_lang), [])
        source_current = next((r for r in source_history if r.is_current), None)
        found[revision.id] = staleness.flags(rules, facts_for(revision, source_current, source_history), today)
    return found


def refresh_flags(rules: Rules, today):
    """Recompute the flags of every current revision as of ``today``; return (counts by
    rule, unmatched rule ids, whether any stored flag changed)."""
    revisions = (
        Revision.objects.current()
        .visible()
        .select_related("article", "translated_from")
        .prefetch_related("article__tags")
    )
    computed = compute_flags(rules, revisions, today)
    changed = store_flags(computed)
    counts = Counter(rule_id for found in computed.values() for rule_id in found)
    unmatched = [rule.id for rule in rules if rule.id not in counts]
    return counts, unmatched, changed


@transaction.atomic
def store_flags(computed):
    existing = {(flag.revision_id, flag.rule_id): flag for flag in Flag.objects.filter(revision_id__in=computed.keys())}
    wanted = {}
    for revision_id, found in computed.items():
        for rule_id, (rule, reasons) in found.items():
            wanted[(revision_id, rule_id)] = Flag(
                revision_id=revision_id,
                rule_id=rule_id,
                code=rule.code,
                severity=rule.severity,
                reasons=reasons,
            )
    stale = [flag.pk for key, flag in existing.items() if key not in wanted or not same_flag(flag, wanted[key])]
    Flag.objects.filter(pk__in=stale).delete()
    kept = set(existing) - {(f.revision_id, f.rule_id) for f in existing.values() if f.pk in stale}
    created = Flag.objects.bulk_create([flag for key, flag in wanted.items() if key not in kept])
    return bool(stale or created)


def same_flag(a, b):
    return (a.code, a.severity, a.reasons) == (b.code, b.severity, b.reasons)


# -- as a kind of content -----------------------------------------------------------------


class StalenessRules(ContentKind):
    """content/staleness.yaml. Flags are recomputed for every current text at each import
    (a rule change applies then); an import without rules of its own (a blog folder) uses
    the project's."""

    name = "rules"
    order = 90  # after every text is written

    def marks_content_root(self, root):
        return (root / RULES_FILE).is_file()

    def read(self, plan, root, layout):
        if layout == "content" and (root / RULES_FILE).exists():
            plan.parts[self.name] = load_or_report(plan, root / RULES_FILE)

    def validate(self, plan):
        if self.name not in plan.parts:
            plan.parts[self.name] = load_or_report(plan, settings.CONTENT_DIR / RULES_FILE)

    def sync(self, plan: Plan, report: ImportReport):
        counts, unmatched, changed = refresh_flags(plan.parts[self.name], timezone.now().date())
        report.flag_counts = dict(counts)
        if changed:
            report.changed_kinds.add(self.name)
        if counts:
            report.notes.append(
                ("info", "flags on current revisions: " + ", ".join(f"{r} {n}" for r, n in sorted(counts.items())))
            )
        report.notes += [("warning", behind_note(revision)) for revision in translations_behind()]
        report.notes += [("warning", f"rule {rule_id} matches nothing") for rule_id in unmatched]


def load_or_report(plan, path):
    try:
        return staleness.load_rules(path)
    except ContentError as exc:
        plan.problems += exc.problems
        return None


def translations_behind():
    return (
        Revision.objects.current()
        .visible()
        .filter(flags__code=Flag.TRANSLATION_BEHIND)
        .select_related("article", "translated_from")
        .order_by("article__slug", "lang")
    )


def behind_note(revision):
    current = revisions_behind(revision).last()
    made_from = revision.translated_from
    return (
        f"translation behind: {revision.source_path} was made from {made_from.lang} r{made_from.number}, "
        f"which is now r{current.number if current else '?'}: "
        f"see /{revision.lang}/articles/{revision.article.slug}/{revision.lang}/translation/"
    )


# -- the daily job ------------------------------------------------------------------------


def refresh_time_flags(rules: Rules, today):
    """Raise and clear the flags time alone decides (age, review due) on every current text
    as of ``today``, leaving the others as the last import stored them. Returns {"raised",
    "updated" (another reason: a year more), "cleared"}: lists of (slug, lang, rule id)."""
    time_rules = [rule for rule in rules if rule.type in staleness.TIME_RULES]
    revisions = list(
        Revision.objects.current()
        .visible()
        .select_related("article", "translated_from")
        .prefetch_related("article__tags")
    )
    wanted = {}
    for revision in revisions:
        found = staleness.age_and_review_flags(Rules(time_rules), facts_for(revision, None, []), today)
        for rule_id, (rule, reasons) in found.items():
            wanted[(revision.id, rule_id)] = Flag(
                revision_id=revision.id, rule_id=rule_id, code=rule.code, severity=rule.severity, reasons=reasons
            )
    names = {revision.id: (revision.article.slug, revision.lang) for revision in revisions}
    with transaction.atomic():
        existing = {
            (flag.revision_id, flag.rule_id): flag
            for flag in Flag.objects.filter(revision_id__in=names, rule_id__in=[rule.id for rule in time_rules])
        }
        stale = [key for key, flag in existing.items() if key not in wanted or not same_flag(flag, wanted[key])]
        Flag.objects.filter(pk__in=[existing[key].pk for key in stale]).delete()
        fresh = [key for key in wanted if key not in existing or key in stale]
        Flag.objects.bulk_create([wanted[key] for key in fresh])
    named = lambda keys: sorted((*names[revision_id], rule_id) for revision_id, rule_id in keys)  # noqa: E731
    return {
        "raised": named(key for key in wanted if key not in existing),
        "updated": named(key for key in stale if key in wanted),
        "cleared": named(key for key in stale if key not in wanted),
    }
