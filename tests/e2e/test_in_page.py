"""What changes in place behaves like a page: after a wizard step focus is on the new
question, on screen and announced; live search keeps the title, the history and the language
switch in step with the query shown. And what web search reads: sitemap.xml, canonical links."""

import re
import xml.etree.ElementTree as ET
from urllib.parse import quote

from playwright.sync_api import expect

from tests.e2e.conftest import shot

TREE = "vm-troubleshooting"
FOCUSED_TEXT = "document.activeElement && document.activeElement.textContent.trim()"


def heading_on_screen(page, selector):
    box = page.locator(selector).bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_after_a_step_on_a_phone_the_new_question_has_focus_is_on_screen_and_is_announced(site, phone):
    phone.goto(f"{site.url}/en/wizard/{TREE}/")
    full_load_title = phone.title()
    phone.evaluate("window.notReloaded = true")
    phone.locator('.wizard-step a.answer[data-answer="updating"]').tap()
    step = phone.locator('.wizard-step[data-node="updating-nsg"]')
    expect(step).to_be_visible()
    assert phone.evaluate("window.notReloaded") is True
    heading = step.locator("h1")
    expect(heading).to_be_focused()
    expect(phone.locator("#announcer")).to_contain_text(heading.inner_text())
    assert heading_on_screen(phone, '.wizard-step[data-node="updating-nsg"] h1')
    # "How to check" is folded on a phone, so the first answer is on the first screen.
    help_box = step.locator("details.help")
    if help_box.count():
        expect(help_box).not_to_have_attribute("open", "")
    first_answer = step.locator("a.answer").first
    assert first_answer.bounding_box()["y"] + first_answer.bounding_box()["height"] <= 844
    shot(phone, "wizard-step-phone-en")

    # The next Tab goes on from the question (not back to the top of the document).
    phone.keyboard.press("Tab")
    focused = phone.evaluate("document.activeElement.closest('.wizard-step') !== null")
    assert focused, phone.evaluate("document.activeElement.outerHTML")

    # The title swapped in is the one a full load of the same address has.
    in_page_title = phone.title()
    assert in_page_title != full_load_title
    phone.reload()
    expect(phone.locator('.wizard-step[data-node="updating-nsg"]')).to_be_visible()
    assert phone.title() == in_page_title


def test_the_result_after_a_step_has_the_full_load_title_and_focus(site, page):
    page.goto(
        f"{site.url}/ja/wizard/{TREE}/?a=symptom.agent-not-ready,agent-can-connect.can-connect,updating-nsg.unknown"
    )
    page.locator('.wizard-step a.answer[data-answer="stopped"]').click()
    result = page.locator('.wizard-result[data-node="result-agent-stopped"]')
    expect(result).to_be_visible()
    expect(result.locator("h1")).to_be_focused()
    in_page_title = page.title()
    page.reload()
    expect(result).to_be_visible()
    assert page.title() == in_page_title


def type_query(page, text):
    box = page.locator("#search-q")
    box.fill("")
    box.press_sequentially(text, delay=40)


def test_live_search_title_history_and_language_switch_follow_the_query(site, page):
    page.goto(f"{site.url}/en/")
    page.goto(f"{site.url}/en/search/")
    entries = page.evaluate("history.length")
    # Three pauses while typing: each shows its results, but Back must leave the search.
    type_query(page, "agent")
    expect(page.locator("#search-status")).to_have_text(re.compile(r"^\d+ results?$"))
    expect(page).to_have_url(re.compile(r"q=agent&"))
    page.locator("#search-q").press_sequentially(" status", delay=40)
    expect(page).to_have_url(re.compile(r"q=agent(\+|%20)status&"))
    page.locator("#search-q").press_sequentially(" VMExtensionProvisioningError", delay=40)
    expect(page).to_have_url(re.compile(r"q=agent(\+|%20)status(\+|%20)VMExtensionProvisioningError&"))
    expect(page).to_have_title(re.compile(r"^agent status VMExtensionProvisioningError · Search · "))
    assert page.evaluate("history.length") == entries + 1
    page.locator("#search-q").blur()  # a change event asks again for the same results
    page.wait_for_timeout(500)
    assert page.evaluate("history.length") == entries + 1
    switch = page.locator("#lang-switch a[hreflang=ja]")
    expect(switch).to_have_attribute(
        "href", re.compile(r"^/ja/search/\?q=agent(\+|%20)status(\+|%20)VMExtensionProvisioningError&")
    )
    # Only the count is a live region; the list is not.
    assert page.locator("#search-results[aria-live]").count() == 0
    assert page.locator("#search-status").get_attribute("role") == "status"

    page.go_back()
    expect(page).to_have_url(f"{site.url}/en/search/")
    page.go_back()
    expect(page).to_have_url(f"{site.url}/en/")

    page.go_forward()
    page.go_forward()
    expect(page).to_have_url(re.compile(r"q=agent(\+|%20)status(\+|%20)VMExtensionProvisioningError&"))
    page.locator("#lang-switch a[hreflang=ja]").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("#search-q")).to_have_value("agent status VMExtensionProvisioningError")


