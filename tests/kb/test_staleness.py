import copy
import datetime as dt
import re
import shutil
import signal

import pytest
import yaml
from django.core.management import call_command

from kb import content_files, staleness
from kb.content_files import ContentError
from kb.models import Flag, Revision
from tests.conftest import CONTENT, article_file, run

NSG = "vm-stuck-in-updating-when-nsg-rule-restricts-outbound-internet-connectivity"


def rule_ids(slug, lang):
    revision = Revision.objects.current(lang).get(article__slug=slug)
    return sorted(revision.flags.values_list("rule_id", flat=True))


@pytest.mark.django_db
class TestSeedArticles:
    @pytest.fixture(autouse=True)
    def imported(self):
        assert run(CONTENT).ok

    @pytest.mark.parametrize("lang", ["ja", "en"])
    def test_the_2016_article_is_archived_old_and_names_retired_things(self, lang):
        assert rule_ids(NSG, lang) == [
            "age-guide",
            "archived-tag",
            "azurerm-powershell",
            "blogs-msdn",
            "outdated-banner",
        ]

    def test_flag_reasons_say_what_and_offer_the_alternative_in_both_languages(self):
        flag = Flag.objects.get(revision__article__slug=NSG, revision__lang="en", rule_id="azurerm-powershell")
        assert (
            "`Get-AzureRmVM`" in flag.reason("en")
            and "29 Feb 2024" in flag.reason("en")
            and "Get-AzVM" in flag.reason("en")
        )
        assert "`Get-AzureRmVM`" in flag.reason("ja") and "Az モジュール" in flag.reason("ja")
        age = Flag.objects.get(revision__article__slug=NSG, revision__lang="ja", rule_id="age-guide")
        assert re.fullmatch(r"Published 2016-05-06, over (1\d) years ago\.", age.reason("en"))

    def test_an_rca_does_not_age(self):
        assert "age-guide" not in rule_ids("20211013-rca-azure-vm", "ja")
        assert not [r for r in rule_ids("20211013-rca-azure-vm", "ja") if r.startswith("age")]
        assert rule_ids("20211013-rca-azure-vm", "ja") == ["azure-status-history"]

    def test_no_translation_is_behind_in_the_shipped_content(self):
        assert not Flag.objects.filter(code="translation_behind").exists()


@pytest.mark.django_db
class TestTranslationBehind:
    @pytest.fixture
    def translated(self, content_dir):
        ja = article_file(content_dir, "agent", "ja", title="エージェント", body="エージェントが停止しています。")
        run(content_dir)
        made_from = Revision.objects.get(lang="ja").body_hash[:12]
        article_file(
            content_dir,
            "agent",
            "en",
            title="Agent",
            body="The agent is stopped.",
            translated_from="ja",
            source_hash=made_from,
        )
        run(content_dir)
        return ja

    def edit(self, path, old, new, significance=None):
        text = path.read_text(encoding="utf-8").replace(old, new)
        if significance:
            text = text.replace("---\n", f"---\nsignificance: {significance}\n", 1)
        path.write_text(text, encoding="utf-8")

    def test_a_major_source_change_marks_the_translation_behind(self, content_dir, translated):
        self.edit(translated, "停止しています", "停止している可能性があります")
        report = run(content_dir)
        assert rule_ids("agent", "en") == ["translation-behind"]
        flag = Flag.objects.get(rule_id="translation-behind")
        assert (
            flag.reason("en")
            == "This English text was translated from an older version of the Japanese article (r1; current r2)."
        )
        assert report.flag_counts["translation-behind"] == 1

    def test_the_import_says_which_translation_is_behind(self, content_dir, translated, capsys):
        self.edit(translated, "停止しています", "停止している可能性があります")
        call_command("import_content", str(content_dir))
        out = capsys.readouterr().out
        assert "translation behind: " in out and "agent/en.md was made from ja r1, which is now r2" in out
        assert "/en/articles/agent/en/translation/" in out

    def test_the_translator_page_shows_what_changed_in_the_source(self, content_dir, translated, client):
        self.edit(translated, "停止しています", "停止している可能性があります")
        run(content_dir)
        body = client.get("/en/articles/agent/en/translation/").content.decode()
        assert "<ins>る可能性があり</ins>" in body and "r1 → r2" in body and "source_hash" in body

    def test_a_minor_source_change_does_not(self, content_dir, translated):
        self.edit(translated, "停止しています", "停止しています", significance="minor")
        self.edit(translated, "エージェントが", "エージェントが、")
        run(content_dir)
        assert Revision.objects.current("ja").get().number == 2
        assert rule_ids("agent", "en") == []

    def test_updating_the_translation_clears_the_flag(self, content_dir, translated):
        self.edit(translated, "停止しています", "停止している可能性があります")
        run(content_dir)
        current = Revision.objects.current("ja").get().body_hash[:12]
        english = content_dir / "articles" / "agent" / "en.md"
        text = english.read_text(encoding="utf-8")
        english.write_text(
            text.replace("is stopped", "may be stopped").replace(text.split("source_hash: ")[1][:12], current),
            encoding="utf-8",
        )
        run(content_dir)
        assert rule_ids("agent", "en") == []


