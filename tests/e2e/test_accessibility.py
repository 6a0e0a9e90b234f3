"""axe-core in Chromium on every kind of page, on a desktop and on a phone viewport, after a
full load and after htmx swapped part of the page.

axe.min.js is vendored under tests/e2e/vendor/axe-core/ (with its MPL-2.0 licence): the
test command then needs neither Node nor the network on a fresh machine, and the version is
the one in the file's header."""

import json

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import AXE, shot

TREE = "vm-troubleshooting"
NSG_ARTICLE = "vm-stuck-in-updating-when-nsg-rule-restricts-outbound-internet-connectivity"
PAGES = {
    "home": "/en/",
    "search": "/en/search/?q=provisioning",
    "search-ja": "/ja/search/?q=%E6%9B%B4%E6%96%B0%E4%B8%AD",
    "search-bridged": "/en/search/?q=%E3%83%97%E3%83%AD%E3%83%93%E3%82%B8%E3%83%A7%E3%83%8B%E3%83%B3%E3%82%B0",
    "search-none": "/en/search/?q=provisoning",
    "articles": "/ja/articles/",
    "article-flags": f"/ja/articles/{NSG_ARTICLE}/",
    "article-code": "/en/articles/vmagent-notready/",
    "wizard-start": "/ja/wizard/",
    "wizard-step": f"/ja/wizard/{TREE}/",
    "wizard-step-2": f"/en/wizard/{TREE}/?a=symptom.updating",
    "wizard-result": f"/ja/wizard/{TREE}/result/result-agent-stopped/"
    "?a=symptom.agent-not-ready,agent-can-connect.can-connect,agent-service.stopped",
    "wizard-candidates": f"/en/wizard/{TREE}/candidates/?a=symptom.cannot-connect,serial-login-prompt.unknown",
}
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def violations(page):
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in found]


@pytest.fixture(params=list(VIEWPORTS))
def audited(request, browser):
    """A page in a context that lets axe's script in past the site's Content-Security-Policy."""
    phone = request.param == "phone"
    context = browser.new_context(viewport=VIEWPORTS[request.param], is_mobile=phone, has_touch=phone, bypass_csp=True)
    page = context.new_page()
    page.viewport_name = request.param
    yield page
    context.close()


def test_no_axe_violations_on_any_page(site, audited):
    found = {}
    for name, path in PAGES.items():
        audited.goto(site.url + path)
        expect(audited.locator("main h1").first).to_be_visible()
        if audited.viewport_name == "phone":
            shot(audited, f"axe-{name}-phone")
        found[name] = violations(audited)
    assert not any(found.values()), json.dumps(found, ensure_ascii=False, indent=1)


def test_no_axe_violations_after_in_page_changes(site, audited):
    audited.goto(f"{site.url}/en/")
    audited.locator("#site-search").press_sequentially("provisioning", delay=30)
    expect(audited.locator("#search-results .result").first).to_be_visible()
    after_home_search = violations(audited)
    audited.goto(f"{site.url}/en/wizard/{TREE}/")
    audited.locator('.wizard-step a.answer[data-answer="updating"]').click()
    expect(audited.locator('.wizard-step[data-node="updating-nsg"]')).to_be_visible()
    after_step = violations(audited)
    assert not after_home_search and not after_step, json.dumps([after_home_search, after_step], indent=1)
