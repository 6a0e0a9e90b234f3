"""What people search and do not find: counted without personal data, one row per query a
day, on the editor's page and from a command; never at the cost of a search."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from kb import counters, search, search_log, shared
from kb.models import SearchDay


def logged():
    counters.flush()
    return {(row.query, row.lang): (row.searches, row.empty, row.opened) for row in SearchDay.objects.all()}


@pytest.mark.usefixtures("seeds")
class TestRecording:
    def test_a_search_is_one_row_a_day_whatever_the_spelling(self, client):
        client.get("/en/search/", {"q": "Extensions"})
        # the same query, normalised, by another visitor (one visitor's query counts once); from the cache
        client.get("/en/search/", {"q": "  extensions "}, REMOTE_ADDR="192.0.2.8")
        client.get("/ja/search/", {"q": "更新中"})
        assert logged() == {("extensions", "en"): (2, 0, 0), ("更新中", "ja"): (1, 0, 0)}
        row = SearchDay.objects.get(query="extensions")
        assert (
            row.day == timezone.localdate() and row.results == 2 * search.search("extensions", prefer_lang="en").total
        )

    def test_a_search_the_browser_shows_from_its_own_copy_still_counts(self, client):
        first = client.get("/en/search/", {"q": "extensions"})
        other = {"If-None-Match": first["ETag"]}
        again = client.get("/en/search/", {"q": "extensions"}, headers=other, REMOTE_ADDR="192.0.2.7")
        assert again.status_code == 304
        assert logged() == {("extensions", "en"): (2, 0, 0)}

    def test_one_visitor_repeating_a_query_counts_once(self, client):
        for _ in range(5):
            client.get("/en/search/", {"q": "extensions"})
            client.post("/api/search/log", {"event": "searched", "q": "extensions", "lang": "en"})
        assert logged() == {("extensions", "en"): (1, 0, 0)}

    def test_with_the_search_log_off_nothing_is_recorded_and_search_still_answers(self, client, settings):
        settings.KB_SEARCH_LOG = False
        response = client.get("/en/search/", {"q": "extensions"})
        client.post("/api/search/log", {"q": "extensions", "lang": "en", "event": "opened"})
        assert response.status_code == 200 and int(response["X-Result-Count"]) > 0
        assert logged() == {}

    def test_live_results_are_counted_by_the_browser_after_a_pause_not_per_keystroke(self, client):
        for partial in ("e", "ex", "exte"):
            client.get("/en/search/", {"q": partial}, headers={"HX-Request": "true"})
        assert logged() == {}
        client.post("/api/search/log", {"event": "searched", "q": "extensions", "lang": "en"})
        assert logged() == {("extensions", "en"): (1, 0, 0)}

    def test_searches_that_find_nothing_and_results_nobody_opened(self, client):
        client.get("/en/search/", {"q": "xyzzy plugh"})
        client.get("/en/search/", {"q": "VMExtensionProvisioningError"})
        client.get("/en/search/", {"q": "168.63.129.16"})
        client.post("/api/search/log", {"event": "opened", "q": "168.63.129.16", "lang": "en"})
        assert logged() == {
            ("xyzzy plugh", "en"): (1, 1, 0),
            ("vmextensionprovisioningerror", "en"): (1, 0, 0),
            ("168.63.129.16", "en"): (1, 0, 1),
        }
        assert [(r["query"], r["count"]) for r in search_log.not_found()] == [("xyzzy plugh", 1)]
        assert [(r["query"], r["count"]) for r in search_log.not_opened()] == [("vmextensionprovisioningerror", 1)]

    def test_no_personal_data_is_kept(self, client):
        client.get("/en/search/", {"q": "taro@example.co.jp 0f8fad5b-d9cb-469f-a165-70867728950e VM"})
        assert logged() == {("<email> <guid> vm", "en"): (1, 0, 0)}
        assert not {field.name for field in SearchDay._meta.fields} & {"ip", "address", "visitor", "session", "cookie"}

    def test_the_beacon_takes_only_known_languages_and_never_fails(self, client):
        assert client.post("/api/search/log", {"event": "opened", "q": "VM", "lang": "xx"}).status_code == 204
        assert client.post("/api/search/log", {"event": "bogus", "q": "VM", "lang": "en"}).status_code == 204
        assert client.get("/api/search/log").status_code == 405
        assert logged() == {}

    def test_a_failure_to_count_is_logged_and_the_search_still_answers(self, client, monkeypatch, caplog):
        def broken(*args, **kwargs):
            raise RuntimeError("counter store is broken")

        monkeypatch.setattr(shared, "incr", broken)
        response = client.get("/en/search/", {"q": "extensions"})
        assert response.status_code == 200 and "Virtual machine extensions" in response.content.decode()
        assert "could not count" in caplog.text
        assert logged() == {}


@pytest.mark.django_db
class TestReports:
    @pytest.fixture
    def history(self):
        today = timezone.localdate()
        for days_ago, query, searches, empty, opened in [
            (0, "一時ディスク 消えた", 5, 5, 0),
            (3, "一時ディスク 消えた", 2, 2, 0),
            (1, "serial console", 4, 0, 0),
            (1, "168.63.129.16", 9, 0, 3),
            (200, "classic vm", 7, 7, 0),
            (201, "classic vm", 1, 1, 0),
        ]:
            SearchDay.objects.create(
                day=today - dt.timedelta(days=days_ago),
                query=query,
                lang="ja",
                searches=searches,
                empty=empty,
                opened=opened,
            )

    def test_the_editor_sees_both_lists_with_counts_and_links(self, client, history):
        client.force_login(User.objects.create_user("editor", is_staff=True))
        body = client.get("/en/editor/").content.decode()
        assert (
            'href="/ja/search/?q=%E4%B8%80%E6%99%82%E3%83%87%E3%82%A3%E3%82%B9%E3%82%AF%20%E6%B6%88%E3%81%88%E3%81%9F"'
            in body
        )
        assert "×7" in body and "×4" in body  # 5 + 2 that found nothing; 4 searches nobody opened
        assert "classic vm" not in body  # older than the 30 days shown

    def test_the_command_prints_the_same_lists(self, history, capsys):
        call_command("search_report")
        out = capsys.readouterr().out
        assert "     7  ja  一時ディスク 消えた" in out and "     4  ja  serial console" in out
        assert "168.63.129.16" not in out

    def test_old_days_roll_up_into_their_month(self):
        """Dates written out: the 14th and 15th of March 2025 merge into March's row, which
        the 1st of April (already its month's row) does not join; the last 90 days stay apart."""
        recent = timezone.localdate() - dt.timedelta(days=3)
        for day, searches in (
            (dt.date(2025, 3, 14), 3),
            (dt.date(2025, 3, 15), 2),
            (dt.date(2025, 4, 1), 6),
            (recent, 4),
        ):
            SearchDay.objects.create(day=day, query="old disk", lang="en", searches=searches, empty=0, opened=0)
        assert search_log.roll_up(older_than_days=90) == 2
        merged = {row.day: row.searches for row in SearchDay.objects.filter(query="old disk")}
        assert merged == {dt.date(2025, 3, 1): 5, dt.date(2025, 4, 1): 6, recent: 4}