RULES = staleness.load_rules(CONTENT / "staleness.yaml")


def facts(**fields):
    values = {"title": "t", "body": "b", "lang": "en", "kind": "guide"} | fields
    return staleness.Facts(**values)


@pytest.mark.parametrize(
    ("today", "reason"),
    [
        (dt.date(2019, 5, 6), None),  # exactly three years: not older than 3y
        (dt.date(2019, 5, 7), "Published 2016-05-06, over 3 years ago."),
        (dt.date(2026, 5, 5), "Published 2016-05-06, over 9 years ago."),  # the day before the 10th anniversary
        (dt.date(2026, 5, 7), "Published 2016-05-06, over 10 years ago."),
    ],
)
def test_a_guide_ages_in_whole_years_counted_to_the_day(today, reason):
    published = dt.datetime(2016, 5, 6, 17, 38, tzinfo=dt.UTC)
    found = staleness.age_and_review_flags(RULES, facts(published_at=published), today)
    assert {rule_id: reasons["en"] for rule_id, (_rule, reasons) in found.items()} == (
        {"age-guide": reason} if reason else {}
    )


class TestPureEvaluation:
    """Rules + the facts about one text + a day -> flags, with no database (no django_db mark:
    a query would fail the test)."""

    def test_a_review_falls_due_on_the_day_after_its_period_ends(self):
        due = staleness.review_due(dt.date(2026, 1, 1), 180)
        assert due == dt.date(2026, 6, 30)
        text = facts(review_due=due)
        assert staleness.age_and_review_flags(RULES, text, dt.date(2026, 6, 30)) == {}
        (reasons,) = [r for _rule, r in staleness.age_and_review_flags(RULES, text, dt.date(2026, 7, 1)).values()]
        assert reasons["en"] == "A review was due by 2026-06-30 and has not happened." and "2026-06-30" in reasons["ja"]

    def test_time_alone_raises_only_age_and_review_flags(self):
        text = facts(
            body="Get-AzureRmVM を実行します。",
            tags=("Archive",),
            published_at=dt.datetime(2015, 1, 1, tzinfo=dt.UTC),
            review_due=dt.date(2020, 1, 1),
        )
        today = dt.date(2026, 12, 7)
        assert sorted(staleness.flags(RULES, text, today)) == [
            "age-guide",
            "archived-tag",
            "azurerm-powershell",
            "review-due",
        ]
        assert sorted(staleness.age_and_review_flags(RULES, text, today)) == ["age-guide", "review-due"]
        assert staleness.age_and_review_flags(RULES, text, dt.date(2016, 1, 1)) == {}

    def test_an_rca_never_ages(self):
        old = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
        assert staleness.age_and_review_flags(RULES, facts(kind="rca", published_at=old), dt.date(2026, 1, 1)) == {}

    def test_a_translation_behind_names_both_languages_in_each_message(self):
        text = facts(lang="en", source_lang="ja", behind=(1, 3))
        (_rule, reasons) = staleness.flags(RULES, text, dt.date(2026, 1, 1))["translation-behind"]
        assert reasons["en"] == (
            "This English text was translated from an older version of the Japanese article (r1; current r3)."
        )
        assert "英語" in reasons["ja"] and "日本語" in reasons["ja"]


