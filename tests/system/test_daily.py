"""manage.py daily run by two processes at once against one database (as every node's timer
starts it): the shared jobs are done once, and each process checks its own node's index."""

import datetime as dt
import shutil
import subprocess
import sys

import pytest

from kb.staleness import load_rules
from tests.conftest import CONTENT, REPO, article_file
from tests.system.conftest import manage

pytestmark = pytest.mark.system

THREE_YEARS = next(rule.older_than_days for rule in load_rules(CONTENT / "staleness.yaml") if rule.id == "age-guide")


def test_two_runs_at_once_do_the_shared_work_once(node_env, tmp_path):
    content = tmp_path / "content"
    (content / "articles").mkdir(parents=True)
    shutil.copy(CONTENT / "staleness.yaml", content)
    published = dt.date.today() - dt.timedelta(days=THREE_YEARS - 3)  # not old yet at the import
    article_file(content, "old-guide", "ja", title="古い手順", body="手順の本文", kind="guide", date=published)
    env = {**node_env("a"), "KB_CONTENT_DIR": str(content)}
    manage(env, "import_content", str(content), "-v0")
    crossed = (published + dt.timedelta(days=THREE_YEARS + 5)).isoformat()
    runs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "daily", "--date", crossed],
            cwd=REPO,
            env={**env, "KB_INDEX_DIR": node_env(node)["KB_INDEX_DIR"]},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for node in ("a", "b")
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    stdout = [out for out, _err in outputs]
    assert sum("raised age-guide on old-guide (ja)" in out for out in stdout) == 1, stdout
    assert sum(f"shared jobs for {crossed}: " in out for out in stdout) == 1, stdout
    assert all("index: 1 documents for 1 texts" in out for out in stdout), stdout
    again = manage(env, "daily", "--date", crossed).stdout
    assert "already done" in again and "raised" not in again
