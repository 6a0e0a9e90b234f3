"""/readyz in each fault state, with the real parts: an index folder with no index, an index
whose catch-up cannot run (another process holds the folder's lock), a database that does not
answer, a Redis that is stopped. /healthz answers in all of them."""

import datetime as dt
import shutil

import pytest
from django.utils import timezone
from filelock import FileLock

from kb import search
from kb.models import ImportRun
from kb.search import index as search_index
from tests.conftest import make_article
from tests.system.conftest import RedisServer, free_port

pytestmark = pytest.mark.django_db(transaction=True)  # the background rebuild has its own connection


def readyz(client):
    response = client.get("/readyz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()["problems"]


@pytest.fixture
def built(isolated_index):
    make_article("agent", title="エージェント", body="VM エージェントが応答しない")
    ImportRun.objects.create(changed_slugs=["agent"])
    search.rebuild()
    search.catch_up(force=True, wait=True)
    return isolated_index


def test_ready_when_everything_answers(client, built):
    assert readyz(client) == (200, {})
    assert client.get("/healthz").status_code == 200


def test_index_missing_then_rebuilt(client, built):
    search.forget_searchers()
    shutil.rmtree(built)
    status, problems = readyz(client)
    assert status == 503 and "missing" in problems["index"]
    assert client.get("/healthz").status_code == 200
    for _ in range(5):  # a load balancer polls: the rebuild readyz started brings the node back
        search_index.wait_for_rebuild(timeout=120)  # (or one another test left running, then ours)
        if readyz(client)[0] == 200:
            break
    assert readyz(client) == (200, {})


def test_catch_up_lagging_beyond_the_allowed_lag(client, built, settings):
    settings.KB_READY_MAX_LAG_SECONDS = 60
    make_article("fresh", title="新しい記事", body="新しい本文")
    run = ImportRun.objects.create(changed_slugs=["fresh"])
    ImportRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - dt.timedelta(minutes=5))
    other_process = FileLock(str(search_index.lock_for(built).lock_file))  # its own file handle
    with other_process.acquire(timeout=0):
        status, problems = readyz(client)
        assert status == 503
        assert (
            f"applied import run {run.pk - 1} of {run.pk}" in problems["index"] and "allowed 60 s" in problems["index"]
        )
    assert readyz(client) == (200, {})  # the lock is free: readyz made it catch up


def test_catch_up_lagging_within_the_allowed_lag_is_ready(client, built, settings):
    settings.KB_READY_MAX_LAG_SECONDS = 600
    make_article("fresh", title="新しい記事", body="新しい本文")
    ImportRun.objects.create(changed_slugs=["fresh"])
    with FileLock(str(search_index.lock_for(built).lock_file)).acquire(timeout=0):
        assert readyz(client) == (200, {})


def test_database_away(client, built, database_away):
    status, problems = readyz(client)
    assert status == 503 and problems == {"database": "does not answer (OperationalError)"}
    assert client.get("/healthz").status_code == 200


def redis_settings(settings, url):
    settings.REDIS_URL = url
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        },
    }


def test_redis_away(client, built, settings, tmp_path):
    redis = RedisServer(tmp_path)
    try:
        redis_settings(settings, redis.url)
        assert readyz(client) == (200, {})
    finally:
        redis.stop()
    status, problems = readyz(client)
    assert status == 503 and problems == {"redis": "does not answer (ConnectionError)"}


def test_redis_never_there(client, built, settings):
    redis_settings(settings, f"redis://127.0.0.1:{free_port()}/0")
    status, problems = readyz(client)
    assert status == 503 and set(problems) == {"redis"}


def test_redis_away_can_be_named_without_taking_the_node_out(client, built, settings):
    settings.KB_READY_NEEDS_REDIS = False
    redis_settings(settings, f"redis://127.0.0.1:{free_port()}/0")
    response = client.get("/readyz")
    assert response.status_code == 200 and set(response.json()["problems"]) == {"redis"}
    assert response.json()["ready"] is True
