"""Wizard pages over HTTP: full page vs htmx partial, permalinks, tampered links, feedback."""

import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from tests.conftest import CONTENT
from wizard.models import Feedback, ResultStat

TREE = "/en/wizard/vm-troubleshooting/"
AGENT_STOPPED = ["agent-not-ready", "can-connect", "stopped"]


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()


def step_url(answers, lang="en"):
    return f"/{lang}/wizard/vm-troubleshooting/?a={','.join(answers)}"


def result_url(node, answers, lang="en", **extra):
    query = "&".join([f"a={','.join(answers)}"] + [f"{k}={v}" for k, v in extra.items()])
    return f"/{lang}/wizard/vm-troubleshooting/result/{node}/?{query}"


@pytest.mark.usefixtures("seeds")
class TestSteps:
    def test_the_first_step_is_a_whole_page_with_every_answer_as_a_link(self, client):
        page = client.get(TREE).content.decode()
        assert page.startswith("<!doctype html>") and "What symptom are you seeing?" in page
        for answer in ("updating", "provisioning-failed", "agent-not-ready", "cannot-connect", "unknown"):
            assert f'href="{step_url([answer])}"' in page

    def test_an_htmx_request_gets_only_the_step(self, client):
        response = client.get(step_url(["agent-not-ready"]), headers={"HX-Request": "true"})
        body = response.content.decode()
        assert "<html" not in body and 'class="wizard-step"' in body
        assert "Can you connect to (sign in to) the VM over SSH / RDP?" in body
        assert "HX-Request" in response["Vary"]

    def test_answers_so_far_can_be_changed(self, client):
        body = client.get(step_url(["agent-not-ready", "can-connect"])).content.decode()
        assert "Your answers so far" in body
        assert 'href="/en/wizard/vm-troubleshooting/?a=agent-not-ready"' in body  # change the second answer

    def test_the_last_answer_redirects_to_the_permanent_result_url(self, client):
        response = client.get(step_url(AGENT_STOPPED))
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.path == "/en/wizard/vm-troubleshooting/result/result-agent-stopped/"
        query = parse_qs(location.query)
        assert query["a"] == [",".join(AGENT_STOPPED)] and query["r"] == ["1"] and "at" in query

    def test_the_step_page_is_japanese_under_ja(self, client):
        body = client.get(step_url(["agent-not-ready"], lang="ja")).content.decode()
        assert '<html lang="ja">' in body and "仮想マシンに SSH / RDP で接続 (サインイン) できますか？" in body

    def test_when_question_takes_a_local_time(self, client):
        response = client.get(
            "/en/wizard/vm-troubleshooting/when/",
            {"a": "management-ops,windows", "date": "2021-10-13", "time": "16:00", "tz": "jst"},
        )
        assert response.status_code == 302
        follow = client.get(response["Location"])
        assert follow.status_code == 302 and "result/result-rca-20211013/" in follow["Location"]
        assert "2021-10-13T07%3A00Z" in follow["Location"] or "2021-10-13T07:00Z" in follow["Location"]


