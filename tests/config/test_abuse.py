"""What an anonymous client cannot do however many requests it sends (issue 21): grow the page
cache, poison pages through the Host header, fill the search log, search without limit, guess
the admin password, or reach a 5xx with control characters."""

import re
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import LocalePrefixPattern, RoutePattern

from kb import caching, limits, page_cache
from kb.models import SearchDay
from tests.conftest import article_file, run

SENTENCE = "仮想マシンの拡張機能のプロビジョニングが失敗したときは、エージェントの状態を確認します。"


@pytest.fixture
def big_article(content_dir, db):
    body = "\n\n".join(f"## 見出し {n}\n\n" + SENTENCE * 20 for n in range(200))  # about 600 KB of page
    article_file(content_dir, "big", "ja", title="大きな記事", body=body)
    assert run(content_dir).ok
    return "/ja/articles/big/"


class TestPageCache:
    def test_query_strings_a_page_does_not_read_do_not_grow_the_cache(self, client, big_article):
        first = client.get(big_article)
        assert first.status_code == 200 and len(first.content) > 500_000
        held = caches["default"].size
        assert held >= len(first.content)  # the page itself is kept
        for n in range(40):
            assert client.get(f"{big_article}?utm={n}").status_code == 200
        assert caches["default"].size == held

    def test_pages_that_differ_by_what_they_read_are_bounded_in_bytes(self, client, seeds, monkeypatch):
        small = page_cache.BytesBoundedCache("", {"OPTIONS": {"MAX_BYTES": 100_000}})
        monkeypatch.setattr(caching, "cache", small)
        sizes = []
        for n in range(60):
            response = client.get("/en/search/", {"q": f"extensions {n}"})
            assert response.status_code == 200
            sizes.append(small.size)
        assert max(sizes) <= 100_000 and 60 * len(response.content) > 2 * 100_000  # twice what the bound holds
        assert sizes[-1] > 50_000  # the cache is used, not emptied
        assert client.get("/en/search/", {"q": "extensions 59"}).status_code == 200  # the newest is still served


@pytest.mark.usefixtures("seeds")
class TestHost:
    def test_the_api_urls_come_from_the_site_url_not_the_host_header(self, client, settings):
        settings.KB_ALLOWED_PORTS = {"testserver": {"*"}}
        poisoned = client.get("/api/search", {"q": "extensions"}, HTTP_HOST="testserver:6666").json()
        later = client.get("/api/search", {"q": "extensions"}).json()
        for payload in (poisoned, later):
            assert payload["results"] and all(hit["url"].startswith("http://testserver/") for hit in payload["results"])

    def test_the_etag_holds_the_host(self, client, settings):
        settings.KB_ALLOWED_PORTS = {"testserver": {"*"}}
        assert client.get("/en/").headers["ETag"] != client.get("/en/", HTTP_HOST="testserver:6666").headers["ETag"]

    def test_a_port_that_is_not_configured_is_refused(self, client, settings):
        settings.ALLOWED_HOSTS, settings.KB_ALLOWED_PORTS = settings_hosts("kb.example.com,kb.example.com:8443")
        assert client.get("/en/", HTTP_HOST="kb.example.com").status_code == 200
        assert client.get("/en/", HTTP_HOST="kb.example.com:8443").status_code == 200
        assert client.get("/en/", HTTP_HOST="kb.example.com:6666").status_code == 400
        assert client.get("/en/", HTTP_HOST="evil.example.com").status_code == 400


def settings_hosts(entries):
    from config.settings import allowed_hosts

    return allowed_hosts(entries.split(","))


