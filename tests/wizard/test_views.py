"""Wizard pages over HTTP, on a small tree of their own (tests/wizard/test_trees.py's): steps and
their htmx swaps, candidates, time, pasting, answers given up front, OS-aware links, sources,
the ticket summary, permalinks old and new, tampered links, feedback."""

import copy
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from kb import counters
from tests.wizard.conftest import tree_data
from wizard import tree_cache
from wizard.models import Feedback, ResultStat, TreeRevision

BASE = "/en/wizard/small/"


def follow(client, url, **headers):
    """(final URL, page) after redirects."""
    response = client.get(url, headers=headers)
    while response.status_code == 302:
        url = response["Location"]
        response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return url, response.content.decode()


def link(page, answer):
    found = re.search(rf'<a class="answer[^"]*" href="([^"]+)"[^>]*data-answer="{answer}"', page)
    return found.group(1).replace("&amp;", "&")


def walk(client, answers, lang="en"):
    """Click through the wizard answering from ``answers`` ("unknown" when not listed)."""
    url, page = follow(client, f"/{lang}/wizard/small/")
    for _ in range(20):
        node = re.search(r'class="wizard-step" data-node="([^"]+)"', page)
        if not node:
            return url, page
        url, page = follow(client, link(page, answers.get(node.group(1), "unknown")))
    raise AssertionError("the walk never ended")


def outcome_nodes(page):
    if 'data-outcome="result"' in page:
        return re.search(r'class="wizard-result" data-outcome="result" data-node="([^"]+)"', page).group(1)
    return sorted(re.findall(r'<li class="candidate" data-node="([^"]+)"', page))


@pytest.mark.usefixtures("wizard_site")
class TestSteps:
    def test_the_first_step_is_a_whole_page_with_every_answer_as_a_link(self, client):
        page = client.get(BASE).content.decode()
        assert page.startswith("<!doctype html>") and 'data-node="symptom"' in page
        assert link(page, "agent") == "/en/wizard/small/?a=symptom.agent"
        assert link(page, "unknown") == "/en/wizard/small/?a=symptom.unknown"

    def test_an_htmx_step_brings_its_title_and_language_switch_with_it(self, client):
        response = client.get("/en/wizard/small/?a=symptom.agent", headers={"HX-Request": "true"})
        body = response.content.decode()
        assert "<html" not in body and 'class="wizard-step" data-node="connect"' in body
        assert "<title>SSH/RDP? · " in body  # htmx sets the document's title from it
        oob = re.search(r'<span id="lang-switch" hx-swap-oob="true">(.*?)</span>', body, re.S).group(1)
        assert 'href="/ja/wizard/small/?a=symptom.agent"' in oob  # the switch keeps the answers
        assert "HX-Request" in response["Vary"]

    def test_i_dont_know_ends_on_candidates_each_with_the_check_that_settles_it(self, client):
        url, page = walk(client, {"symptom": "agent"})
        assert urlsplit(url).path == "/en/wizard/small/candidates/"
        assert outcome_nodes(page) == ["r-blocked", "r-hung", "r-nic", "r-stopped"]
        # each candidate's check is a question that would confirm or rule it out; answering it
        # keeps every answer given and changes the one that was not known
        check = re.search(r'data-check="connect".*?</ul>', page, re.S).group(0)
        assert link(check, "can").startswith("/en/wizard/small/?a=symptom.agent%2Cconnect.can")
        assert "you did not know" in page and "Most likely first" in page
        standings = re.findall(r'<span class="standing standing-(\w+)">', page)
        assert len(standings) == 4 and set(standings) <= {"likely", "possible", "unlikely"}
        # compact on a phone: each candidate is its heading and two folds, none open
        assert (
            page.count('<details class="candidate-why">') == 4 and page.count('<details class="candidate-detail">') == 4
        )
        assert " open>" not in page.replace('<details class="help" open>', "")

    def test_a_check_on_the_candidates_page_narrows_the_walk(self, client):
        _url, page = walk(client, {"symptom": "agent"})
        check = re.search(r'data-check="connect".*?</ul>', page, re.S).group(0)
        _url, page = follow(client, link(check, "cannot"))
        assert outcome_nodes(page) == ["r-hung", "r-nic"]  # the service no longer matters

    def test_the_visitor_may_see_the_candidates_before_the_end(self, client):
        _url, page = follow(client, "/en/wizard/small/?a=symptom.agent")
        assert "4 causes are still possible." in page
        stop = re.search(r'<a href="([^"]+end=1)"', page).group(1).replace("&amp;", "&")
        _url, page = follow(client, stop)
        assert outcome_nodes(page) == ["r-blocked", "r-hung", "r-nic", "r-stopped"]

    def test_a_result_page_never_states_as_fact_what_was_not_known(self, client):
        _url, page = walk(client, {"symptom": "agent", "connect": "unknown", "service": "unknown", "serial": "prompt"})
        first = re.search(r'<li class="candidate" data-node="([^"]+)"', page).group(1)
        assert first == "r-nic" and set(outcome_nodes(page)) == {"r-nic", "r-stopped", "r-blocked"}
        nic = page[
            page.index('data-node="r-nic"') : page.index(
                "</li>", page.index('class="cause"', page.index('data-node="r-nic"'))
            )
        ]
        assert "Not confirmed" in nic and "SSH/RDP? — “cannot” would point here" in nic and "you did not know" in nic
        assert "The cause, if so" in nic and "Likely cause" not in nic


