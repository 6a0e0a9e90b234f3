"""The diagnosis (wizard.diagnosis, wizard.model) as pure functions: on the project's tree file
(its diagnosis section is the content under test) and on the small tree of test_trees.py (a
model derived from its paths). Properties with hypothesis: no cause shown is contradicted by
an answer given, a known answer never adds a candidate, the order of the answers does not
change the outcome."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO
from tests.wizard.test_trees import TREE as SMALL
from wizard import diagnosis, model, paste, trees
from wizard.walking import Answers

CONTENT = trees.build("vm-troubleshooting", trees.read_file(REPO / "content" / "wizard" / "vm-troubleshooting.yaml"))
JST = dt.timezone(dt.timedelta(hours=9))
INCIDENTS = {
    "20211013-rca-azure-vm": (
        dt.datetime(2021, 10, 13, 15, 27, tzinfo=JST),
        dt.datetime(2021, 10, 13, 21, 42, tzinfo=JST),
    )
}


def step(answers, tree=CONTENT, **kw):
    return diagnosis.next_step(tree, Answers(answers), INCIDENTS, **kw)


def shown(answers, tree=CONTENT, **kw):
    return [c.result.id for c in step(answers, tree, **kw).candidates]


def test_the_content_model_is_valid_and_names_every_result():
    found = model.model_of(CONTENT)
    assert set(found.causes) == {n.id for n in CONTENT.results} | {model.NOT_COVERED}
    assert model.check_problems(CONTENT) == []


def test_a_cause_naming_an_answer_that_does_not_exist_is_refused_with_its_line():
    data = trees.read_file(REPO / "content" / "wizard" / "vm-troubleshooting.yaml")
    data["diagnosis"]["causes"]["result-agent-stopped"]["fits"]["agent-service"] = ["sleeping"]
    document = trees.content_files.Document(REPO / "vm-troubleshooting.yaml", data)
    problems = [p.message for p in trees.check_document(document, headings=None or {})]
    assert any(
        "diagnosis: result-agent-stopped: fits: agent-service: 'sleeping' is not one of its answers" in m
        for m in problems
    )


class TestNarrowing:
    def test_the_symptom_leaves_only_the_causes_that_produce_it(self):
        causes = model.model_of(CONTENT)
        for cause in shown({"symptom": "cannot-connect"}):
            assert "cannot-connect" in CONTENT.diagnosis["causes"][cause]["produces"]
        assert causes  # the model was built

    def test_every_answer_narrows_and_dont_know_changes_nothing(self):
        before = step({"symptom": "agent-not-ready"}).belief
        after = step({"symptom": "agent-not-ready", "agent-can-connect": "unknown"}).belief
        assert before == after
        narrowed = step({"symptom": "agent-not-ready", "agent-can-connect": "can-connect"})
        assert "result-nic-disabled" not in [c.result.id for c in narrowed.candidates]

    def test_the_next_question_is_one_whose_answer_can_change_the_outcome(self):
        first = step({"symptom": "agent-not-ready"})
        assert first.question is not None and first.question.id != "symptom"
        assert first.question.id not in {"provisioning-image", "prov-dns", "ext-timeout-cause"}  # not this branch

    def test_at_most_five_causes_each_with_a_standing_in_words(self):
        outcome = step({"symptom": "updating"}, stop=True)
        assert 1 <= len(outcome.candidates) <= 5
        assert all(c.standing in ("likely", "possible", "unlikely") for c in outcome.candidates)

    def test_one_cause_far_ahead_ends_the_walk_on_it(self):
        outcome = step({"symptom": "agent-not-ready", "agent-can-connect": "can-connect", "agent-service": "stopped"})
        assert outcome.finished and outcome.result.id == "result-agent-stopped"
        assert outcome.belief["result-agent-stopped"] >= diagnosis.LEAD

    def test_a_cause_lists_as_not_confirmed_only_what_bears_on_it(self):
        stopped = step({"symptom": "agent-not-ready", "agent-can-connect": "can-connect", "agent-service": "stopped"})
        leader = stopped.candidates[0]
        assert leader.result.id == "result-agent-stopped"
        assert not [c for c in leader.conditions if not c.settled]  # no error code every agent cause shares
        wire = step(
            {
                "symptom": "agent-not-ready",
                "agent-can-connect": "can-connect",
                "agent-service": "running",
                "wireserver-reachable": "blocked",
            }
        )
        leader = wire.candidates[0]
        assert leader.result.id == "result-wireserver-blocked"
        assert [(c.node, c.answer) for c in leader.conditions if not c.settled] == [
            ("error-code", "goal-state-timeout")
        ]
        # a candidates page still names, for each cause, the check that tells it from the others
        listed = step({"symptom": "agent-not-ready"}, stop=True)
        assert all(any(not c.settled for c in cause.conditions) for cause in listed.candidates)

    def test_dont_know_to_everything_after_the_symptom_ends_within_eight_questions(self):
        for symptom in ["updating", "provisioning-failed", "agent-not-ready", "extension-failed", "management-ops"]:
            answers = {"symptom": symptom}
            for _ in range(20):
                now = step(answers)
                if now.finished:
                    break
                answers[now.question.id] = "unknown" if now.question.kind == "question" else "unknown"
            assert now.finished and len(answers) <= 8, (symptom, answers)

    def test_after_three_dont_knows_the_os_is_still_asked_when_it_could_overturn_the_leader(self):
        # A Windows extension timeout with nothing else known: a package manager holding its
        # lock (mostly Linux) and the timeout itself are close; the OS tells them apart.
        answers = {
            "symptom": "extension-failed",
            "ext-error": "timeout",
            "ext-timeout-cause": "unknown",
            "wireserver-reachable": "unknown",
            "updating-nsg": "unknown",
        }
        now = step(answers)
        assert not now.finished and now.question.id == "vm-os"
        answers["vm-os"] = "windows"
        assert shown(answers, stop=True)[0] == "result-extension-timeout"
        answers["vm-os"] = "linux"
        assert shown(answers, stop=True)[0] == "result-extension-package-manager"


class TestNotCovered:
    def test_something_else_is_not_covered_and_shows_no_cause(self):
        outcome = step({"symptom": "something-else"})
        assert outcome.finished and outcome.not_covered and outcome.candidates == []

    def test_answers_that_rule_out_every_cause_are_not_covered(self):
        outcome = step({"symptom": "cannot-connect", "serial-login-prompt": "login-prompt", "nic-state": "up"})
        assert outcome.not_covered


class TestTime:
    answers = {"symptom": "management-ops", "os": "windows"}

    def test_a_time_inside_the_window_puts_the_incident_first(self):
        assert shown({**self.answers, "started-when": "2021-10-13T1600_jst"}, stop=True)[0] == "result-rca-20211013"

    def test_a_time_outside_the_window_rules_the_incident_out(self):
        assert "result-rca-20211013" not in shown({**self.answers, "started-when": "2021-10-13T0900_jst"}, stop=True)

    def test_a_date_alone_is_a_condition_not_a_result(self):
        outcome = step({**self.answers, "started-when": "2021-10-13_jst"}, stop=True)
        rca = next(c for c in outcome.candidates if c.result.id == "result-rca-20211013")
        assert outcome.result is None and any(c.status == "possible" for c in rca.conditions)

    def test_the_share_of_the_window_sets_the_rank(self):
        day = step({**self.answers, "started-when": "2021-10-13_jst"}, stop=True).belief["result-rca-20211013"]
        evening = step({**self.answers, "started-when": "2021-10-13~evening_jst"}, stop=True).belief[
            "result-rca-20211013"
        ]
        assert evening > day

    def test_linux_rules_the_windows_incident_out(self):
        answers = {"symptom": "management-ops", "os": "linux", "started-when": "2021-10-13T1600_jst"}
        assert "result-rca-20211013" not in shown(answers, stop=True)

    def test_the_time_is_asked_once_whichever_step_asks_it(self):
        outcome = step({"symptom": "management-ops", "ext-started-when": "2021-10-13T1600_jst"})
        assert outcome.question is None or outcome.question.kind != "when"


class TestOs:
    def test_a_known_os_answers_every_question_that_asks_it(self):
        outcome = step({"symptom": "extension-failed", "os": "windows"})
        assert outcome.findings["ext-windows"] == "windows" and outcome.findings["vm-os"] == "windows"
        asked = []
        answers = {"symptom": "extension-failed", "os": "windows"}
        for _ in range(10):
            now = step(answers)
            if now.finished:
                break
            asked.append(now.question.id)
            answers[now.question.id] = "unknown"
        assert not {"ext-windows", "mgmt-windows", "vm-os"} & set(asked)

    def test_duplicate_questions_are_one_finding(self):
        outcome = step({"symptom": "agent-not-ready", "agent-nsg-outbound": "restricted"})
        assert outcome.findings["updating-nsg"] == "nsg-restricts"
        assert outcome.question is None or outcome.question.id not in ("updating-nsg", "agent-nsg-outbound")


class TestPaste:
    def findings(self, text):
        return paste.findings_of(CONTENT, paste.recognised_texts(CONTENT, text))

    def test_vm_extension_provisioning_error_means_an_extension_failure_with_its_network_and_agent_causes(self):
        found = self.findings("Update-AzVM : Long running operation failed. ErrorCode: VMExtensionProvisioningError")
        assert found == {"error-code": "vm-extension-provisioning-error"}
        top = shown({**found, "symptom": "updating"}, stop=True)
        assert "result-nsg-blocks-outbound" in top and {"result-agent-stopped", "result-wireserver-blocked"} & set(top)

    def test_an_os_provisioning_timeout_ranks_the_non_generalized_image_first(self):
        text = "OS Provisioning for VM 'vm01' did not finish in the allotted time."
        found = self.findings(text)
        assert found["symptom"] == "provisioning-failed"
        assert shown(found, stop=True)[0] == "result-image-not-generalized"

    def test_a_waagent_goal_state_timeout_is_wire_server_unreachable_on_linux(self):
        text = "WARNING ExtHandler Fetching the goal state failed: [ProtocolError] GET http://168.63.129.16/machine/?comp=goalstate -- IOError timed out"
        found = self.findings(text)
        assert found["wireserver-reachable"] == "blocked" and paste.os_hint(CONTENT, "waagent " + text)[0] == "linux"
        assert (
            shown({**found, "symptom": "agent-not-ready", "os": "linux"}, stop=True)[0] == "result-wireserver-blocked"
        )

    def test_texts_match_across_spaces_and_the_ticket_keeps_the_recognised_lines(self):
        text = "x" * 5000 + "\n仮想マシン エージェントの状態が準備できていません。\n" + "y" * 5000
        recognised = paste.recognised_texts(CONTENT, text)
        assert [r.findings for r in recognised] == [{"symptom": "agent-not-ready"}]
        assert paste.recognised_excerpt(text, recognised, 600).startswith("仮想マシン エージェント")


# -- properties ---------------------------------------------------------------------------------


def answer_sets(tree):
    questions = [n for n in tree.nodes.values() if n.kind == "question" and not n.same_as]
    pairs = st.sampled_from(questions).flatmap(
        lambda n: st.tuples(st.just(n.id), st.sampled_from([a.id for a in n.answers]))
    )
    return st.lists(pairs, max_size=6, unique_by=lambda p: p[0]).map(dict)


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("tree", [CONTENT, SMALL], ids=["content", "small"])
class TestProperties:
    @PROPERTY
    @given(data=st.data())
    def test_no_cause_shown_is_contradicted_by_an_answer_given(self, tree, data):
        answers = data.draw(answer_sets(tree))
        outcome = diagnosis.next_step(tree, Answers(answers), INCIDENTS, stop=True)
        found = model.model_of(tree)
        for candidate in outcome.candidates:
            for question, value in outcome.findings.items():
                assert value not in found.ruled_map.get(candidate.result.id, {}).get(question, set()), (
                    candidate.result.id,
                    question,
                    value,
                )

    @PROPERTY
    @given(data=st.data())
    def test_a_known_answer_never_adds_a_candidate(self, tree, data):
        answers = data.draw(answer_sets(tree))
        found = model.model_of(tree)
        open_questions = [
            q for q in found.askable if q in tree.nodes and q not in answers and tree.nodes[q].kind == "question"
        ]
        if not open_questions:
            return
        question = data.draw(st.sampled_from(open_questions))
        value = data.draw(st.sampled_from([a.id for a in tree.nodes[question].known_answers]))
        after = diagnosis.next_step(tree, Answers({**answers, question: value}), INCIDENTS, stop=True)
        assert {c.result.id for c in after.candidates} <= possible(found, answers)
        assert possible(found, {**answers, question: value}) <= possible(found, answers)

    @PROPERTY
    @given(data=st.data())
    def test_the_order_of_the_answers_does_not_change_the_outcome(self, tree, data):
        answers = data.draw(answer_sets(tree))
        shuffled = dict(data.draw(st.permutations(list(answers.items()))))
        one = diagnosis.next_step(tree, Answers(answers), INCIDENTS)
        other = diagnosis.next_step(tree, Answers(shuffled), INCIDENTS)
        assert [c.result.id for c in one.candidates] == [c.result.id for c in other.candidates]
        assert (one.question and one.question.id) == (other.question and other.question.id)
        assert one.belief == pytest.approx(other.belief)


def possible(found, answers):
    """The causes no answer given (or implied) rules out."""
    pairs = diagnosis.evidence(found, Answers(answers))
    return {c for c in found.causes if not any(v in found.ruled_map.get(c, {}).get(q, set()) for q, v in pairs)}
