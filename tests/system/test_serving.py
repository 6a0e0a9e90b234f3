"""The production-style server of `make serve` (scripts/serve.sh: nginx in front of gunicorn's
sync workers), run for real: slow clients, the access log, the Host header, shared limits."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.config.test_metrics import value
from tests.conftest import CONTENT, REPO
from tests.system.conftest import free_port, get_json, manage, wait_for

pytestmark = pytest.mark.system


@pytest.fixture
def served(node_env, tmp_path, request):
    """scripts/serve.sh with two workers: (nginx's base URL, gunicorn's base URL, the log).
    Extra environment from the test's ``serve_env`` mark."""
    listen, upstream = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    mark = request.node.get_closest_marker("serve_env")
    env = {
        **node_env("a"),
        **(mark.args[0] if mark else {}),
        "KB_LISTEN": listen,
        "KB_UPSTREAM": upstream,
        "KB_NGINX_DIR": str(tmp_path / "nginx"),
        "GUNICORN": str(Path(sys.executable).parent / "gunicorn"),
        "WEB_CONCURRENCY": "2",
        "KB_SITE_URL": "http://kb.example.test",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    env = {name: value for name, value in env.items() if value is not None}
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            ["scripts/serve.sh"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://{listen}"
    try:
        wait_for(lambda: healthy(base), seconds=30, what=f"serve.sh to answer ({log.read_text()[-500:]})")
        yield base, f"http://{upstream}", log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def healthy(base, timeout=1):
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def slow_clients(address, count, stop):
    """``count`` connections that send their headers a byte at a time, and as many that
    announce a body they never finish."""
    host, port = address.removeprefix("http://").split(":")
    sockets = []

    def dribble(sock, data):
        for byte in data:
            if stop.is_set():
                return
            try:
                sock.send(bytes([byte]))
            except OSError:
                return
            time.sleep(0.5)

    for n in range(count):
        headers = socket.create_connection((host, int(port)))
        sockets.append(headers)
        threading.Thread(
            target=dribble,
            args=(headers, f"GET /en/?slow={n} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()),
            daemon=True,
        ).start()
        body = socket.create_connection((host, int(port)))
        body.send(b"POST /api/search/log HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\nq=")
        sockets.append(body)
    return sockets


def test_slow_clients_do_not_block_healthz_through_nginx(served):
    nginx, _gunicorn, _log = served
    stop = threading.Event()
    sockets = slow_clients(nginx, 3, stop)
    try:
        time.sleep(2)  # every slow client is connected and has started sending
        for _ in range(5):
            assert healthy(nginx, timeout=5), "a slow client held a worker"
            time.sleep(0.5)
    finally:
        stop.set()
        for sock in sockets:
            sock.close()


def test_the_access_log_keeps_no_query_string(served):
    nginx, _gunicorn, log = served
    secret = "taro.yamada@example.co.jp"
    get_json(f"{nginx}/api/search?q={secret}&limit=1")
    wait_for(lambda: log.read_text().count("/api/search") >= 2, seconds=10, what="both access log lines")
    assert secret not in log.read_text() and "taro.yamada" not in log.read_text()


def json_lines(log):
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def test_logs_are_json_lines_joined_by_the_proxys_request_id(served):
    """nginx makes the id (one a client sends is replaced), gunicorn's lines carry it, the
    response returns it; no query string and no address in any line of the request."""
    nginx, _gunicorn, log = served
    request = urllib.request.Request(
        f"{nginx}/en/articles/no-such-article/?q=taro.yamada@example.co.jp",
        headers={"X-Request-ID": "chosen-by-client"},
    )
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=20)
    given = answer.value.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", given), given

    def lines_of_the_request():
        found = [line for line in json_lines(log) if line.get("request_id") == given]
        return found if {line["logger"] for line in found} >= {"nginx", "kb.requests", "django.request"} else None

    found = wait_for(lines_of_the_request, seconds=10, what="the request's lines from nginx and gunicorn")
    assert all(line["path"] == "/en/articles/no-such-article/" for line in found if "path" in line)
    text = json.dumps(found)
    assert "taro" not in text and "127.0.0.1" not in text and "chosen-by-client" not in log.read_text()


def test_unknown_hosts_and_ports_are_refused_and_links_name_the_site(served, node_env):
    nginx, gunicorn, _log = served
    for base, host in ((gunicorn, "127.0.0.1:6666"), (nginx, "evil.example")):
        status, _body = get_json(f"{base}/api/search?q=extensions", headers={"Host": host})
        assert status == 400, (base, host)
    manage(node_env("a"), "import_content", str(CONTENT), "-v0")
    found = wait_for(lambda: hits(f"{nginx}/api/search?q=extensions"), what="the imported content")
    assert all(hit["url"].startswith("http://kb.example.test/") for hit in found)


@pytest.mark.serve_env({"REDIS_URL": None, "KB_RATE_API": "6"})
def test_without_redis_url_the_workers_share_one_limit(served):
    """make serve with no REDIS_URL: its own Redis, so two workers do not each allow the limit."""
    nginx, _gunicorn, log = served
    with ThreadPoolExecutor(12) as pool:  # at once, so both workers take some
        statuses = list(pool.map(lambda _: get_json(f"{nginx}/api/search")[0], range(24)))
    assert sorted(statuses) == [200] * 6 + [429] * 18, statuses
    assert "Redis" in log.read_text()


def hits(url):
    status, payload = get_json(url)
    return status == 200 and payload["results"]


def test_two_nodes_share_the_api_limit_through_redis(node_env, gunicorn):
    env = {**node_env("a"), "KB_RATE_API": "4"}
    node_a, node_b = gunicorn(env), gunicorn({**env, "KB_INDEX_DIR": node_env("b")["KB_INDEX_DIR"]})
    client = {"X-Forwarded-For": "198.51.100.7"}
    # No query: an answer that needs no index (neither node has built one), counted all the same.
    statuses = [get_json(f"{node}/api/search", headers=client)[0] for node in (node_a, node_b, node_a, node_b)]
    assert statuses == [200] * 4
    refused = urllib.request.Request(f"{node_a}/api/search", headers=client)
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(refused, timeout=20)
    assert error.value.code == 429 and 1 <= int(error.value.headers["Retry-After"]) <= 60
    other = {"X-Forwarded-For": "198.51.100.8"}
    assert get_json(f"{node_b}/api/search", headers=other)[0] == 200


def test_readyz_through_the_stack_follows_the_index_and_redis(served, redis):
    """A fresh node has no index: /readyz says so and starts building it, then answers 200;
    with its Redis stopped it answers 503 naming Redis, while /healthz still answers."""
    nginx, _gunicorn, _log = served
    status, body = get_json(f"{nginx}/readyz")
    assert status == 503 and set(body["problems"]) == {"index"}, body
    wait_for(lambda: get_json(f"{nginx}/readyz")[0] == 200, what="the node to build its index")
    redis.stop()
    status, body = get_json(f"{nginx}/readyz")
    assert status == 503 and set(body["problems"]) == {"redis"}, body
    assert healthy(nginx)


def status_of(url):
    with urllib.request.urlopen(url, timeout=20) as response:
        return response.status


def scrape(base, headers=None):
    """/metrics naming the host as nginx does (gunicorn's own port is not an allowed host)."""
    request = urllib.request.Request(f"{base}/metrics", headers={"Host": "127.0.0.1", **(headers or {})})
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.read().decode()


def test_metrics_add_up_across_workers_and_are_not_public(served, tmp_path):
    """Two workers, ten API searches and three pages at once: every scrape, whichever worker
    answers it, counts ten; a client the proxy says is elsewhere is refused."""
    nginx, gunicorn, _log = served
    wait_for(lambda: get_json(f"{nginx}/readyz")[0] == 200, what="the node to build its index")
    with ThreadPoolExecutor(8) as pool:
        searches = pool.map(lambda n: get_json(f"{nginx}/api/search?q=vm{n}")[0], range(10))
        pages = pool.map(lambda n: status_of(f"{nginx}/en/search/?q=disk{n}"), range(3))
        assert list(searches) == [200] * 10 and list(pages) == [200] * 3
    workers = {path.stem.rsplit("_", 1)[1] for path in (tmp_path / "prometheus").glob("counter_*.db")}
    assert len(workers) == 2, workers  # both workers counted some
    for _ in range(4):  # several scrapes: each worker answers some of them
        for text in (scrape(nginx), scrape(gunicorn)):
            assert value(text, "kb_search_seconds_count", kind="api") == 10
            assert value(text, "kb_search_seconds_count", kind="page") == 3
            view = {"view": "api_search", "method": "GET", "status": "200"}
            assert value(text, "django_http_requests_total", **view) == 10
            assert re.search(r"^django_db_execute_total\{[^}]*alias=\"default\"", text, re.MULTILINE)  # queries
            assert "vm1" not in text and "127.0.0.1" not in text
    with pytest.raises(urllib.error.HTTPError) as refused:
        scrape(gunicorn, headers={"X-Forwarded-For": "198.51.100.7"})
    assert refused.value.code == 403


def test_nginx_serves_the_static_files_itself(served):
    """The collected files (hashed names) from STATIC_ROOT, by nginx: cached for good."""
    nginx, _gunicorn, log = served
    with urllib.request.urlopen(f"{nginx}/en/", timeout=20) as response:
        stylesheet = re.search(r'href="(/static/[^"]+\.css)"', response.read().decode())[1]
    with urllib.request.urlopen(f"{nginx}{stylesheet}", timeout=20) as response:
        assert response.status == 200 and response.read()
        # nginx's header (whitenoise would send "max-age=315360000, public, immutable")
        assert response.headers.get_all("Cache-Control") == ["public, max-age=31536000, immutable"]
    assert stylesheet not in log.read_text()  # never reached gunicorn (nor nginx's access log)
