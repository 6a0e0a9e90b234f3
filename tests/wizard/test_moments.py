"""The wording of "when" answers comes from the translations, never from a language test:
Japanese from its catalogue, English as written, and a third language (Simplified Chinese,
which has no catalogue yet) in the site's default language (LANGUAGE_CODE, Japanese) until it
gets one: a catalogue, no code change."""

import datetime as dt

import pytest

from tests.wizard.test_trees import TREE
from wizard import moments
from wizard.answered import answer_text

CASES = [
    ("2021-10-13~evening_jst", {"ja": "2021-10-13 夕方 (16–19 時) (JST)", "en": "2021-10-13 evening (16–19) (JST)"}),
    ("2021-10-13~night_jst", {"ja": "2021-10-13 夜 (19–24 時) (JST)", "zh-hans": "2021-10-13 夜 (19–24 時) (JST)"}),
    ("2021-10-13_jst", {"ja": "2021-10-13 (時刻不明, JST)", "zh-hans": "2021-10-13 (時刻不明, JST)"}),
    (
        "2021-10-13T1600_any",
        {"ja": "2021-10-13 16:00 (JST か UTC か不明)", "zh-hans": "2021-10-13 16:00 (JST か UTC か不明)"},
    ),
    ("2021-10-13_night_utc", {"en": "2021-10-13 late night (0–6) (UTC)", "ja": "2021-10-13 深夜 (0–6 時) (UTC)"}),
]


@pytest.mark.parametrize(("value", "wording"), CASES)
def test_a_moment_is_worded_in_each_language_from_its_catalogue(value, wording):
    for lang, text in wording.items():
        assert moments.describe(moments.parse(value), lang) == text


def test_a_history_row_words_the_moment_in_the_third_language(settings):
    settings.LANGUAGES = [("ja", "Japanese"), ("en", "English"), ("zh-hans", "Simplified Chinese")]
    assert (
        answer_text(TREE, "when", "2021-10-13~evening_any", "zh-hans")
        == "2021-10-13 夕方 (16–19 時) (JST か UTC か不明)"
    )
    assert answer_text(TREE, "when", "2021-10-13~evening_any", "ja") == "2021-10-13 夕方 (16–19 時) (JST か UTC か不明)"


def test_evening_and_night_are_different_hours():
    evening, night = moments.parse("2021-10-13~evening_jst"), moments.parse("2021-10-13~night_jst")
    assert evening.hours == (16, 19) and night.hours == (19, 24)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1969-12-31"])
def test_a_day_no_failure_can_have_is_not_a_moment(day):
    assert moments.from_form(day, "", "", "jst") is None and moments.parse(f"{day}_any") is None


def test_the_share_of_a_window_a_moment_covers():
    jst = moments.ZONES["jst"]
    window = (dt.datetime(2021, 10, 13, 15, 27, tzinfo=jst), dt.datetime(2021, 10, 13, 21, 42, tzinfo=jst))
    assert moments.overlap_share(moments.parse("2021-10-13T1600_jst"), window) == 1
    assert moments.overlap_share(moments.parse("2021-10-13T0900_jst"), window) == 0
    assert moments.overlap_share(moments.parse("2021-10-13~evening_jst"), window) == 1
    assert 0.25 < moments.overlap_share(moments.parse("2021-10-13_jst"), window) < 0.27