@pytest.mark.usefixtures("wizard_site")
class TestResults:
    answers = {"symptom": "agent", "connect": "can", "service": "stopped"}

    def test_the_permalink_records_exactly_the_answers_and_the_tree_revision(self, client):
        url, page = walk(client, self.answers)
        path, query = urlsplit(url).path, parse_qs(urlsplit(url).query)
        assert path == "/en/wizard/small/result/r-stopped/"
        assert query["a"] == ["symptom.agent,connect.can,service.stopped"] and query["r"] == ["1"] and "at" in query
        assert f'value="http://testserver{url}"' in page.replace("&amp;", "&")

    def test_every_statement_shows_its_source(self, client):
        _url, page = walk(client, self.answers)
        cause = page[page.index('class="cause"') : page.index('class="remediation"')]
        assert 'Source:</span> <a href="/en/articles/a/#heading">Article A en › heading</a>' in cause

    def test_reaching_a_result_is_counted_without_a_write_per_view(self, client, django_assert_num_queries):
        url, _page = walk(client, self.answers)
        with django_assert_num_queries(0):  # from the page cache; the count goes to the shared cache
            assert client.get(url).status_code == 200
        assert not ResultStat.objects.exists()
        counters.flush()
        assert ResultStat.objects.get(node="r-stopped").reached == 2

    def test_the_page_is_the_same_for_every_visitor_and_the_vote_form_comes_apart(self, client):
        url, page = walk(client, self.answers)
        assert "csrfmiddlewaretoken" not in page
        fragment = re.search(r'hx-get="([^"]+/feedback/\?next=[^"]+)"', page).group(1).replace("&amp;", "&")
        form = client.get(fragment, headers={"HX-Request": "true"}).content.decode()
        assert "csrfmiddlewaretoken" in form and "0 found this helpful, 0 did not" in form and "<html" not in form
        assert unquote(parse_qs(urlsplit(fragment).query)["next"][0]) == unquote(url)

    def test_a_vote_then_shows_as_the_visitors_own(self, client):
        url, _page = walk(client, self.answers)
        response = client.post("/en/wizard/small/result/r-stopped/feedback/", {"helpful": "yes", "next": url})
        assert response.status_code == 302 and response["Location"] == url + "&voted=1"
        form = client.get(
            "/en/wizard/small/result/r-stopped/feedback/", headers={"HX-Request": "true"}
        ).content.decode()
        assert "1 found this helpful" in form and "your vote: yes" in form
        assert Feedback.objects.get().helpful is True


@pytest.mark.usefixtures("wizard_site")
class TestTime:
    def when(self, client, **fields):
        _url, page = follow(client, "/en/wizard/small/?a=symptom.ext,os-q.windows")
        assert 'data-node="when"' in page
        form = {"a": "symptom.ext,os-q.windows", "node": "when", **fields}
        response = client.get("/en/wizard/small/when/", form)
        assert response.status_code == 302
        return follow(client, response["Location"])

    def test_a_date_without_a_time_keeps_both_branches_and_says_so(self, client):
        url, page = self.when(client, date="2021-10-13", tz="jst")
        assert "when.2021-10-13_jst" in unquote(url) and "T12" not in unquote(url)  # no invented noon
        assert outcome_nodes(page) == ["r-rca", "r-timeout"]
        assert "Incident en affected operations on that day between 2021-10-13 15:27–21:42 JST" in page
        assert "2021-10-13 (time unknown, JST)" in page

    def test_an_exact_time_inside_the_window_leads_to_the_incident(self, client):
        url, page = self.when(client, date="2021-10-13", time="16:00", tz="jst")
        assert outcome_nodes(page) == "r-rca" and "when.2021-10-13T1600_jst" in unquote(url)

    def test_not_sure_of_the_zone_considers_both(self, client):
        _url, page = self.when(client, date="2021-10-13", time="16:00", tz="any")
        assert outcome_nodes(page) == ["r-rca", "r-timeout"]

    def test_no_date_is_asked_for_again_clearly(self, client):
        response = client.get("/en/wizard/small/when/", {"a": "symptom.ext,os-q.windows", "node": "when", "date": ""})
        assert response.status_code == 200 and "Enter the date" in response.content.decode()
        assert 'name="date" required' not in response.content.decode()