@pytest.mark.usefixtures("seeds")
class TestResults:
    def test_a_result_shows_remediation_articles_and_rca(self, client):
        page = client.get(
            result_url("result-rca-20211013", ["management-ops", "windows", "2021-10-13T07:00Z"])
        ).content.decode()
        assert "Related incident reports (RCA)" in page
        assert "/en/articles/20211013-rca-azure-vm/" in page
        assert "falls inside the impact window" in page

    def test_a_result_names_stale_articles_next_to_their_links(self, client):
        page = client.get(result_url("result-nsg-blocks-outbound", ["updating", "nsg-restricts"])).content.decode()
        link = re.search(r'href="(/en/articles/vm-stuck-in-updating[^"]+)"[^<]*>[^<]*</a>.{0,200}', page, re.S)
        assert link and "flag-marker" in link.group(0)

    def test_the_ticket_summary_is_plain_text_in_the_pages_language(self, client):
        page = client.get(result_url("result-agent-stopped", AGENT_STOPPED)).content.decode()
        summary = re.search(r'<textarea id="ticket-text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
        assert summary.startswith("Troubleshooting result: The VM agent is stopped")
        assert (
            "Remediation:" in summary
            and "Permanent link: http://testserver/en/wizard/vm-troubleshooting/result/result-agent-stopped/" in summary
        )
        assert (
            "http://testserver/en/articles/vmagent-notready/#scenario-1-the-virtual-machine-agent-is-stopped" in summary
        )
        ja = client.get(result_url("result-agent-stopped", AGENT_STOPPED, lang="ja")).content.decode()
        assert (
            "http://testserver/ja/articles/vmagent-notready/#"
            + quote("シナリオ1--仮想マシンエージェントが停止している")
            in ja
        )

    def test_reaching_a_result_is_counted(self, client):
        client.get(result_url("result-agent-stopped", AGENT_STOPPED))
        client.get(result_url("result-agent-stopped", AGENT_STOPPED))
        assert ResultStat.objects.get(node="result-agent-stopped").reached == 2


@pytest.mark.usefixtures("seeds")
class TestTamperedLinks:
    @pytest.mark.parametrize(
        "url",
        [
            result_url("result-agent-stopped", ["agent-not-ready", "can-connect", "bogus"]),
            result_url("result-agent-stopped", ["agent-not-ready"]),
            result_url("result-no-such-node", AGENT_STOPPED),
            result_url("result-agent-stopped", ["x" * 3000]),
            result_url("result-agent-stopped", AGENT_STOPPED, r="abc"),
            result_url("result-agent-stopped", AGENT_STOPPED, r="999", at="not-a-date"),
            step_url(["%00", "<script>alert(1)</script>"]),
            step_url(["unknown"] * 100),
            "/en/wizard/vm-troubleshooting/when/?a=management-ops,windows&date=2021-02-30",
            "/en/wizard/vm-troubleshooting/when/?a=bogus&date=2021-10-13",
        ],
    )
    def test_never_a_server_error_and_never_reflected_markup(self, client, url):
        response = client.get(url, follow=True)
        assert response.status_code == 200
        body = response.content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "wizard-step" in body or "wizard-result" in body

    def test_an_answer_that_does_not_belong_shows_the_nearest_valid_step(self, client):
        body = client.get(
            result_url("result-agent-stopped", ["agent-not-ready", "can-connect", "bogus"])
        ).content.decode()
        assert "is not an answer to this question" in body
        assert "Inside the guest OS, is the VM agent service" in body
        assert "Start again" in body

    def test_an_unknown_tree_is_a_404_page(self, client):
        response = client.get("/en/wizard/no-such-tree/")
        assert response.status_code == 404 and "This page does not exist" in response.content.decode()


@pytest.mark.usefixtures("seeds")
class TestPaste:
    def test_a_known_error_jumps_to_its_step(self, client):
        response = client.post(
            "/en/wizard/paste/", {"text": "ErrorCode: VMExtensionProvisioningError ErrorMessage: ..."}
        )
        assert response.status_code == 302 and response["Location"] == "/en/wizard/vm-troubleshooting/?a=updating"

    def test_an_unknown_message_offers_search(self, client):
        body = client.post("/en/wizard/paste/", {"text": "<b>weird</b> thing"}).content.decode()
        assert "does not recognise that message" in body and "/en/search/?q=" in body
        assert "<b>weird</b>" not in body

    def test_megabytes_of_binary_are_harmless(self, client):
        blob = bytes(range(256)).decode("latin-1") * 8000
        response = client.post("/en/wizard/paste/", {"text": blob + "Wireserver Exception"})
        assert response.status_code in (200, 302)

    def test_the_paste_needs_a_csrf_token(self, seeds):
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        assert strict.post("/en/wizard/paste/", {"text": "x"}).status_code == 403


@pytest.mark.usefixtures("seeds")
class TestFeedback:
    url = "/en/wizard/vm-troubleshooting/result/result-agent-stopped/feedback/"

    def test_one_vote_per_visitor_per_result_and_a_change_of_mind_replaces_it(self, client):
        client.post(self.url, {"helpful": "yes", "next": "/en/"})
        client.post(self.url, {"helpful": "no", "next": "/en/"})
        assert list(Feedback.objects.values_list("helpful", flat=True)) == [False]
        from django.test import Client

        Client().post(self.url, {"helpful": "yes", "next": "/en/"})
        assert Feedback.objects.count() == 2

    def test_votes_need_a_csrf_token(self):
        from django.test import Client

        assert Client(enforce_csrf_checks=True).post(self.url, {"helpful": "yes"}).status_code == 403
        assert Feedback.objects.count() == 0

    def test_a_flood_is_refused(self):
        from django.test import Client

        statuses = [Client().post(self.url, {"helpful": "yes", "next": "/en/"}).status_code for _ in range(25)]
        assert statuses[:20] == [302] * 20 and statuses[20:] == [429] * 5
        assert Feedback.objects.count() == 20

    def test_only_results_take_votes(self, client):
        assert (
            client.post("/en/wizard/vm-troubleshooting/result/symptom/feedback/", {"helpful": "yes"}).status_code == 404
        )

    def test_the_redirect_stays_on_this_site(self, client):
        response = client.post(self.url, {"helpful": "yes", "next": "https://evil.example/"})
        assert response["Location"].startswith("/en/wizard/")


@pytest.mark.usefixtures("seeds")
class TestDiagram:
    url = "/en/wizard/vm-troubleshooting/diagram/"

    def test_only_staff_see_it(self, client):
        assert client.get(self.url).status_code == 302

    def test_it_draws_every_node_and_the_counts(self, client):
        client.force_login(User.objects.create_user("editor", is_staff=True))
        client.get(result_url("result-agent-stopped", AGENT_STOPPED))
        client.post(
            "/en/wizard/vm-troubleshooting/result/result-agent-stopped/feedback/", {"helpful": "yes", "next": "/en/"}
        )
        body = client.get(self.url).content.decode()
        import yaml

        nodes = yaml.safe_load((CONTENT / "wizard" / "vm-troubleshooting.yaml").read_text(encoding="utf-8"))["nodes"]
        for node_id in nodes:
            assert f'id="node-{node_id}"' in body
        stats = re.search(r'id="node-result-agent-stopped".*?node-stats">([^<]*)<', body, re.S).group(1)
        assert "reached 1× · helpful 1 · not helpful 0" in stats
