"""The decision logic without HTTP: validation (one broken tree per rule), walking, pasting."""

import copy
import datetime as dt

import pytest
import yaml

from tests.conftest import CONTENT
from wizard import trees

TREE_FILE = CONTENT / "wizard" / "vm-troubleshooting.yaml"
UTC = dt.UTC
INCIDENTS = {
    "20211013-rca-azure-vm": (
        dt.datetime(2021, 10, 13, 6, 27, tzinfo=UTC),
        dt.datetime(2021, 10, 13, 12, 42, tzinfo=UTC),
    )
}


def text(value):
    return {"ja": value, "en": value}


def small_tree():
    return {
        "title": text("t"),
        "start": "q1",
        "nodes": {
            "q1": {
                "question": text("Can you SSH?"),
                "answers": [
                    {"id": "yes-ssh", "label": text("yes"), "next": "r1"},
                    {"id": "no-ssh", "label": text("no"), "next": "when"},
                    {"id": "unknown", "label": text("?"), "next": "r1", "unknown": True},
                ],
            },
            "when": {"when": text("When?"), "rcas": ["rca"], "incident_next": "r2", "next": "r1"},
            "r1": {
                "result": text("R1"),
                "cause": text("c"),
                "remediation": [text("fix")],
                "articles": [{"slug": "a", "section": {"ja": "見出し", "en": "heading"}}],
                "signatures": ["AgentError"],
            },
            "r2": {
                "result": text("R2"),
                "cause": text("c"),
                "remediation": [text("wait")],
                "articles": [{"slug": "rca"}],
                "signatures": ["VMAgentError", "Agent"],
            },
        },
    }


HEADINGS = {("a", "ja"): {"見出し"}, ("a", "en"): {"heading"}, ("rca", "ja"): set(), ("rca", "en"): set()}


def problems(data):
    return trees.check("small", data, HEADINGS)


def test_the_small_tree_is_valid():
    assert problems(small_tree()) == []


def broken(mutate):
    data = small_tree()
    mutate(data)
    return problems(data)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["nodes"].update({"orphan": copy.deepcopy(d["nodes"]["r1"])}),
            "node orphan: not reachable from 'q1'",
        ),
        (lambda d: d["nodes"]["q1"]["answers"][0].update(next="q1"), "node q1: cycle q1 -> q1"),
        (lambda d: d["nodes"]["q1"]["answers"][0].update(next="nowhere"), "node q1: leads to unknown node 'nowhere'"),
        (lambda d: d["nodes"]["r1"].update(remediation=[]), "node r1: a result needs at least one remediation step"),
        (lambda d: d["nodes"]["r1"].update(articles=[]), "node r1: a result needs at least one article link"),
        (lambda d: d["nodes"]["r1"]["articles"][0].update(slug="missing"), "node r1: article 'missing' has no ja text"),
        (
            lambda d: d["nodes"]["r1"]["articles"][0]["section"].update(en="nope"),
            "node r1: article 'a' (en) has no section 'nope'",
        ),
        (
            lambda d: d["nodes"]["q1"]["answers"][2].pop("unknown"),
            "node q1: needs exactly one answer marked unknown: true",
        ),
        (
            lambda d: d["nodes"]["q1"]["answers"].__setitem__(slice(0, 2), []),
            "node q1: a question needs at least two answers",
        ),
        (lambda d: d["nodes"]["q1"]["answers"][1].update(id="yes-ssh"), "node q1: answer ids repeat"),
        (lambda d: d["nodes"]["r1"]["cause"].pop("en"), "node r1: cause: 'en' is a required property"),
        (lambda d: d["nodes"]["q1"].pop("answers"), "node q1: a node needs question+answers"),
        (lambda d: d.update(start="nope"), "start: no node 'nope'"),
        (lambda d: d["nodes"]["r2"].update(rcas=["no-such-rca"]), "node r2: RCA 'no-such-rca' is not an article"),
        (lambda d: d["nodes"].update({"Bad Id": d["nodes"].pop("r2")}), "'Bad Id' does not match"),
    ],
)
def test_one_broken_tree_per_rule(mutate, expected):
    found = broken(mutate)
    assert any(expected in problem for problem in found), found


def test_a_cycle_through_several_nodes_is_named():
    def mutate(d):
        d["nodes"]["when"]["next"] = "q1"

    assert any("cycle q1 -> when -> q1" in p for p in broken(mutate))


def test_a_file_that_is_not_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("title: {ja: x\nstart: [\n", encoding="utf-8")
    (problem,) = trees.check_file(path, HEADINGS)
    assert problem.startswith("line ") and "not valid YAML" in problem


