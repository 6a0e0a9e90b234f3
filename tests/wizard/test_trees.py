"""The decision logic without HTTP: validation (one broken tree per rule), walking with "I don't
know", times, the OS, pasting, and links of the old kind."""

import copy
import datetime as dt

import pytest

from wizard import legacy, moments, paste, trees, walking

UTC = dt.UTC
RCA_WINDOW = (dt.datetime(2021, 10, 13, 6, 27, tzinfo=UTC), dt.datetime(2021, 10, 13, 12, 42, tzinfo=UTC))
INCIDENTS = {"rca": RCA_WINDOW}


def text(value):
    return {"ja": value, "en": value}


def sourced(value, slug="a"):
    return {"ja": value, "en": value, "source": {"article": slug, "section": {"ja": "見出し", "en": "heading"}}}


def question(label, answers, **extra):
    return {
        "question": text(label),
        "answers": [{"id": a, "label": text(a), "next": n, **({"os": o} if o else {})} for a, n, o in answers]
        + [{"id": "unknown", "label": text("?"), "unknown": True}],
        **extra,
    }


def result(label, slug="a"):
    return {
        "result": text(label),
        "cause": sourced(f"cause of {label}"),
        "remediation": [sourced(f"fix {label}")],
        "articles": [{"slug": slug}],
    }


def small_tree():
    return {
        "title": text("t"),
        "start": "symptom",
        "os_hints": {"linux": ["waagent"], "windows": ["WindowsAzureGuestAgent"]},
        "nodes": {
            "symptom": question("symptom?", [("agent", "connect", ""), ("ext", "os-q", "")]),
            "connect": question(
                "SSH/RDP?", [("can", "service", ""), ("cannot", "serial", "")], help=sourced("how to check")
            ),
            "service": question("agent service?", [("stopped", "r-stopped", ""), ("running", "r-blocked", "")]),
            "serial": question("login prompt?", [("prompt", "r-nic", ""), ("none", "r-hung", "")]),
            "os-q": question("OS?", [("windows", "when", "windows"), ("linux", "iptables", "linux")]),
            "iptables": question(
                "iptables?", [("on", "r-firewall", ""), ("off", "noise", "")], applies_to="linux", otherwise="off"
            ),
            "noise": question("tells nothing apart", [("x", "r-timeout", ""), ("y", "r-timeout", "")]),
            "when": {"when": text("when?"), "rcas": ["rca"], "incident_next": "r-rca", "next": "noise"},
            "r-stopped": result("stopped"),
            "r-blocked": result("blocked"),
            "r-nic": result("nic"),
            "r-hung": result("hung"),
            "r-firewall": result("firewall"),
            "r-timeout": {**result("timeout"), "signatures": ["TimeoutError"]},
            "r-rca": {**result("rca", "rca"), "signatures": ["AgentTimeoutError"]},
        },
    }


HEADINGS = {("a", "ja"): {"見出し"}, ("a", "en"): {"heading"}, ("rca", "ja"): set(), ("rca", "en"): set()}
TREE = trees.build("small", small_tree())


def problems(data):
    return trees.check("small", data, HEADINGS)


def test_the_small_tree_is_valid():
    assert problems(small_tree()) == []


