"""/metrics: Django's and the project's metrics, readable from loopback, the addresses a
setting names, or with the bearer token; never a query nor an address in it."""

import re

import pytest
from django.core.management import CommandError, call_command

from kb import search
from kb.models import ImportRun
from tests.conftest import make_article

pytestmark = pytest.mark.django_db


def scrape(client, **extra):
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    return response.content.decode()


def value(text, name, **labels):
    """The sample ``name{labels}`` of a scrape, 0 when it is not there."""
    wanted = ",".join(f'{key}="{val}"' for key, val in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if match and match[1] == name and ",".join(sorted((match[2] or "").split(","))) == wanted:
            return float(match[3])
    return 0.0


def added(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def indexed(isolated_index):
    make_article("agent", title="エージェントが応答しない", body="VM エージェント taro.yamada@example.co.jp")
    ImportRun.objects.create(changed_slugs=["agent"])
    search.rebuild()
    search.catch_up(force=True, wait=True)


def test_searches_by_kind_and_outcome(client, indexed):
    before = scrape(client)
    for _ in range(3):
        client.get("/api/search", {"q": "エージェント"})
    client.get("/ja/search/", {"q": "エージェント"})
    client.get("/ja/search/", {"q": "エージェント"}, HTTP_HX_REQUEST="true")
    client.get("/ja/search/", {"q": "zzzqqq"})
    client.get("/ja/search/")  # the empty form: not a search
    after = scrape(client)
    for kind, count in (("api", 3), ("page", 2), ("htmx", 1)):
        assert added(before, after, "kb_search_seconds_count", kind=kind) == count
    assert added(before, after, "kb_search_outcomes_total", outcome="nothing") == 1
    # the same API search three times: computed once, then the page cache
    assert added(before, after, "kb_page_cache_requests_total", view="api_search", result="hit") == 2
    assert added(before, after, "kb_page_cache_requests_total", view="api_search", result="miss") == 1
    assert added(before, after, "django_http_requests_total", view="api_search", method="GET", status="200") == 3
    assert added(before, after, "django_http_request_duration_seconds_count", view="api_search") == 3


def test_state_of_the_index(client, indexed):
    text = scrape(client)
    assert value(text, "kb_index_usable") == 1 and value(text, "kb_database_up") == 1
    assert re.search(r'^kb_index_build_info\{build="[0-9a-f]+"\} 1\.0$', text, re.MULTILINE)
    assert value(text, "kb_index_age_seconds") >= 0 and value(text, "kb_index_lag_seconds") == 0
    assert value(text, "kb_content_version") == value(text, "kb_index_applied_import_run") > 0


def test_the_last_import_result_and_problems(client, content_dir):
    (content_dir / "articles" / "bad").mkdir()
    (content_dir / "articles" / "bad" / "ja.md").write_text(
        "---\ntitle: x\ndate: tomorrow\n---\n本文\n", encoding="utf-8"
    )
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_content", str(content_dir), verbosity=0)
    text = scrape(client)
    assert value(text, "kb_import_last_ok") == 0 and value(text, "kb_import_last_problems") == 1
    (content_dir / "articles" / "bad" / "ja.md").write_text("---\ntitle: 直した\n---\n本文\n", encoding="utf-8")
    call_command("import_content", str(content_dir), verbosity=0)
    text = scrape(client)
    assert value(text, "kb_import_last_ok") == 1 and value(text, "kb_import_last_problems") == 0


def test_rate_limit_refusals_are_counted(client, settings, indexed):
    settings.KB_RATE_API = 2
    before = scrape(client)
    for _ in range(4):
        client.get("/api/search", {"q": "エージェント"})
    assert added(before, scrape(client), "kb_rate_limited_total", view="api_search") == 2


def test_no_query_nor_address_in_the_metrics(client, indexed):
    client.get("/api/search", {"q": "taro.yamada@example.co.jp"}, REMOTE_ADDR="127.0.0.9")
    text = scrape(client)
    assert "taro" not in text and "yamada" not in text and "127.0.0.9" not in text


def test_refused_to_another_address_and_opened_by_setting_or_token(client, settings):
    outside = {"REMOTE_ADDR": "203.0.113.5"}
    response = client.get("/metrics", **outside)
    assert response.status_code == 403 and b"kb_" not in response.content
    settings.KB_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **outside).status_code == 403
    assert "kb_index_usable" in scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-token", **outside)
    settings.KB_METRICS_ALLOW = ["203.0.113.0/24"]
    assert "kb_index_usable" in scrape(client, **outside)
    assert client.get("/metrics").status_code == 403  # loopback is no longer listed


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, settings):
    settings.KB_TRUSTED_PROXIES = 1
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 403
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 200


def test_the_counters_flush_time(client):
    from kb import counters

    counters.flush()
    assert value(scrape(client), "kb_counters_flushed_timestamp_seconds") > 1.7e9


def test_check_deploy_warns_of_metrics_per_worker(settings, monkeypatch):
    from django.core import checks

    settings.KB_WORKERS = 2
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    found = [m.id for m in checks.run_checks(include_deployment_checks=True)]
    assert "kb.W002" in found
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/run/kb-metrics")
    assert "kb.W002" not in [m.id for m in checks.run_checks(include_deployment_checks=True)]


def test_a_search_with_a_hit_found_only_through_the_glossary_counts_as_bridged():
    from kb import metrics
    from kb.search import Hit, Results

    before = metrics.SEARCH_BRIDGED._value.get()
    hit = Hit(slug="a", lang="ja", kind="guide", title="", snippet="", score=1.0, revision=1, published="")
    plain = Results(query="vm", total=1, hits=[hit])
    metrics.searched(plain)
    assert metrics.SEARCH_BRIDGED._value.get() == before
    through_glossary = Hit(**{**hit.__dict__, "bridged": [("一時ディスク", "temporary disk")]})
    bridged = Results(query="一時ディスク", total=1, hits=[through_glossary])
    metrics.searched(bridged)
    assert metrics.SEARCH_BRIDGED._value.get() == before + 1
