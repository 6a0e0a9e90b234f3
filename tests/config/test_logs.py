"""Structured logs: JSON lines, the request id in every line of a request and in the
response, and nothing of what the visitor sent beyond the method and the path."""

import io
import json
import logging

import pytest

from config.logs import JsonFormatter, RequestIdFilter
from kb.search import index as search_index

pytestmark = pytest.mark.django_db

SECRET = "taro.yamada@example.co.jp"


@pytest.fixture
def log_lines():
    """The JSON lines the project's formatter and filter write, as the settings set them up."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    root.removeHandler(handler)


def test_every_line_of_a_request_carries_its_trusted_id(client, settings, log_lines):
    settings.KB_TRUST_REQUEST_ID = True
    response = client.get(f"/en/articles/no-such-article/?q={SECRET}", HTTP_X_REQUEST_ID="nginx-id-0123456789")
    assert response.status_code == 404 and response["X-Request-ID"] == "nginx-id-0123456789"
    lines = log_lines()
    assert {line["logger"] for line in lines} == {"django.request", "kb.requests"}
    assert all(line["request_id"] == "nginx-id-0123456789" for line in lines)
    request_line = next(line for line in lines if line["logger"] == "kb.requests")
    assert request_line["time"].endswith("+00:00")
    assert request_line | {"ms": 0, "time": ""} == {
        "time": "",
        "level": "INFO",
        "logger": "kb.requests",
        "message": "GET /en/articles/no-such-article/ 404",
        "request_id": "nginx-id-0123456789",
        "method": "GET",
        "path": "/en/articles/no-such-article/",
        "view": "kb:article",
        "status": 404,
        "ms": 0,
    }


def test_no_query_string_paste_or_address_in_any_line(client, settings, log_lines):
    settings.KB_TRUST_REQUEST_ID = True
    client.get("/api/search", {"q": SECRET}, REMOTE_ADDR="192.0.2.44", HTTP_X_FORWARDED_FOR="198.51.100.9")
    client.post("/en/wizard/paste/", {"paste": f"error from {SECRET} at 10.1.2.3"}, REMOTE_ADDR="192.0.2.44")
    client.get(f"/ja/no-such-page/?q={SECRET}", REMOTE_ADDR="192.0.2.44")
    text = json.dumps(log_lines(), ensure_ascii=False)
    assert len(log_lines()) >= 3
    for leak in ("taro", SECRET, "192.0.2.44", "198.51.100.9", "10.1.2.3", "?q"):
        assert leak not in text
    search_index.wait_for_rebuild(timeout=120)  # the search started one (no index in this test)


def test_an_untrusted_or_malformed_id_is_replaced(client, settings, log_lines):
    settings.KB_TRUST_REQUEST_ID = False
    first = client.get("/healthz", HTTP_X_REQUEST_ID="client-chosen-id-123")["X-Request-ID"]
    settings.KB_TRUST_REQUEST_ID = True
    second = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    third = client.get("/healthz")["X-Request-ID"]
    assert first != "client-chosen-id-123" and len({first, second, third}) == 3
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in (first, second, third))
    assert [line["request_id"] for line in log_lines()] == [first, second, third]


def test_japanese_messages_stay_readable(log_lines):
    logging.getLogger("kb.test").warning("索引を再構築します")
    assert log_lines()[0]["message"] == "索引を再構築します" and log_lines()[0]["request_id"] == ""