@pytest.mark.usefixtures("wizard_site")
class TestOsAndArticles:
    def test_links_for_the_other_os_are_left_out_once_the_os_is_known(self, client):
        _url, page = walk(client, {"symptom": "ext", "os-q": "linux", "iptables": "off"})
        assert outcome_nodes(page) == "r-timeout"
        assert "/en/articles/w/" not in page and "/en/articles/a/" in page

    def test_while_the_os_is_unknown_both_are_offered_and_labelled(self, client):
        _url, page = follow(client, "/en/wizard/small/?a=symptom.ext,os-q.unknown,when.2021-10-14_jst&end=1")
        assert '/en/articles/w/" lang="en">Windows only en</a> <span class="badge badge-os">for Windows</span>' in page


@pytest.mark.usefixtures("wizard_site")
class TestPaste:
    def test_the_page_shows_what_it_recognised_and_what_it_assumes(self, client):
        log = "2021-10-13 12:00:01 ERROR extension failed\nAgentTimeoutError: <script>x</script>\nmore"
        page = client.post("/en/wizard/paste/", {"text": log}).content.decode()
        assert "<mark>AgentTimeoutError</mark>" in page and "&lt;script&gt;" in page and "<script>x" not in page
        assert "symptom? → <strong>ext</strong>" in page and "OS? → <strong>windows</strong>" in page
        go = re.search(r'href="([^"]+)">That', page).group(1).replace("&amp;", "&")
        url, step = follow(client, go)
        assert 'data-node="when"' in step  # the assumed answers were taken; the time is asked next
        assert "AgentTimeoutError" in parse_qs(urlsplit(url).query)["p"][0]

    def test_every_recognised_text_is_marked_and_the_more_specific_one_decides(self, client):
        page = client.post("/en/wizard/paste/", {"text": "AgentTimeoutError ... TimeoutError"}).content.decode()
        assert page.count("<mark>") == 2  # both texts, where they are
        assert "<mark>AgentTimeoutError</mark> ... <mark>TimeoutError</mark>" in page
        assert "tells nothing apart → <strong>x</strong>" in page  # what TimeoutError alone sets, kept
        assert page.count('class="button continue"') == 1

    def test_nothing_recognised_says_so_and_searches_the_articles(self, client):
        page = client.post("/en/wizard/paste/", {"text": "Article A body"}).content.decode()
        assert "does not recognise an error message" in page and 'href="/en/articles/a/"' in page
        assert 'href="/en/wizard/small/"' in page

    def test_a_megabyte_paste_is_answered_with_an_excerpt(self, client):
        text = "noise " * 170_000 + "TimeoutError" + " tail" * 1000
        assert len(text.encode()) > 1_000_000
        response = client.post("/en/wizard/paste/", {"text": text})
        assert response.status_code == 200 and len(response.content) < 120_000
        assert "does not recognise" in response.content.decode()  # beyond the 200,000 characters looked at

    def test_the_excerpt_goes_into_the_ticket_summary(self, client):
        page = client.post("/en/wizard/paste/", {"text": "boom TimeoutError boom"}).content.decode()
        go = re.search(r'href="([^"]+)">That', page).group(1).replace("&amp;", "&")
        _url, result = follow(client, go.replace("?a=", "?a=os.windows,").replace("%2C", ",") + "&end=1")
        summary = re.search(r'<textarea id="ticket-text"[^>]*>(.*?)</textarea>', result, re.S).group(1)
        assert "Pasted text (excerpt):\nboom TimeoutError boom" in summary


@pytest.mark.usefixtures("wizard_site")
class TestKnownAnswers:
    def test_answers_given_up_front_are_skipped_and_the_link_is_a_walks(self, client):
        form = client.get("/en/wizard/small/known/").content.decode()
        assert 'name="q-service"' in form and 'name="os"' in form
        response = client.get(
            "/en/wizard/small/known/", {"filled": "1", "q-symptom": "agent", "q-service": "stopped", "q-serial": ""}
        )
        assert response["Location"] == "/en/wizard/small/?a=symptom.agent%2Cservice.stopped"
        url, page = follow(client, response["Location"])
        assert 'data-node="connect"' in page  # neither the symptom nor the service is asked again
        _url, page = follow(client, link(page, "can"))
        assert outcome_nodes(page) == "r-stopped"


