import re

from playwright.sync_api import expect

from tests.conftest import run
from tests.e2e.conftest import shot


def test_read_in_japanese_switch_to_english_open_history_and_a_diff(site, page):
    page.goto(f"{site.url}/ja/articles/vmagent-notready/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("h1")).to_have_text("「仮想マシンエージェントの状態が準備できていません」について")
    expect(page.locator(".prose table")).to_be_visible()
    shot(page, "article-ja")

    page.get_by_role("link", name="English").first.click()
    expect(page).to_have_url(f"{site.url}/en/articles/vmagent-notready/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text('About the "Virtual machine agent status is not ready" message')

    # An editor fixes the English text: a second revision appears.
    english = site.content / "articles" / "vmagent-notready" / "en.md"
    english.write_text(
        english.read_text(encoding="utf-8").replace("is not ready", "is still not ready", 1), encoding="utf-8"
    )
    assert run(site.content).ok

    page.reload()
    page.get_by_role("link", name="History").click()
    expect(page).to_have_url(re.compile(r"/en/articles/vmagent-notready/en/history/$"))
    expect(page.locator("table.history tbody tr")).to_have_count(2)
    shot(page, "history-en")
    page.get_by_role("button", name="Compare revisions").click()
    expect(page.locator("table.diff ins").first).to_have_text("still ")
    expect(page.locator(".diff-summary")).to_contain_text("r1 → r2")
    shot(page, "diff-en")


def test_flags_on_both_languages_and_the_editor_worklist(site, page, django_user_model, client):
    page.goto(f"{site.url}/en/articles/vm-stuck-in-updating-when-nsg-rule-restricts-outbound-internet-connectivity/")
    flags = page.locator(".flags li")
    expect(flags).to_have_count(5)
    expect(page.locator(".flags")).to_contain_text("Archived by its authors")
    expect(page.locator(".flags")).to_contain_text("retired since 29 Feb 2024")
    page.get_by_role("link", name="日本語").first.click()
    expect(page.locator(".flags")).to_contain_text("AzureRM は 2024 年 2 月 29 日に廃止されました")
    shot(page, "article-flags-ja")

    django_user_model.objects.create_user("editor", password="kb-editor-pw", is_staff=True)
    page.goto(f"{site.url}/admin/login/?next=/en/editor/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", "kb-editor-pw")
    page.click("input[type=submit]")
    expect(page).to_have_url(f"{site.url}/en/editor/")
    expect(page.locator("table.editor")).to_contain_text("azurerm-powershell")
    expect(page.locator(".coverage")).to_contain_text("5 of 5 articles current")
    shot(page, "editor-en")


def test_search_as_you_type_in_japanese_then_open_a_result(site, page):
    page.goto(f"{site.url}/ja/")
    page.evaluate("window.notReloaded = true")
    page.locator("#site-search").press_sequentially("更新中", delay=50)
    result = page.locator("#search-results .result").first
    expect(result).to_be_visible()
    expect(result).to_contain_text("更新中")
    # The home page is still what is shown: its address and title stay.
    expect(page).to_have_url(f"{site.url}/ja/")
    assert "検索" not in page.title()
    expect(page.locator("#search-status")).to_have_text(re.compile(r"^\d+ 件"))
    # The language switch carries the query to the other language.
    expect(page.locator("#lang-switch a[hreflang=en]")).to_have_attribute(
        "href", "/en/search/?q=%E6%9B%B4%E6%96%B0%E4%B8%AD"
    )
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the results in place
    expect(page.locator("#search-results mark").first).to_be_visible()
    shot(page, "search-ja")
    result.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text("更新中")


def test_search_works_without_javascript(site, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site.url}/en/search/?q=VMExtensionProvisioningError")
    expect(page.locator(".result")).to_have_count(1)  # one article: its English text, not both
    page.fill("#search-q", "168.63.129.16")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".result mark").first).to_have_text("168.63.129.16")
    context.close()


def test_the_phone_layout_keeps_code_inside_the_screen(site, phone):
    phone.goto(f"{site.url}/ja/articles/windows-vm-extensions/")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    shot(phone, "article-phone-ja")
