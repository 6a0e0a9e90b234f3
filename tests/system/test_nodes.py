"""Several processes and machines, one database and one Redis: real `manage.py` and gunicorn
processes, each node with its own search index (see conftest.py)."""

import re
import shutil
import threading
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest

from tests.conftest import CONTENT
from tests.system.conftest import get_json, manage, wait_for

pytestmark = pytest.mark.system

QUERIES = [
    "更新中",
    "準備できていません",
    "プロビジョニング 失敗",
    "VMExtensionProvisioningError",
    "168.63.129.16",
    "extensions",
    '"VM Agent is unresponsive"',
    "仮想マシン エージェント",
    "0NC_-L9G",
]


def search(base, query):
    """(status, [(slug, lang), …] of every hit) of the API."""
    status, body = get_json(f"{base}/api/search?q={quote(query)}&lang=all&limit=50")
    hits = [(hit["slug"], hit["lang"]) for hit in body["results"]] if status == 200 else None
    return status, hits


def answers(base):
    """Every query answered by a node, or None while it is still building its index."""
    found = {query: search(base, query) for query in QUERIES}
    return None if any(status != 200 for status, _ in found.values()) else {q: hits for q, (_s, hits) in found.items()}


def blog(folder, word, count=30):
    """A folder of posts about nothing the queries ask for."""
    for number in range(count):
        path = folder / f"{word}-{number}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\ntitle: {word} {number}\n---\n{word} についての記事 {number} です。\n", encoding="utf-8")
    return folder


def test_an_import_through_one_node_is_searchable_on_the_other(node_env, gunicorn, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    manage(node_env("a"), "import_content", str(content))
    node_a, node_b = gunicorn(node_env("a")), gunicorn(node_env("b"))
    # node b has no index yet: it answers 503 while it builds one in the background
    assert wait_for(lambda: search(node_b, "0NC_-L9G")[0] == 200, what="node b's index")
    assert len(search(node_b, "0NC_-L9G")[1]) == 2

    english = content / "articles" / "vmagent-notready" / "en.md"
    english.write_text(english.read_text(encoding="utf-8") + "\nZanzibarquokka diagnostics.\n", encoding="utf-8")
    manage(node_env("a"), "import_content", str(content))
    assert search(node_a, "Zanzibarquokka")[1] == [("vmagent-notready", "en")]
    wait_for(lambda: search(node_b, "Zanzibarquokka")[1] == [("vmagent-notready", "en")], 10, "node b to catch up")


def test_searches_stay_complete_and_correct_while_indexes_are_rebuilt_and_content_imported(
    node_env, gunicorn, tmp_path
):
    """Two workers on one node, one on another, a stream of word and phrase queries, while
    `rebuild_index` runs on both nodes and imports land: every answer is the full answer."""
    manage(node_env("a"), "import_content", str(CONTENT))
    manage(node_env("a"), "rebuild_index")
    manage(node_env("b"), "rebuild_index")
    node_a, node_b = gunicorn(node_env("a"), workers=2), gunicorn(node_env("b"))
    expected = wait_for(lambda: answers(node_a), what="node a")
    assert wait_for(lambda: answers(node_b), what="node b") == expected
    assert all(expected[query] for query in QUERIES)  # every query has hits

    stop, seen = threading.Event(), []

    def stream(base):
        while not stop.is_set():
            for query in QUERIES:
                seen.append((base, query, *search(base, query)))

    with ThreadPoolExecutor(4) as pool:
        for base in (node_a, node_a, node_b, node_b):
            pool.submit(stream, base)
        try:
            for step in range(2):
                manage(node_env("a"), "rebuild_index")
                manage(node_env("a"), "import_content", str(blog(tmp_path / f"blog-{step}", f"quokka{step}")))
                manage(node_env("b"), "rebuild_index")
        finally:
            stop.set()
    # Complete and correct: the same texts (imports elsewhere shift the statistics behind
    # scores, so the order of close ones may change).
    wrong = [
        (base, query, status, hits)
        for base, query, status, hits in seen
        if status != 200 or set(hits) != set(expected[query])
    ]
    assert len(seen) > 100 and wrong == []
    for node in (node_a, node_b):
        wait_for(lambda node=node: len(search(node, "quokka1")[1] or []) == 30, 10, "the last import everywhere")


def vote(base, token, address):
    """A vote from a new visitor (no visitor cookie) behind the trusted proxy: the status."""
    data = urllib.parse.urlencode({"helpful": "yes", "next": "/en/", "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(
        f"{base}/en/wizard/vm-troubleshooting/result/result-agent-stopped/feedback/",
        data=data,
        headers={"Cookie": f"csrftoken={token}", "X-Forwarded-For": address},
    )
    opener = urllib.request.build_opener(NoRedirect)
    try:
        return opener.open(request, timeout=20).status
    except urllib.error.HTTPError as error:
        return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def csrf_token(base):
    url = f"{base}/en/wizard/vm-troubleshooting/result/result-agent-stopped/feedback/"  # the vote form
    with urllib.request.urlopen(url, timeout=20) as page:
        cookie = page.headers.get("Set-Cookie", "")
        body = page.read().decode()
    form = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    return form.group(1) if form else re.search(r"csrftoken=([^;]+)", cookie).group(1)


def feedback_count(env):
    out = manage(
        env, "shell", "--no-imports", "-c", "from wizard.models import Feedback; print(Feedback.objects.count())"
    )
    return int(out.stdout.strip())


def test_one_vote_limit_across_nodes_and_a_redis_that_goes_away(node_env, gunicorn, redis):
    manage(node_env("a"), "import_content", str(CONTENT))
    node_a, node_b = gunicorn(node_env("a")), gunicorn(node_env("b"))
    for node in (node_a, node_b):
        wait_for(lambda node=node: search(node, "0NC_-L9G")[0] == 200, what="the nodes' indexes")
    token = csrf_token(node_a)  # the same secret key: valid on both nodes
    statuses = Counter(vote(node, token, "203.0.113.7") for node in [node_a, node_b] * 15)
    assert statuses == Counter({302: 20, 429: 10})  # one limit for both nodes, keyed on the proxied client
    assert vote(node_b, token, "198.51.100.9") == 302  # another client has its own
    assert feedback_count(node_env("a")) == 21

    redis.stop()
    assert search(node_a, "0NC_-L9G")[0] == 200 and search(node_b, "0NC_-L9G")[0] == 200
    # Votes are still taken and stored; the limit is now counted by each process alone.
    assert Counter(vote(node, token, "203.0.113.7") for node in [node_a, node_b] * 3) == Counter({302: 6})
    assert feedback_count(node_env("a")) == 27


def test_two_imports_at_once_both_land_and_nothing_is_lost(node_env, tmp_path):
    first, second = blog(tmp_path / "first", "alpha", 40), blog(tmp_path / "second", "beta", 40)
    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(lambda root: manage(node_env("a"), "import_content", str(root), check=False), (first, second))
        )
    for result in results:
        refused_clearly = result.returncode != 0 and "is another import running?" in result.stderr
        assert result.returncode == 0 or refused_clearly, result.stderr
    for result, root in zip(results, (first, second), strict=True):
        if result.returncode != 0:  # refused: running it again completes it
            manage(node_env("a"), "import_content", str(root))
    check = manage(
        node_env("a"), "shell", "--no-imports", "-c", "from kb.models import Revision; print(Revision.objects.count())"
    )
    assert check.stdout.strip() == "80"