@pytest.mark.usefixtures("wizard_site")
class TestSummary:
    def test_the_summary_marks_what_was_not_known_and_lists_the_candidates(self, client):
        _url, page = walk(client, {"symptom": "agent", "connect": "unknown"})
        summary = re.search(r'<textarea id="ticket-text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
        assert summary.startswith("Troubleshooting: 4 possible causes, not yet told apart")
        assert "- SSH/RDP? → I don&#x27;t know (the customer does not know)" in summary
        assert (
            "1. " in summary
            and "Cause if so: " in summary
            and "Permanent link: http://testserver/en/wizard/small/candidates/" in summary
        )
        assert "::" not in summary

    def test_in_japanese_too(self, client):
        _url, page = walk(client, {"symptom": "agent", "connect": "unknown"}, lang="ja")
        summary = re.search(r'<textarea id="ticket-text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
        assert summary.startswith("トラブルシューティング: 考えられる原因 4 件")
        assert "お客様も不明" in summary and "Permanent link" not in summary
        assert "http://testserver/ja/wizard/small/candidates/" in summary


@pytest.mark.usefixtures("wizard_site")
class TestLinks:
    @pytest.mark.parametrize(
        "url",
        [
            BASE + "?a=" + ",".join(f"q{n}.bogus" for n in range(40)),
            BASE + "?a=" + "x" * 3000,
            BASE + "?a=%00,<script>alert(1)</script>",
            BASE + "result/r-stopped/?a=symptom.agent,connect.can,bogus.x",
            BASE + "result/no-such-node/?a=symptom.agent",
            BASE + "candidates/?a=symptom.agent&end=1&r=abc&at=not-a-date",
            BASE + "when/?a=symptom.ext&node=when&date=2021-02-30",
            BASE + "when/?a=bogus&node=nowhere&date=2021-10-13",
        ],
    )
    def test_never_a_server_error_and_never_reflected_markup(self, client, url):
        _final, page = follow(client, url)
        assert "<script>alert(1)</script>" not in page
        assert 'class="wizard-step"' in page or 'class="wizard-result"' in page

    def test_a_result_link_its_answers_do_not_lead_to_says_it_is_damaged_and_offers_to_start_again(self, client):
        page = client.get(BASE + "result/r-stopped/?a=symptom.agent").content.decode()
        assert "This link is damaged or unknown: its answers do not lead to this result." in page
        assert "any more" not in page and '<a href="/en/wizard/small/">Start again</a>' in page
        page = client.get("/ja/wizard/small/result/r-stopped/?a=symptom.agent").content.decode()
        assert "このリンクは壊れているか、不明なリンクです。" in page

    def test_a_result_link_with_a_mangled_answer_says_so_rather_than_show_fewer_answers(self, client):
        # A separator damaged in transit (%2C → %2X) glues two answers into one no question
        # has; the rest still lead to the result, which must not look like the whole link.
        url = BASE + "result/r-stopped/?a=symptom.agent%2Cconnect.can%2Cservice.stopped%2Cos-q.windows%2Xiptables.on"
        page = client.get(url).content.decode()
        assert 'data-outcome="result"' in page
        assert "This link is damaged or unknown: some of its answers are not answers" in page

    def test_forty_invalid_answers_give_the_first_question_and_say_why(self, client):
        page = client.get(BASE + "?a=" + ",".join(f"q{n}.bogus" for n in range(40))).content.decode()
        assert 'data-node="symptom"' in page and "were left out" in page

    def test_an_old_positional_link_to_an_older_tree_shows_the_result_as_it_was(self, client, wizard_site):
        old = copy.deepcopy(tree_data())
        old["nodes"]["serial"]["answers"][2]["next"] = "r-hung"  # as trees were written then
        TreeRevision.objects.filter(slug="small").update(is_current=False, number=7)
        current = TreeRevision.objects.get(slug="small")
        TreeRevision.objects.create(
            slug="small", number=1, is_current=False, data=old, data_hash="old", source_path="x"
        )
        current.is_current, current.number = True, 8
        current.save()
        tree_cache._built.clear()
        page = client.get(BASE + "result/r-hung/?a=agent,cannot,unknown&r=1").content.decode()
        assert outcome_nodes(page) == "r-hung" and "This is the result as it was then" in page

    def test_an_unknown_tree_is_a_404_page(self, client):
        response = client.get("/en/wizard/no-such-tree/")
        assert response.status_code == 404 and "This page does not exist" in response.content.decode()