class TestWalk:
    tree = trees.build("small", small_tree())

    def test_answers_lead_to_a_result(self):
        walk = trees.walk(self.tree, ["yes-ssh"])
        assert walk.finished and walk.node.id == "r1" and walk.answers == ["yes-ssh"]

    def test_no_answers_is_the_first_question(self):
        walk = trees.walk(self.tree, [])
        assert (walk.node.id, walk.finished, walk.problem) == ("q1", False, "")

    def test_a_moment_inside_an_incident_window_takes_the_incident_branch(self):
        walk = trees.walk(self.tree, ["no-ssh", "2021-10-13T07:00Z"], {"rca": INCIDENTS["20211013-rca-azure-vm"]})
        assert walk.node.id == "r2" and walk.steps[-1].incident == "rca"

    def test_a_moment_outside_it_or_unknown_does_not(self):
        incidents = {"rca": INCIDENTS["20211013-rca-azure-vm"]}
        assert trees.walk(self.tree, ["no-ssh", "2021-10-13T13:00Z"], incidents).node.id == "r1"
        assert trees.walk(self.tree, ["no-ssh", "unknown"], incidents).node.id == "r1"

    @pytest.mark.parametrize(
        ("answers", "stops_at", "problem"),
        [
            (["nope"], "q1", "'nope' is not an answer to this question"),
            (["no-ssh", "2021-02-30T07:00Z"], "when", "is not an answer"),
            (["no-ssh", "yesterday"], "when", "is not an answer"),
            (["yes-ssh", "extra"], "r1", "more answers than questions"),
            (["unknown"] * 41, "q1", "too many answers"),
        ],
    )
    def test_a_bad_answer_stops_at_the_nearest_valid_step(self, answers, stops_at, problem):
        walk = trees.walk(self.tree, answers)
        assert walk.node.id == stops_at and problem in walk.problem and not walk.finished

    def test_path_to_finds_the_shortest_answers(self):
        assert trees.path_to(self.tree, "r1") == ["yes-ssh"]
        assert trees.path_to(self.tree, "r2", {"rca": INCIDENTS["20211013-rca-azure-vm"]}) == [
            "no-ssh",
            "2021-10-13T06:27Z",
        ]
        assert trees.path_to(self.tree, "r2") is None

    def test_the_longest_matching_signature_wins(self):
        assert trees.match_signature(self.tree, "log: vmagenterror at 10:00") == ("r2", "VMAgentError")
        assert trees.match_signature(self.tree, "AgentError") == ("r1", "AgentError")
        assert trees.match_signature(self.tree, "nothing known") is None
        assert trees.match_signature(self.tree, "\x00" * 1_000_000) is None


class TestTheRealTree:
    """The shipped tree, walked through the cases the seed articles tell apart."""

    tree = trees.build("vm-troubleshooting", yaml.safe_load(TREE_FILE.read_text(encoding="utf-8")))

    @pytest.mark.parametrize(
        ("answers", "result"),
        [
            (["agent-not-ready", "can-connect", "stopped"], "result-agent-stopped"),
            (["agent-not-ready", "can-connect", "running", "blocked"], "result-wireserver-blocked"),
            (["agent-not-ready", "cannot-connect", "login-prompt"], "result-nic-disabled"),
            (["agent-not-ready", "cannot-connect", "no-prompt"], "result-guest-os-hung"),
            (["cannot-connect", "login-prompt"], "result-nic-disabled"),
            (["updating", "nsg-restricts"], "result-nsg-blocks-outbound"),
            (["provisioning-failed", "marketplace", "custom-missing"], "result-dns-server-missing"),
            (["provisioning-failed", "custom-not-generalized"], "result-image-not-generalized"),
            (["provisioning-failed", "custom-generalized", "iptables-on"], "result-guest-firewall"),
            (["provisioning-failed", "marketplace", "ok", "forced-tunneling"], "result-forced-tunneling"),
            (
                ["provisioning-failed", "marketplace", "ok", "no-forced-tunneling", "restricted"],
                "result-diagnostics-no-internet",
            ),
            (["extension-failed", "linux", "unsupported-os"], "result-extension-os-unsupported"),
            (["extension-failed", "linux", "timeout", "package-manager-busy"], "result-extension-package-manager"),
            (["extension-failed", "linux", "timeout", "no-contention"], "result-extension-timeout"),
            (["extension-failed", "linux", "other-extension-failed"], "result-extension-failed-state"),
            (["extension-failed", "linux", "other-error", "ready", "blocked"], "result-extension-network-blocked"),
            (
                ["extension-failed", "linux", "other-error", "ready", "reachable", "unsupported"],
                "result-extension-agent-unsupported",
            ),
            (["management-ops", "windows", "2021-10-13T07:00Z"], "result-rca-20211013"),
            (
                ["management-ops", "windows", "2021-10-14T07:00Z", "agent-not-ready", "can-connect", "stopped"],
                "result-agent-stopped",
            ),
        ],
    )
    def test_cases_from_the_seed_articles(self, answers, result):
        walk = trees.walk(self.tree, answers, INCIDENTS)
        assert walk.finished and walk.node.id == result, walk.problem

    def test_every_result_cites_an_article_section_in_both_languages(self):
        for node in self.tree.results:
            assert node.articles, node.id
            assert all(set(link.get("section", {"ja": 1, "en": 1})) == {"ja", "en"} for link in node.articles)

    @pytest.mark.parametrize(
        ("pasted", "node"),
        [
            (
                "Long running operation failed with status 'Failed'. ErrorCode: VMExtensionProvisioningError",
                "updating-nsg",
            ),
            ("VMAgent: VM Agent is unresponsive.", "updating-nsg"),
            ("2022/08/18 WARNING ExtHandler Wireserver Exception ...", "result-wireserver-blocked"),
            ("Provisioning failed. OS Provisioning for VM 'vm1' did not finish", "provisioning-image"),
        ],
    )
    def test_pasted_errors_jump_into_the_tree(self, pasted, node):
        assert trees.match_signature(self.tree, pasted)[0] == node
        assert trees.walk(self.tree, trees.path_to(self.tree, node, INCIDENTS), INCIDENTS).node.id == node
