"""Several processes, one database: real `manage.py` and gunicorn processes, each node with
its own search index, against a database of their own (a SQLite file, or a fresh PostgreSQL
database when the suite runs on PostgreSQL)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from tests.conftest import CONTENT, REPO

pytestmark = pytest.mark.system


@pytest.fixture
def database_url(tmp_path):
    current = os.environ.get("DATABASE_URL", "")
    if not current.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        return
    import psycopg

    name = f"kb_nodes_{uuid.uuid4().hex[:8]}"
    admin = urlunsplit(urlsplit(current)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(urlsplit(current)._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def node_env(database_url, tmp_path):
    def env(node):
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "system-test-secret",
            "DATABASE_URL": database_url,
            "KB_INDEX_DIR": str(tmp_path / f"index-{node}"),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "KB_VAR_DIR": str(tmp_path / "var"),
        }

    manage(env("a"), "migrate", "--noinput", "-v0")
    return env


def manage(env, *args, check=True):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=check,
    )


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def gunicorn():
    processes = []

    def start(env):
        port = free_port()
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                return base
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def hits(base, query):
    return get_json(f"{base}/api/search?q={quote(query)}&lang=all")["total"]


def test_an_import_through_one_node_is_searchable_on_the_other(node_env, gunicorn, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    manage(node_env("a"), "import_content", str(content))
    node_a, node_b = gunicorn(node_env("a")), gunicorn(node_env("b"))
    assert hits(node_b, "0NC_-L9G") == 2  # node b built its own index from the database

    english = content / "articles" / "vmagent-notready" / "en.md"
    english.write_text(english.read_text(encoding="utf-8") + "\nZanzibarquokka diagnostics.\n", encoding="utf-8")
    manage(node_env("a"), "import_content", str(content))
    assert hits(node_a, "Zanzibarquokka") == 1
    deadline = time.monotonic() + 10
    while hits(node_b, "Zanzibarquokka") != 1:
        assert time.monotonic() < deadline, "node b never caught up"
        time.sleep(0.5)


def test_two_imports_at_once_both_land_and_nothing_is_lost(node_env, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for root, word in ((first, "alpha"), (second, "beta")):
        for n in range(40):
            path = root / f"{word}-{n}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"---\ntitle: {word} {n}\n---\n{word} の本文 {n} です。\n", encoding="utf-8")
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
