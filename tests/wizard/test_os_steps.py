"""The OS is carried into every remediation step shown: on the project's tree, each step with
one OS's commands, paths or services says so (``os``), and a walk that knows the OS shows none
of the other OS's steps; one that does not shows both, each badged, and the ticket summary
prefixes them."""

import re

import pytest

from tests.conftest import REPO
from tests.wizard.test_views import follow
from wizard import markdown_cache, trees

TREE_FILE = REPO / "content" / "wizard" / "vm-troubleshooting.yaml"
DATA = trees.read_file(TREE_FILE)
# Words that belong to one OS only (case matters: "waagent" is not "WaAppAgent").
MARKERS = {
    "linux": [
        "sudo ",
        "systemctl",
        "waagent",
        "walinuxagent",
        "firewall-cmd",
        "firewalld",
        "iptables",
        "/var/log/",
        "/etc/",
        "curl ",
        "ttyS0",
        "On Linux",
        "Linux では",
        "Linux:",
    ],
    "windows": [
        "Get-Service",
        "Restart-Service",
        "netsh",
        "Set-NetIPInterface",
        "reg add",
        "services.msc",
        "WindowsAzureGuestAgent",
        "RdAgent",
        "C:\\",
        "Test-NetConnection",
        "sysprep",
        "COM1",
        "On Windows",
        "Windows では",
        "Windows:",
    ],
}


def steps():
    for node_id, node in DATA["nodes"].items():
        for number, step in enumerate(node.get("remediation", []), 1):
            yield f"{node_id} step {number}", step


def oses_named(step):
    words = step["ja"] + "\n" + step["en"]
    return {os for os, markers in MARKERS.items() if any(marker in words for marker in markers)}


@pytest.mark.parametrize(("where", "step"), list(steps()), ids=[where for where, _step in steps()])
def test_a_step_with_one_oss_commands_says_which_os(where, step):
    named = oses_named(step)
    assert len(named) <= 1, f"{where} names both OSes' commands: split it into one step per OS"
    assert step.get("os", "") == (named.pop() if named else step.get("os", "")), f"{where}: os should be {named}"


def test_an_os_that_is_neither_is_refused_with_its_line(tmp_path):
    text = TREE_FILE.read_text(encoding="utf-8").replace("        os: linux\n", "        os: macos\n", 1)
    path = tmp_path / "vm-troubleshooting.yaml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("        os: macos") + 1
    found = [(p.line, p.message) for p in trees.check_file(path, {})]
    assert any(at == line and "os: 'macos' is not one of ['linux', 'windows']" in m for at, m in found), found


def one_os_steps(os):
    """Every step marked for ``os`` as a page shows it (its English text, rendered)."""
    return [markdown_cache.markdown(step["en"]) for _where, step in steps() if step.get("os") == os]


def remediation(page):
    return "".join(re.findall(r'<section class="remediation">.*?</section>', page, re.S))


SYMPTOMS = [
    "updating",
    "provisioning-failed",
    "agent-not-ready",
    "extension-failed",
    "cannot-connect",
    "management-ops",
]
DEEP = [
    "symptom.agent-not-ready,agent-can-connect.can-connect,agent-service.stopped",
    "symptom.agent-not-ready,agent-can-connect.can-connect,agent-service.running,wireserver-reachable.blocked",
    "symptom.cannot-connect,serial-login-prompt.login-prompt",
    "symptom.provisioning-failed,provisioning-image.custom-not-generalized",
    "symptom.extension-failed,ext-error.other-error",
]


@pytest.mark.usefixtures("seeds")
@pytest.mark.parametrize(("os", "other"), [("linux", "windows"), ("windows", "linux")])
def test_a_walk_that_knows_the_os_shows_none_of_the_other_oss_steps(client, os, other):
    walks = [f"symptom.{s}" for s in SYMPTOMS] + DEEP
    foreign = one_os_steps(other)
    own_seen = 0
    for answers in walks:
        _url, page = follow(client, f"/en/wizard/vm-troubleshooting/?a=os.{os},{answers}&end=1")
        shown = remediation(page)
        assert shown, answers
        assert f'data-os="{other}"' not in page, answers
        assert not [text for text in foreign if text in shown], answers
        summary = re.search(r'<textarea id="ticket-text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
        assert "[Windows]" not in summary and "[Linux]" not in summary
        own_seen += shown.count(f'data-os="{os}"')
    assert own_seen  # the walk's own OS's steps are there


@pytest.mark.usefixtures("seeds")
def test_with_the_os_unknown_both_are_shown_badged_and_prefixed(client):
    _url, page = follow(client, "/en/wizard/vm-troubleshooting/?a=" + DEEP[0])
    shown = remediation(page)
    assert 'data-os="windows"><span class="badge badge-os">for Windows</span>' in shown
    assert 'data-os="linux"><span class="badge badge-os">for Linux</span>' in shown
    summary = re.search(r'<textarea id="ticket-text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert ". [Windows] " in summary and ". [Linux] " in summary
    _url, page = follow(client, "/ja/wizard/vm-troubleshooting/?a=" + DEEP[0])
    assert '<span class="badge badge-os">Windows 向け</span>' in remediation(page)
    assert "[Windows]" in page and "[Linux]" in page


def helps_by_os():
    for node_id, node in DATA["nodes"].items():
        help_ = node.get("help", {})
        if "windows" in help_ or "linux" in help_:
            yield node_id, help_


@pytest.mark.parametrize(("node_id", "help_"), list(helps_by_os()), ids=[node_id for node_id, _h in helps_by_os()])
def test_a_help_split_by_os_keeps_each_oss_commands_in_its_own_part(node_id, help_):
    assert not oses_named(help_), f"{node_id}: the text for everyone names one OS's commands"
    for os in ("windows", "linux"):
        assert oses_named(help_[os]) <= {os}, f"{node_id}: the {os} part names the other OS"


def step_page(client, lang, answers, node_id):
    """The step page of ``node_id`` reached by ``answers``, answering "I don't know" to any
    other question on the way."""
    for _ in range(10):
        _url, page = follow(client, f"/{lang}/wizard/vm-troubleshooting/?a={answers}")
        asked = re.search(r'class="wizard-step" data-node="([^"]+)"', page)
        assert asked, answers
        if asked.group(1) == node_id:
            return page
        answers += f",{asked.group(1)}.unknown"
    raise AssertionError(f"{node_id} never asked after {answers}")


@pytest.mark.usefixtures("seeds")
def test_how_to_check_shows_the_visitors_os_or_both_badged(client):
    walk = "symptom.agent-not-ready,agent-can-connect.can-connect"
    linux = step_page(client, "en", f"os.linux,{walk}", "agent-service")
    assert "systemctl status waagent.service" in linux and "services.msc" not in linux
    windows = step_page(client, "en", f"os.windows,{walk}", "agent-service")
    assert "services.msc" in windows and "systemctl" not in windows
    either = step_page(client, "ja", walk, "agent-service")
    assert '<div class="prose" data-os="windows"><span class="badge badge-os">Windows 向け</span>' in either
    assert '<div class="prose" data-os="linux"><span class="badge badge-os">Linux 向け</span>' in either
