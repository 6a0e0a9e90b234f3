import re

from playwright.sync_api import expect

from tests.e2e.conftest import shot


def answer(page, answer_id):
    page.locator(f'a.answer[data-answer="{answer_id}"]').click()


def expect_question(page, node_id):
    expect(page.locator(f'.wizard-step[data-node="{node_id}"]')).to_be_visible()


def expect_result(page, node_id):
    expect(page.locator(f'.wizard-result[data-node="{node_id}"]')).to_be_visible()


def test_agent_not_ready_ssh_works_agent_stopped_then_reopen_the_permalink(site, page, browser):
    page.goto(f"{site.url}/en/wizard/vm-troubleshooting/")
    page.evaluate("window.notReloaded = true")
    answer(page, "agent-not-ready")
    expect_question(page, "agent-can-connect")
    answer(page, "can-connect")
    expect_question(page, "agent-service")
    expect(page.locator(".answers-so-far li")).to_have_count(2)
    answer(page, "stopped")
    expect_result(page, "result-agent-stopped")
    assert page.evaluate("window.notReloaded") is True  # every step was swapped in place
    expect(page).to_have_url(
        re.compile(
            r"/en/wizard/vm-troubleshooting/result/result-agent-stopped/\?a=agent-not-ready%2Ccan-connect%2Cstopped&r=1"
        )
    )
    expect(page.locator(".sources a").first).to_have_attribute(
        "href", "/en/articles/vmagent-notready/#scenario-1-the-virtual-machine-agent-is-stopped"
    )
    summary = page.locator("#ticket-text").input_value()
    assert summary.startswith("Troubleshooting result: The VM agent is stopped")

    page.go_back()
    expect_question(page, "agent-service")
    page.go_forward()
    expect_result(page, "result-agent-stopped")

    permalink = page.locator("#permalink").input_value()
    other = browser.new_context().new_page()
    other.goto(permalink)
    expect(other.locator('.wizard-result[data-node="result-agent-stopped"]')).to_be_visible()
    expect(other.locator(".answers-so-far li")).to_have_count(3)
    other.context.close()


def test_in_japanese_cannot_ssh_and_the_serial_log_shows_a_login_prompt(site, page, phone):
    page.goto(f"{site.url}/ja/wizard/vm-troubleshooting/")
    answer(page, "cannot-connect")
    expect(page.locator("h1.question")).to_contain_text("ログイン プロンプト")
    answer(page, "login-prompt")
    expect_result(page, "result-nic-disabled")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator(".sources")).to_contain_text("仮想マシンエージェントの状態が準備できていません")
    shot(page, "wizard-result-ja")
    phone.goto(page.url)
    shot(phone, "wizard-result-phone-ja")


def test_provisioning_failed_with_a_dns_server_that_does_not_exist(site, page):
    page.goto(f"{site.url}/en/wizard/vm-troubleshooting/")
    answer(page, "provisioning-failed")
    answer(page, "marketplace")
    expect_question(page, "prov-dns")
    answer(page, "custom-missing")
    expect_result(page, "result-dns-server-missing")
    expect(page.locator(".wizard-result")).to_contain_text("DNS")


def test_pasting_an_error_for_a_vm_stuck_updating_behind_an_nsg(site, page):
    page.goto(f"{site.url}/en/wizard/")
    page.fill(
        "#paste-text", "Long running operation failed with status 'Failed'. ErrorCode: VMExtensionProvisioningError"
    )
    page.get_by_role("button", name="Find the step").click()
    expect_question(page, "updating-nsg")
    answer(page, "nsg-restricts")
    expect_result(page, "result-nsg-blocks-outbound")
    expect(page.locator(".remediation")).to_contain_text("168.63.129.16")
    expect(page.locator(".sources .flag-marker").first).to_be_visible()  # the 2016 article is flagged


def test_windows_vm_start_failed_on_the_afternoon_of_2021_10_13(site, page):
    page.goto(f"{site.url}/en/wizard/vm-troubleshooting/")
    answer(page, "management-ops")
    answer(page, "windows")
    expect(page.locator("form.when-form")).to_be_visible()
    page.fill("input[name=date]", "2021-10-13")
    page.fill("input[name=time]", "16:00")
    page.select_option("select[name=tz]", "jst")
    page.get_by_role("button", name="Continue").click()
    expect_result(page, "result-rca-20211013")
    expect(page.locator(".rcas a")).to_have_attribute("href", "/en/articles/20211013-rca-azure-vm/")
    expect(page.locator(".notice-incident")).to_be_visible()


def test_copy_for_ticket_puts_the_summary_on_the_clipboard(site, browser):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(
        f"{site.url}/en/wizard/vm-troubleshooting/result/result-agent-stopped/?a=agent-not-ready,can-connect,stopped&r=1"
    )
    page.get_by_role("button", name="Copy for ticket").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == page.locator("#ticket-text").input_value()
    context.close()


def test_the_tree_diagram(site, page, django_user_model):
    django_user_model.objects.create_user("editor", password="kb-editor-pw", is_staff=True)
    page.goto(f"{site.url}/admin/login/?next=/ja/wizard/vm-troubleshooting/diagram/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", "kb-editor-pw")
    page.click("input[type=submit]")
    expect(page.locator("#node-symptom")).to_be_visible()
    expect(page.locator(".node-result").first).to_be_visible()
    shot(page, "wizard-diagram-ja")