def broken(mutate):
    data = copy.deepcopy(small_tree())
    mutate(data)
    return problems(data)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["nodes"].update({"orphan": result("o")}), "node orphan: not reachable from 'symptom'"),
        (lambda d: d["nodes"]["noise"]["answers"][0].update(next="symptom"), "node symptom: cycle symptom -> "),
        (
            lambda d: d["nodes"]["serial"]["answers"][0].update(next="nowhere"),
            "node serial: leads to unknown node 'nowhere'",
        ),
        (
            lambda d: d["nodes"]["r-nic"].update(remediation=[]),
            "node r-nic: a result needs at least one remediation step",
        ),
        (lambda d: d["nodes"]["r-nic"].update(articles=[]), "node r-nic: a result needs at least one article link"),
        (
            lambda d: d["nodes"]["r-nic"]["articles"][0].update(slug="missing"),
            "node r-nic: article 'missing' has no ja text",
        ),
        (lambda d: d["nodes"]["r-nic"]["cause"].pop("source"), "node r-nic: cause: every statement needs a source"),
        (lambda d: d["nodes"]["connect"]["help"].pop("source"), "node connect: help: every statement needs a source"),
        (
            lambda d: d["nodes"]["r-nic"]["remediation"][0].update(source={"url": "https://example.com/fix"}),
            "node r-nic: remediation 1: source 'example.com' is not official documentation",
        ),
        (
            lambda d: d["nodes"]["r-nic"]["cause"]["source"]["section"].update(en="nope"),
            "node r-nic: cause: source 'a' (en) has no section 'nope'",
        ),
        (
            lambda d: d["nodes"]["serial"]["answers"][2].pop("unknown"),
            "node serial: needs exactly one answer marked unknown",
        ),
        (lambda d: d["nodes"]["serial"]["answers"].pop(0), "node serial: a question needs at least two answers"),
        (lambda d: d["nodes"]["serial"]["answers"][1].update(id="prompt"), "node serial: answer ids repeat"),
        (lambda d: d["nodes"]["iptables"].pop("otherwise"), "node iptables: applies_to and otherwise go together"),
        (
            lambda d: d["nodes"]["iptables"].update(otherwise="unknown"),
            "node iptables: otherwise: 'unknown' is not one",
        ),
        (lambda d: d["nodes"]["r-nic"]["cause"].pop("en"), "node r-nic: cause: 'en' is a required property"),
        (lambda d: d["nodes"]["serial"].pop("answers"), "node serial: a node needs question+answers"),
        (lambda d: d.update(start="nope"), "start: no node 'nope'"),
        (lambda d: d["nodes"]["when"].update(rcas=["no-such-rca"]), "node when: RCA 'no-such-rca' is not an article"),
        (lambda d: d["nodes"].update({"Bad Id": d["nodes"].pop("r-nic")}), "'Bad Id' does not match"),
    ],
)
def test_one_broken_tree_per_rule(mutate, expected):
    found = broken(mutate)
    assert any(expected in problem for problem in found), found


def chain(length):
    """A valid tree of ``length`` questions in a row, ending on two results."""
    nodes = {f"q{n}": question(f"q{n}?", [("yes", f"q{n + 1}", ""), ("no", "r-no", "")]) for n in range(length)}
    nodes[f"q{length}"] = result("end")
    nodes["r-no"] = result("no")
    return {"title": text("chain"), "start": "q0", "nodes": nodes}


def test_a_tree_of_a_thousand_nodes_in_a_chain_is_checked_and_walked_without_recursion():
    data = chain(998)
    assert len(data["nodes"]) == 1000 and problems(data) == []
    tree = trees.build("chain", data)
    answers = walking.Answers({f"q{n}": "yes" for n in range(997)})
    step = walking.next_step(tree, answers)
    assert step.question.id == "q997"


def test_a_tree_of_ten_thousand_nodes_is_refused_with_its_size():
    assert problems(chain(10_000)) == ["10002 nodes: a tree takes at most 1000 (split it into several trees)"]


def test_a_file_that_is_not_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("title: {ja: x\nstart: [\n", encoding="utf-8")
    (problem,) = trees.check_file(path, HEADINGS)
    assert (problem.path, problem.line) == (path, 2) and problem.message.startswith("not valid YAML")