class TestLimits:
    @pytest.fixture(autouse=True)
    def one_window(self, monkeypatch):
        """Every request of a test in the same minute, 40 seconds before its end."""
        monkeypatch.setattr(limits, "time", SimpleNamespace(time=lambda: 60 * 1_000_000 + 20.0))

    def test_the_api_answers_429_with_retry_after_past_the_limit(self, client, seeds, settings):
        settings.KB_RATE_API = 5
        statuses = [client.get("/api/search", {"q": f"extensions {n}"}).status_code for n in range(5)]
        refused = client.get("/api/search", {"q": "extensions"})
        assert statuses == [200] * 5 and refused.status_code == 429
        assert refused["Retry-After"] == "40" and "too many requests" in refused.json()["error"]
        assert client.get("/api/search", {"q": "extensions"}, REMOTE_ADDR="192.0.2.9").status_code == 200

    def test_the_search_page_answers_429_with_the_sites_page(self, client, seeds, settings):
        settings.KB_RATE_SEARCH = 3
        for partial in ("拡", "拡張", "拡張機能"):  # live search, one request per pause
            assert client.get("/ja/search/", {"q": partial}, headers={"HX-Request": "true"}).status_code == 200
        refused = client.get("/ja/search/", {"q": "拡張機能の"})
        assert refused.status_code == 429 and refused["Retry-After"] == "40"
        assert "リクエストが多すぎます" in refused.content.decode()  # the site's page, in the visitor's language

    def test_a_search_log_flood_records_little_and_is_refused(self, client, seeds, settings):
        settings.KB_RATE_SEARCH_LOG = 60
        statuses = [
            client.post("/api/search/log", {"event": "searched", "q": f"flood {n}", "lang": "en"}).status_code
            for n in range(300)
        ]
        assert statuses.count(204) == 60 and statuses.count(429) == 240
        assert SearchDay.objects.count() <= 60

    def test_the_same_event_repeated_counts_once(self, client, seeds, settings):
        from kb import counters

        settings.KB_RATE_SEARCH_LOG = 1000
        for _ in range(100):
            client.post("/api/search/log", {"event": "searched", "q": "xyzzy plugh", "lang": "en"})
        counters.flush()
        assert list(SearchDay.objects.values_list("query", "searches")) == [("xyzzy plugh", 1)]

    @pytest.mark.parametrize(
        "headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"}]
    )
    def test_another_sites_page_cannot_write_the_search_log(self, client, seeds, settings, headers):
        from kb import counters

        settings.KB_RATE_SEARCH_LOG = 1000
        event = {"event": "searched", "q": "planted query", "lang": "en"}
        refused = client.post("/api/search/log", event, headers=headers)
        same_site = client.post(
            "/api/search/log", {**event, "q": "own query"}, headers={"Sec-Fetch-Site": "same-origin"}
        )
        counters.flush()
        assert refused.status_code == 403 and same_site.status_code == 204
        assert list(SearchDay.objects.values_list("query", flat=True)) == ["own query"]


@pytest.mark.django_db
class TestAdminLogin:
    def test_locked_out_after_failures_even_with_the_right_password(self, client, settings):
        User.objects.create_superuser("admin", "admin@example.com", "right-password-123")
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post("/admin/login/", {"username": "admin", "password": "wrong"})
        locked = client.post("/admin/login/", {"username": "admin", "password": "right-password-123"})
        assert locked.status_code == 429 and "_auth_user_id" not in client.session
        other = client.post(
            "/admin/login/", {"username": "admin", "password": "right-password-123"}, REMOTE_ADDR="192.0.2.10"
        )
        assert other.status_code == 302 and client.session["_auth_user_id"]


SAMPLES = {"article": "a\x00b", "lang": "en", "int": "1", "path": "x\x00.png", "str": "t\x00", "slug": "s\x00"}
HOSTILE = ["\x00", "\x01", "\x1f", "\x7f", "a\x00b"]
PARAMS = ("q", "tag", "kind", "lang", "page", "limit", "from", "to", "a", "r", "at", "p", "node", "date", "time")


def routes(resolver=None, prefix=""):
    """Every route of the URL conf with its converters filled by hostile samples."""
    for entry in (resolver or get_resolver()).url_patterns:
        pattern = entry.pattern
        if isinstance(pattern, LocalePrefixPattern):
            part = "en/"
        elif isinstance(pattern, RoutePattern):
            part = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: SAMPLES.get(m.group(1) or "str", "x\x00"), str(pattern))
        else:
            continue  # a regular expression route (the admin's app index): not walkable by samples
        if isinstance(entry, URLResolver):
            yield from routes(entry, prefix + part)
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + part


@pytest.mark.usefixtures("seeds")
def test_no_5xx_from_control_characters_in_any_url_part(client):
    paths = sorted(set(routes()))
    assert "/en/articles/a\x00b/en/diff/" in paths and "/api/search" in paths
    failures = []
    for path in paths:
        for bad in HOSTILE:
            hostile_path = path.replace("\x00", bad)
            for url, query in ((hostile_path, {}), (path.replace("\x00", ""), dict.fromkeys(PARAMS, bad))):
                for method in (client.get, client.post):
                    status = method(url, query).status_code
                    if status >= 500:
                        failures.append((method.__name__, url, query and bad, status))
    assert failures == []