@pytest.mark.django_db
def test_a_review_past_due_raises_a_flag(content_dir):
    article_file(
        content_dir, "due", "ja", title="期限", body="本文", reviewed="2020-01-01", review_every="180d", owner="vm-team"
    )
    article_file(
        content_dir, "fresh", "ja", title="新しい", body="本文", reviewed=dt.date.today().isoformat(), review_every="1y"
    )
    run(content_dir)
    assert rule_ids("due", "ja") == ["review-due"]
    assert Flag.objects.get(rule_id="review-due").reason("en") == "A review was due by 2020-06-29 and has not happened."
    assert rule_ids("fresh", "ja") == []


@pytest.mark.django_db
class TestRulesFile:
    def broken(self, content_dir, old, new):
        path = content_dir / "staleness.yaml"
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path

    @pytest.fixture
    def flagged(self, content_dir):
        article_file(content_dir, "old", "ja", title="古い", body="Get-AzureRmVM を実行します。", date="2015-01-01")
        run(content_dir)
        return sorted(Flag.objects.values_list("rule_id", flat=True))

    @pytest.mark.parametrize(
        ("old", "new", "message"),
        [
            (
                "severity: warning\n    pattern: '\\b[A-Z]",
                "severity: urgent\n    pattern: '\\b[A-Z]",
                "rule azurerm-powershell, severity: 'urgent' is not one of",
            ),
            (
                "pattern: '\\b[A-Z][a-z]+-AzureRm",
                "pattern: '(\\b[A-Z][a-z]+-AzureRm",
                "rule azurerm-powershell: pattern does not compile",
            ),
            (
                "- id: blogs-msdn\n    type: url",
                "- id: blogs-msdn\n    type: link",
                "rule blogs-msdn, type: 'link' is not one of",
            ),
            (
                "hosts: [blogs.msdn.microsoft.com,",
                "hosts: [blogs.msdm.microsoft.com,",
                "rule blogs-msdn: example 'https://blogs.msdn.microsoft.com/japan_azure_support/2016/06/15/post/' should match but does not",
            ),
            (
                "rules:\n",
                "rules:\n  - {id: archived-tag, type: tag, severity: info, tags: [x], message: {ja: x, en: x}}\n",
                "rule archived-tag: id used more than once",
            ),
            ("rules:\n", "rules: [\n", "not valid YAML"),
        ],
    )
    def test_a_malformed_rules_file_is_refused_and_the_previous_flags_stay(
        self, content_dir, flagged, old, new, message
    ):
        path = self.broken(content_dir, old, new)
        report = run(content_dir)
        assert len(report.problems) == 1
        assert str(report.problems[0]).startswith(str(path)) and message in str(report.problems[0])
        assert sorted(Flag.objects.values_list("rule_id", flat=True)) == flagged

    def test_the_problem_names_the_line_of_the_rule(self, content_dir, flagged):
        path = self.broken(
            content_dir, "    severity: warning\n    pattern: '\\b[A-Z]", "    severity: urgent\n    pattern: '\\b[A-Z]"
        )
        line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "urgent" in text)
        assert f"{path}:{line}:" in str(run(content_dir).problems[0])

    def test_rules_that_match_nothing_are_reported(self, content_dir, flagged, capsys):
        call_command("import_content", str(content_dir))
        out = capsys.readouterr().out
        assert "rule oms-agent matches nothing" in out
        assert "rule azurerm-powershell matches nothing" not in out


class NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def rules_file(tmp_path, data):
    path = tmp_path / "staleness.yaml"
    path.write_text(yaml.dump(data, Dumper=NoAliases, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def refusal(path):
    with pytest.raises(ContentError) as caught:
        staleness.load_rules(path)
    return caught.value.problems


SHIPPED = content_files.read(CONTENT / "staleness.yaml").data
CHECKED = [rule["id"] for rule in SHIPPED["rules"] if rule["type"] in ("text", "url")]


@pytest.mark.parametrize("rule_id", CHECKED)
def test_every_text_and_url_rule_is_checked_against_its_examples(tmp_path, rule_id):
    """Each shipped rule, with one example that contradicts it, is refused at the example's line."""
    data = copy.deepcopy(SHIPPED)
    index = next(n for n, rule in enumerate(data["rules"]) if rule["id"] == rule_id)
    examples = data["rules"][index]["examples"]
    examples["no_match"] = [*examples.get("no_match", []), examples["match"][0]]
    examples["match"][0] = "nothing a rule could find"
    path = rules_file(tmp_path, data)
    document = content_files.read(path)
    assert [(p.line, p.message) for p in refusal(path)] == [
        (
            document.line("rules", index, "examples", "match", 0),
            f"rule {rule_id}: example 'nothing a rule could find' should match but does not",
        )
    ]
    examples["match"][0] = examples["no_match"][-1]
    (problem,) = refusal(rules_file(tmp_path, data))
    assert problem.message.startswith(f"rule {rule_id}: example ") and "should not match but does" in problem.message
    last = len(examples["no_match"]) - 1
    assert problem.line == content_files.read(path).line("rules", index, "examples", "no_match", last)


def test_a_pattern_or_url_rule_without_a_match_example_is_refused(tmp_path):
    data = copy.deepcopy(SHIPPED)
    index = next(n for n, rule in enumerate(data["rules"]) if rule["id"] == "docs-moved")
    data["rules"][index]["examples"] = {"no_match": ["https://learn.microsoft.com/"]}
    (problem,) = refusal(rules_file(tmp_path, data))
    assert problem.message == "rule docs-moved, examples: 'match' is a required property"


class TestPatterns:
    """Patterns run on RE2: no backtracking, so no pattern can make an import or a search slow."""

    def rule(self, tmp_path, pattern, match, no_match="b"):
        data = copy.deepcopy(SHIPPED)
        data["rules"].append(
            {
                "id": "probe",
                "type": "text",
                "severity": "info",
                "pattern": pattern,
                "message": {"ja": "x", "en": "x"},
                "examples": {"match": [match], "no_match": [no_match]},
            }
        )
        return rules_file(tmp_path, data), len(data["rules"]) - 1

    @pytest.mark.parametrize(
        ("pattern", "match"),
        [(r"(a)\1", "aa"), (r"Azure(?!Rm)", "Azure"), (r"(?<=Get-)AzureRm", "Get-AzureRm"), (r"(?=Azure)A", "Azure")],
    )
    def test_a_backreference_or_lookaround_is_refused_with_the_line_of_the_pattern(self, tmp_path, pattern, match):
        path, index = self.rule(tmp_path, pattern, match)
        (problem,) = refusal(path)
        assert problem.line == content_files.read(path).line("rules", index, "pattern")
        assert problem.message.startswith("rule probe: pattern does not compile: ")
        assert "no backreferences, no lookaround" in problem.message

    def test_a_nested_quantifier_runs_in_linear_time(self, tmp_path):
        """(a+)+b against a run of a's: Python's re backtracks through 2**n ways (26 a's took
        6.5 s, each 2 more 4x that); RE2 answers at once. The alarm only keeps a backtracking
        engine from hanging the suite: it is minutes away from either outcome."""
        path, _index = self.rule(tmp_path, "(a+)+b", "aaab", no_match="aaa")
        rule = next(rule for rule in staleness.load_rules(path) if rule.id == "probe")
        signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the pattern backtracked"))
        signal.alarm(60)
        try:
            found = staleness.text_matches(rule, "a" * 100_000 + "c")
        finally:
            signal.alarm(0)
        assert found is None and staleness.text_matches(rule, "a" * 100_000 + "b") == "a" * 100_000 + "b"


def test_a_rule_change_is_applied_by_reimporting(tmp_path, db):
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    run(root)
    assert Flag.objects.filter(rule_id="docs-moved").exists()
    path = root / "staleness.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: docs-moved")
    end = text.index("  - id: azure-status-history")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    run(root)
    assert not Flag.objects.filter(rule_id="docs-moved").exists()