def test_a_schema_problem_names_the_line_of_the_value_at_fault(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(
        "title: {ja: t, en: t}\nstart: q\nnodes:\n  q:\n    question: {ja: q, en: q}\n    answers:\n"
        "      - {id: a, label: {ja: a}, next: r}\n",
        encoding="utf-8",
    )
    assert [(p.path, p.line, p.message) for p in trees.check_file(path, HEADINGS)] == [
        (path, 7, "node q: answers.0.label: 'en' is a required property")
    ]


def step_of(answers, **kwargs):
    return walking.next_step(TREE, walking.Answers(dict(answers)), INCIDENTS, **kwargs)


def outcome(answers, **kwargs):
    step = step_of(answers, **kwargs)
    assert step.finished, step.question and step.question.id
    return [c.result.id for c in step.candidates]


class TestWalk:
    def test_no_answers_asks_the_first_question(self):
        assert step_of({}).question.id == "symptom"

    def test_known_answers_lead_to_one_result(self):
        step = step_of({"symptom": "agent", "connect": "can", "service": "stopped"})
        assert step.result.id == "r-stopped"

    def test_i_dont_know_keeps_every_branch_and_asks_what_tells_them_apart(self):
        step = step_of({"symptom": "agent", "connect": "unknown"})
        assert {c.result.id for c in step.candidates} == {"r-stopped", "r-blocked", "r-nic", "r-hung"}
        assert step.question.id == "service"  # the first question met that tells them apart

    def test_a_deciding_answer_ends_the_walk_and_keeps_what_it_did_not_rule_out(self):
        found = outcome({"symptom": "agent", "connect": "unknown", "service": "stopped"})
        assert found == ["r-stopped", "r-nic", "r-hung"]  # decided first, then by support
        step = step_of({"symptom": "agent", "connect": "unknown", "service": "stopped"})
        stopped = step.candidates[0]
        assert stopped.decided and [(c.node, c.status) for c in stopped.conditions] == [
            ("symptom", "known"),
            ("connect", "unknown"),
            ("service", "known"),
        ]

    def test_only_unknowns_end_on_every_candidate_left(self):
        found = outcome({"symptom": "agent", "connect": "unknown", "service": "unknown", "serial": "unknown"})
        assert set(found) == {"r-stopped", "r-blocked", "r-nic", "r-hung"}

    def test_a_question_that_tells_nothing_apart_is_skipped(self):
        assert step_of({"symptom": "ext", "os-q": "linux", "iptables": "off"}).result.id == "r-timeout"

    def test_the_visitor_may_stop_and_see_the_candidates(self):
        assert set(outcome({"symptom": "agent"}, stop=True)) == {"r-stopped", "r-blocked", "r-nic", "r-hung"}

    def test_candidates_are_ordered_by_support_then_by_how_often_they_helped(self):
        answers = {"symptom": "agent", "connect": "unknown", "service": "unknown", "serial": "unknown"}
        helped = {"r-hung": 5, "r-nic": 1}
        found = [
            c.result.id for c in walking.next_step(TREE, walking.Answers(answers), INCIDENTS, helped=helped).candidates
        ]
        assert found[:2] == ["r-hung", "r-nic"]


class TestOs:
    def test_an_answer_that_names_the_os_answers_a_question_meant_for_the_other(self):
        step = step_of({"symptom": "ext", "os-q": "windows", "when": "unknown"})
        assert step.finished and {c.result.id for c in step.candidates} == {"r-rca", "r-timeout"}
        assert walking.os_of(TREE, walking.Answers({"os-q": "windows"})) == "windows"

    def test_a_known_os_implies_the_answer_of_a_question_for_the_other_os(self):
        exploration = walking.explore(
            TREE, walking.Answers({"os": "windows", "symptom": "ext", "os-q": "unknown"}), INCIDENTS
        )
        found = {c.result.id: c for c in exploration.candidates}
        assert "r-firewall" not in found  # iptables is a Linux question: "off" for Windows
        assert walking.Condition("iptables", "off", "implied") in found["r-timeout"].conditions
        linux = walking.explore(TREE, walking.Answers({"os": "linux", "symptom": "ext", "os-q": "unknown"}), INCIDENTS)
        assert "r-firewall" in {c.result.id for c in linux.candidates}


class TestTime:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2021-10-13T1600_jst", ["r-rca"]),  # 07:00 UTC: inside the window
            ("2021-10-13T1400_jst", ["r-timeout"]),  # before it
            ("2021-10-13T07:00Z", ["r-rca"]),  # a link of the old kind: an exact UTC time
            ("2021-10-13_jst", ["r-rca", "r-timeout"]),  # the day overlaps: possible, not certain
            ("2021-10-13~evening_jst", ["r-rca"]),  # 夕方 16-19 JST lies inside 15:27-21:42
            ("2021-10-13~night_jst", ["r-rca", "r-timeout"]),  # 夜 19-24 JST overlaps too
            ("2021-10-13~late-night_jst", ["r-timeout"]),  # 深夜 0-5 JST does not
            ("2021-10-13_evening_jst", ["r-rca", "r-timeout"]),  # an old link: 18-24 JST
            ("2021-10-13_night_jst", ["r-timeout"]),  # an old link: 0-6 JST, before the window
            ("2021-10-13~morning_jst", ["r-timeout"]),  # 6-12 JST does not
            ("2021-10-13T1600_any", ["r-rca", "r-timeout"]),  # 16:00 UTC is outside: not sure which
            ("2021-10-14_jst", ["r-timeout"]),
        ],
    )
    def test_a_moment_inside_overlapping_or_outside_the_incident_window(self, value, expected):
        assert outcome({"symptom": "ext", "os-q": "windows", "when": value}) == expected

    def test_the_answer_is_kept_as_given_never_an_invented_noon(self):
        moment = moments.from_form("2021-10-13", "", "evening", "any")
        assert moment.encode() == "2021-10-13~evening_any"
        assert moments.from_form("2021-10-13", "", "", "jst").encode() == "2021-10-13_jst"
        assert moments.describe(moments.parse("2021-10-13_jst"), "en") == "2021-10-13 (time unknown, JST)"

    @pytest.mark.parametrize(
        "value",
        ["2021-02-30_jst", "2021-10-13T2500_jst", "yesterday", "2021-10-13T1600_mars", "2021-10-13~teatime_jst"],
    )
    def test_an_impossible_moment_is_not_an_answer(self, value):
        assert moments.parse(value) is None
        assert walking.parse_answers(TREE, f"when.{value}").values == {}