def test_a_word_bridged_from_japanese_is_tagged_japanese_on_an_english_page(site, page):
    page.goto(f"{site.url}/en/search/?q={quote('プロビジョニング')}")
    bridge = page.locator(".bridge").first
    expect(bridge).to_be_visible()
    expect(bridge.locator("span").first).to_have_attribute("lang", "ja")
    expect(bridge.locator("span").first).to_have_text("プロビジョニング")


def test_the_sitemap_lists_each_text_with_its_translations_and_pages_name_their_canonical(site, page):
    response = page.request.get(f"{site.url}/sitemap.xml")
    assert response.ok and "xml" in response.headers["content-type"]
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    urls = {
        url.findtext("s:loc", namespaces=ns): {
            link.get("hreflang"): link.get("href") for link in url.findall("x:link", ns)
        }
        for url in ET.fromstring(response.body()).findall("s:url", ns)
    }
    ja = f"{site.url}/ja/articles/vmagent-notready/"
    en = f"{site.url}/en/articles/vmagent-notready/"
    assert urls[ja] == urls[en] == {"ja": ja, "en": en}

    page.goto(en)
    expect(page.locator('link[rel="canonical"]')).to_have_attribute("href", en)
    expect(page.locator('link[rel="alternate"][hreflang="ja"]')).to_have_attribute("href", ja)
    description = page.locator('meta[name="description"]').get_attribute("content")
    text = " ".join(page.locator(".prose").inner_text().split())
    assert text.startswith(description.removesuffix("…"))  # the article's own first words


PHONE_SEARCHES = [
    "/ja/search/?q=" + quote("拡張機能"),
    "/en/search/?q=averyveryverylongwordthatnothingholdsanywhereatallinthisknowledgebase",
    "/ja/search/?q=" + quote("どこにも書かれていないとても長い言葉" * 4),
    "/en/search/?q=%2Fvar%2Flog%2Fazure%2FMicrosoft.Azure.Diagnostics.LinuxDiagnostic%2Fextension.log.unknown",
    "/en/search/?q=provisoning",
    "/en/search/?q=",
    "/ja/search/",
]


def test_on_a_phone_search_pages_fit_the_width_and_the_first_result_is_on_the_first_screen(site, phone):
    for path in PHONE_SEARCHES:
        phone.goto(site.url + path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    phone.goto(f"{site.url}/ja/search/?q={quote('拡張機能')}")
    filters = phone.locator("details.filters")
    expect(filters).not_to_have_attribute("open", "")  # folded on a phone
    first = phone.locator(".result").first
    assert first.bounding_box()["y"] < 844
    shot(phone, "search-phone-ja")
    filters.locator("summary").tap()
    expect(filters.locator("select[name=kind]")).to_be_visible()
    # A filter that is set stays in sight.
    phone.goto(f"{site.url}/ja/search/?q={quote('拡張機能')}&kind=guide")
    expect(phone.locator("details.filters")).to_have_attribute("open", "")


def test_emptying_the_box_shows_the_hint_and_the_title_of_an_empty_search(site, page):
    page.goto(f"{site.url}/en/search/?q=agent")
    expect(page.locator(".result").first).to_be_visible()
    page.locator("#search-q").fill("")
    hint = page.locator("#search-results .search-hint")
    expect(hint).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Search · "))
    expect(page.locator("#search-status")).to_have_text("")
    hint.get_by_role("link", name="VMExtensionProvisioningError").click()
    expect(page.locator(".result")).to_have_count(1)


def test_back_and_forward_bring_back_each_query_with_its_results(site, page):
    # A blind tester went back to older results under an empty box.
    page.goto(f"{site.url}/en/search/")
    type_query(page, "extension")
    expect(page).to_have_url(re.compile(r"q=extension&"))
    page.locator("#search-q").blur()
    type_query(page, "agent")
    expect(page).to_have_url(re.compile(r"q=agent&"))
    first_agent_hit = page.locator(".result-title").first.inner_text()
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=extension&"))
    expect(page.locator("#search-q")).to_have_value("extension")
    page.go_forward()
    expect(page).to_have_url(re.compile(r"q=agent&"))
    expect(page.locator("#search-q")).to_have_value("agent")
    expect(page.locator(".result-title").first).to_have_text(first_agent_hit)


def test_live_search_on_the_home_page_keeps_its_address_title_and_history(site, page):
    page.goto(f"{site.url}/en/")
    title, entries = page.title(), page.evaluate("history.length")
    box = page.locator("#site-search")
    box.press_sequentially("agent", delay=40)
    expect(page.locator("#search-results .result").first).to_be_visible()
    box.press_sequentially(" status", delay=40)
    expect(page.locator("#search-status")).to_have_text(re.compile(r"^\d+ results?$"))
    page.wait_for_timeout(500)
    expect(page).to_have_url(f"{site.url}/en/")
    assert page.title() == title
    assert page.evaluate("history.length") == entries
    # The language switch still carries what is shown.
    expect(page.locator("#lang-switch a[hreflang=ja]")).to_have_attribute(
        "href", re.compile(r"^/ja/search/\?q=agent(\+|%20)status$")
    )
