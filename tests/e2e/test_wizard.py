"""The wizard in Chromium: walks from the customer stories, swapped in place by htmx, with the
title, the language switch and the history following each step."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import shot

TREE = "vm-troubleshooting"


def answer(page, answer_id):
    page.locator(f'.wizard-step a.answer[data-answer="{answer_id}"]').click()


def expect_question(page, node_id):
    expect(page.locator(f'.wizard-step[data-node="{node_id}"]')).to_be_visible()


def expect_result(page, node_id):
    expect(page.locator(f'.wizard-result[data-outcome="result"][data-node="{node_id}"]')).to_be_visible()


def answer_until_the_end(page, knows, after=None, limit=10):
    """Answer whatever the diagnosis asks from ``knows`` ("I don't know" otherwise) until an
    outcome shows; the number of questions answered. ``after``: the step just answered, whose
    swap may still be on its way."""
    node = after
    for asked in range(limit):
        if node is not None:
            expect(page.locator(f'.wizard-step[data-node="{node}"]')).to_have_count(0)
        expect(page.locator(".wizard-result, .wizard-step").first).to_be_visible()
        if page.locator(".wizard-result").count():
            return asked
        node = page.locator(".wizard-step").get_attribute("data-node")
        answer(page, knows.get(node, "unknown"))
    raise AssertionError("the walk never ended")


def test_linux_agent_stopped_walked_in_place_with_a_language_switch_mid_walk(site, page, browser):
    """en-linux-agent-stopped: the title follows each step, the language switch keeps the
    answers, Back and Forward work, and the permalink opens the same result elsewhere."""
    page.goto(f"{site.url}/en/wizard/{TREE}/")
    page.evaluate("window.notReloaded = true")
    answer(page, "agent-not-ready")
    expect_question(page, "agent-can-connect")
    expect(page).to_have_title(re.compile(r"^Can you connect"))
    switch = page.locator("#lang-switch a[hreflang=ja]")
    expect(switch).to_have_attribute("href", re.compile(r"/ja/wizard/vm-troubleshooting/\?a=symptom\.agent-not-ready"))
    answer(page, "can-connect")
    expect(page.locator(".wizard-step")).not_to_have_attribute("data-node", "agent-can-connect")
    asked_before_switch = page.locator(".wizard-step").get_attribute("data-node")
    assert page.evaluate("window.notReloaded") is True  # swapped in place, not reloaded

    switch.click()  # mid-walk, into Japanese: same step, same answers
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect_question(page, asked_before_switch)
    expect(page.locator(".answers-so-far li")).to_have_count(2)
    answered = 2 + answer_until_the_end(page, {"agent-service": "stopped", "vm-os": "linux"})
    expect_result(page, "result-agent-stopped")
    expect(page).to_have_title(re.compile("VM エージェント|仮想マシン エージェント|エージェント"))
    expect(page.locator("#lang-switch a[hreflang=en]")).to_have_attribute(
        "href", re.compile(r"/en/wizard/vm-troubleshooting/result/result-agent-stopped/\?a=")
    )
    expect(page.locator(".cause .source a").first).to_be_visible()  # every statement names its source

    page.go_back()
    expect(page.locator(".wizard-step")).to_be_visible()
    page.go_forward()
    expect_result(page, "result-agent-stopped")

    permalink = page.locator("#permalink").input_value()
    other = browser.new_context().new_page()
    other.goto(permalink)
    expect(other.locator('.wizard-result[data-node="result-agent-stopped"]')).to_be_visible()
    expect(other.locator(".answers-so-far li")).to_have_count(answered)
    other.context.close()


def test_in_japanese_the_customer_does_not_know_and_narrows_from_the_candidates(site, page, phone):
    """ja: cannot SSH/RDP, knows nothing else: the two causes that explain it, each with its
    standing, and the check that settles them."""
    page.goto(f"{site.url}/ja/wizard/{TREE}/")
    answer(page, "cannot-connect")
    answer_until_the_end(page, {}, after="symptom")
    candidates = page.locator("li.candidate")
    expect(candidates.first).to_be_visible()
    assert 2 <= candidates.count() <= 5
    expect(page).to_have_title(re.compile("考えられる原因"))
    expect(page.locator(".not-known").first).to_contain_text("わからない")
    expect(page.locator("li.candidate .standing").first).to_be_visible()
    shot(page, "wizard-candidates-ja")
    phone.goto(page.url)
    shot(phone, "wizard-candidates-phone-ja")
    changes = phone.locator(".answers-so-far a.change").all()
    assert changes
    for change in changes:  # a blind tester found 26 × 15 px
        box = change.bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, box
    nic = page.locator('li.candidate[data-node="result-nic-disabled"]')
    nic.locator("details.candidate-why > summary").click()  # each candidate is folded on this page
    nic.locator(".check a.answer").first.click()
    expect(page.locator(".wizard-result, .wizard-step").first).to_be_visible()
    shot(page, "wizard-result-ja")


def test_something_else_can_be_described_and_its_button_read_on_a_phone(site, phone):
    # The button of "something else" was white on white on a phone (a screenshot showed it).
    phone.goto(f"{site.url}/ja/wizard/{TREE}/")
    button = phone.locator("form.something-else button")
    expect(button).to_have_text("続行")
    colours = button.evaluate("b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]")
    assert colours[0] != colours[1], colours
    phone.locator("#something-else-text").fill("CPU が 100% のまま")
    button.click()
    expect(phone.locator(".not-covered")).to_be_visible()


def test_pasting_an_error_shows_what_was_recognised_then_goes_on(site, page):
    page.goto(f"{site.url}/en/wizard/")
    page.fill(
        "#paste-text", "Long running operation failed with status 'Failed'. ErrorCode: VMExtensionProvisioningError"
    )
    page.get_by_role("button", name="Find the step").click()
    expect(page.locator(".excerpt mark").first).to_have_text("VMExtensionProvisioningError")
    expect(page.locator(".assumed")).to_contain_text("VMExtensionProvisioningError")
    page.get_by_role("link", name=re.compile("continue from there")).click()
    answer_until_the_end(
        page, {"symptom": "updating", "updating-nsg": "nsg-restricts", "updating-new-vm": "existing-vm"}
    )
    expect_result(page, "result-nsg-blocks-outbound")
    summary = page.locator("#ticket-text").input_value()
    assert "VMExtensionProvisioningError" in summary  # the pasted excerpt goes into the ticket


def test_windows_management_operations_failing_on_the_night_of_2021_10_13(site, page):
    """A date and a part of the day (夜, 19-24), not a time: the incident is possible, not certain."""
    page.goto(f"{site.url}/en/wizard/{TREE}/")
    answer(page, "management-ops")
    node = "symptom"
    for _ in range(4):  # the diagnosis asks for the time early: anyone can tell it
        step = page.locator(f'.wizard-step:not([data-node="{node}"])')  # the step after the one answered
        expect(step).to_be_visible()
        if step.locator("form.when-form").count():
            break
        node = step.get_attribute("data-node")
        answer(page, {"vm-os": "windows"}.get(node, "unknown"))
    expect(page.locator("form.when-form")).to_be_visible()
    page.fill("input[name=date]", "2021-10-13")
    page.select_option("select[name=part]", "night")
    page.select_option("select[name=tz]", "jst")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".wizard-step")).to_be_visible()  # possible, not certain: it asks on
    page.get_by_role("link", name="Show them now").click()  # the customer has nothing more to tell
    rca = page.locator('li.candidate[data-node="result-rca-20211013"]')
    expect(rca).to_contain_text("affected operations on that day between 2021-10-13 15:27–21:42 JST")
    expect(page.locator("li.candidate").first).to_have_attribute("data-node", "result-rca-20211013")
    assert "2021-10-13~night_jst" in page.locator("#permalink").input_value()


def test_the_vote_form_is_loaded_apart_and_takes_a_vote(site, page):
    page.goto(
        f"{site.url}/en/wizard/{TREE}/result/result-agent-stopped/"
        "?a=symptom.agent-not-ready,agent-can-connect.can-connect,agent-service.stopped"
    )
    form = page.locator("form.feedback-form")
    expect(form).to_be_visible()  # loaded by htmx after the page
    form.get_by_role("button", name="Yes").click()
    expect(page.locator(".feedback .notice")).to_contain_text("Thank you")
    expect(page.locator("form.feedback-form .badge")).to_have_text("your vote: yes")


def test_copy_for_ticket_puts_the_summary_on_the_clipboard(site, browser):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{site.url}/en/wizard/{TREE}/candidates/?a=symptom.cannot-connect,serial-login-prompt.unknown&end=1")
    page.get_by_role("button", name="Copy for ticket").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#ticket-text").input_value() and "(the customer does not know)" in copied
    context.close()


def test_the_tree_diagram(site, page, django_user_model):
    django_user_model.objects.create_user("editor", password="kb-editor-pw", is_staff=True)
    page.goto(f"{site.url}/admin/login/?next=/ja/wizard/{TREE}/diagram/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", "kb-editor-pw")
    page.click("input[type=submit]")
    expect(page.locator("#node-symptom")).to_be_visible()
    expect(page.locator(".node-result").first).to_be_visible()
    shot(page, "wizard-diagram-ja")