class TestLinks:
    def test_answers_round_trip_through_a_link(self):
        answers = walking.Answers(
            {"symptom": "ext", "os-q": "windows", "when": "2021-10-13~evening_any", "os": "windows"}
        )
        assert walking.parse_answers(TREE, answers.encode()).values == answers.values

    @pytest.mark.parametrize(
        "raw",
        ["symptom.bogus", "nowhere.x", "r-nic.x", "os.solaris", "<script>.x", "symptom", "symptom." + "x" * 500],
    )
    def test_a_tampered_answer_is_dropped_and_named(self, raw):
        parsed = walking.parse_answers(TREE, f"connect.can,{raw}")
        assert parsed.values == {"connect": "can"} and "not answers to this tree" in parsed.problem

    def test_forty_answers_all_invalid_give_the_first_question_and_a_notice(self):
        parsed = walking.parse_answers(TREE, ",".join(f"q{n}.bogus" for n in range(40)))
        assert parsed.values == {} and parsed.problem.count("'q") == 40
        assert walking.next_step(TREE, parsed, INCIDENTS).question.id == "symptom"

    def test_more_than_forty_answers_are_refused_whole(self):
        parsed = walking.parse_answers(TREE, ",".join(["symptom.agent"] * 41))
        assert parsed.values == {} and "too many answers" in parsed.problem

    def test_a_positional_link_is_read_as_the_questions_asked_in_turn(self):
        assert legacy.is_positional("agent,can,stopped") and not legacy.is_positional("symptom.agent")
        answers = walking.from_positional(TREE, ["agent", "can", "stopped"], INCIDENTS)
        assert answers.values == {"symptom": "agent", "connect": "can", "service": "stopped"}

    def test_the_old_walk_follows_i_dont_know_where_the_old_tree_sent_it(self):
        old = copy.deepcopy(small_tree())
        old["nodes"]["serial"]["answers"][2]["next"] = "r-hung"  # as trees were written then
        walk = legacy.walk(trees.build("old", old), ["agent", "cannot", "unknown"], INCIDENTS)
        assert walk.finished and walk.node.id == "r-hung"


class TestPaste:
    def test_every_known_error_text_is_recognised_with_what_it_assumes(self):
        text = "12:00 AgentTimeoutError then TimeoutError in waagent"
        found = paste.recognise(TREE, text)
        assert [(r.node_id, r.signature) for r in found] == [
            ("r-rca", "AgentTimeoutError"),
            ("r-timeout", "TimeoutError"),
        ]
        assert found[0].answers.values == {"symptom": "ext", "os-q": "windows"}
        assert paste.os_hint(TREE, text) == ("linux", "waagent")

    def test_a_paste_naming_both_oses_says_neither(self):
        assert paste.os_hint(TREE, "waagent and WindowsAzureGuestAgent") == ("", "")

    def test_nothing_known_is_nothing(self):
        assert paste.recognise(TREE, "nothing known\x00" * 100_000) == []

    def test_the_excerpt_is_around_the_match_and_trimmed(self):
        text = "x" * 1000 + "TimeoutError" + "y" * 1000
        (found,) = paste.recognise(TREE, text)
        before, match, after = paste.excerpt(text, found)
        assert match == "TimeoutError" and before.startswith("…") and len(before) == 121 and len(after) == 121
