"""manage.py daily: time-based flags with the day's date, once per day however many processes
start it; this node's index checked against the database and rebuilt when they disagree."""

import datetime as dt
import shutil

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from kb import jobs, search
from kb.models import Flag, ImportRun, JobRun, Revision
from kb.staleness import load_rules
from tests.conftest import CONTENT, make_article

pytestmark = pytest.mark.django_db

THREE_YEARS = next(rule.older_than_days for rule in load_rules(CONTENT / "staleness.yaml") if rule.id == "age-guide")


def daily(*args):
    from io import StringIO

    out = StringIO()
    call_command("daily", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def crossed_yesterday(settings):
    """A guide whose age threshold passed yesterday, with no flag stored (its last import was
    before that)."""
    settings.CONTENT_DIR = CONTENT
    article = make_article("old-guide", kind="guide", title="古い手順", body="手順の本文")
    today = timezone.localdate()
    published = today - dt.timedelta(days=THREE_YEARS + 1)
    Revision.objects.filter(article=article).update(
        published_at=dt.datetime.combine(published, dt.time(12), tzinfo=dt.UTC)
    )
    ImportRun.objects.create(changed_slugs=["old-guide"])
    return article


def age_flags():
    return list(Flag.objects.filter(rule_id="age-guide").values_list("revision__article__slug", flat=True))


def test_an_article_whose_age_threshold_passed_yesterday_gets_its_flag(crossed_yesterday):
    before_yesterday = timezone.localdate() - dt.timedelta(days=2)
    assert "no change" in daily("--date", before_yesterday.isoformat())
    assert age_flags() == []
    version = ImportRun.objects.order_by("-pk").first().pk
    out = daily()
    assert "raised age-guide on old-guide (ja)" in out
    assert age_flags() == ["old-guide"]
    assert ImportRun.objects.order_by("-pk").first().pk > version  # cached pages show the new flag


def test_a_second_run_the_same_day_does_nothing_and_again_changes_nothing(crossed_yesterday):
    daily()
    assert "already done" in daily()
    assert "time-based flags as of" in daily("--again") and "no change" in daily("--again")
    assert age_flags() == ["old-guide"]


def test_a_review_past_due_is_flagged_and_cleared_once_reviewed(settings):
    settings.CONTENT_DIR = CONTENT
    today = timezone.localdate()
    article = make_article("reviewed", reviewed_on=today - dt.timedelta(days=31), review_every_days=30)
    assert "raised review-due on reviewed (ja)" in daily()
    article.reviewed_on = today
    article.save()
    assert "cleared review-due on reviewed (ja)" in daily("--again")
    assert not Flag.objects.filter(rule_id="review-due").exists()


def test_the_other_flags_are_left_as_the_import_stored_them(crossed_yesterday):
    revision = Revision.objects.get(article=crossed_yesterday)
    Flag.objects.create(revision=revision, rule_id="azurerm-powershell", code="retired_term", severity="warning")
    daily()
    assert sorted(Flag.objects.values_list("rule_id", flat=True)) == ["age-guide", "azurerm-powershell"]


def test_a_failed_run_is_recorded_and_the_next_one_takes_over(crossed_yesterday, settings, tmp_path):
    settings.CONTENT_DIR = tmp_path  # no rules file
    with pytest.raises(CommandError, match="daily jobs for .* failed: .*staleness.yaml"):
        daily()
    assert JobRun.objects.get(job="daily").ok is False
    settings.CONTENT_DIR = CONTENT
    assert "raised age-guide" in daily()
    assert JobRun.objects.get(job="daily").ok is True


def test_a_run_in_progress_elsewhere_is_left_alone():
    key = timezone.localdate().isoformat()
    assert jobs.claim("daily", key).run is not None
    assert jobs.claim("daily", key) == jobs.Claim(None, "running")
    JobRun.objects.update(started_at=timezone.now() - jobs.STALE_AFTER * 2)  # its process died
    assert jobs.claim("daily", key).run is not None


def test_the_index_is_checked_and_rebuilt_when_it_disagrees(crossed_yesterday, isolated_index):
    assert "index: 1 documents for 1 texts" in daily() and "sound" in daily()
    make_article("unseen", title="索引にない記事", body="本文")  # in the database, never indexed
    out = daily()
    assert "index: 1 documents for 2 texts: rebuilt with 2" in out
    assert [hit.slug for hit in search.search("索引にない記事").hits] == ["unseen"]
    shutil.rmtree(isolated_index)
    search.forget_searchers()
    assert "2 documents for 2 texts" in daily()


def test_no_index_leaves_the_index_alone(crossed_yesterday, isolated_index):
    out = daily("--no-index")
    assert "raised age-guide" in out and "index:" not in out
    assert not isolated_index.exists()
