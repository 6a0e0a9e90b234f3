"""Real processes for the system tests: `manage.py` commands and gunicorn nodes against a
database of their own (a SQLite file, or a fresh PostgreSQL database when the suite runs on
PostgreSQL) and a Redis of their own (a throw-away redis-server the fixture starts)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import REPO


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


class RedisServer:
    def __init__(self, folder: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=folder,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def node_env(database_url, redis, tmp_path):
    """The environment of a node: its own search index, the shared database and Redis, one
    trusted proxy in front (X-Forwarded-For)."""

    def env(node):
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "system-test-secret",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis.url,
            "KB_TRUSTED_PROXIES": "1",
            "KB_INDEX_DIR": str(tmp_path / f"index-{node}"),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "KB_VAR_DIR": str(tmp_path / "var"),
            # The query streams send thousands of searches a minute from one address.
            "KB_RATE_SEARCH": "0",
            "KB_RATE_API": "0",
        }

    manage(env("a"), "migrate", "--noinput", "-v0")
    manage(env("a"), "collectstatic", "--noinput", "-v0")  # DEBUG off: pages need the manifest
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


@pytest.fixture
def gunicorn(tmp_path):
    processes = []

    def start(env, workers=1):
        port = free_port()
        # Requests name the port; production settings take only the ports they are told of.
        env = {**env, "DJANGO_ALLOWED_HOSTS": f"{env['DJANGO_ALLOWED_HOSTS']},127.0.0.1:{port}"}
        log = open(tmp_path / f"gunicorn-{port}.log", "w")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append((process, log))
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                return base
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    yield start
    for process, log in processes:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def get_json(url, data=None, headers=None):
    """(status, JSON body) of a GET, or a POST when ``data`` is given."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, None


def wait_for(check, seconds=60, what="the condition"):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)
