"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server."""

import os
from pathlib import Path

import pytest

from tests.conftest import REPO

# Playwright's sync API runs an event loop in this thread; Django must allow its ORM here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SHOTS = REPO / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 500 or (response.status == 404 and "/static/" in response.url)
            else None
        ),
    )
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert not errors, errors


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    yield page
    context.close()


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a real rendering, not a blank page
    return path


@pytest.fixture
def site(live_server, transactional_db, tmp_path, settings):
    """The live server with the project's content imported (a copy, so tests may edit it)."""
    import shutil

    from kb import search
    from tests.conftest import CONTENT, run

    settings.KB_INDEX_DIR = tmp_path / "index"
    settings.KB_SITE_URL = live_server.url  # the address the permalinks and canonical links name
    search.forget_searchers()
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    assert run(root).ok
    live_server.content = root
    return live_server


AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
