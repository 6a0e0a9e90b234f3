"""Start-up refuses what would make a deployment unsafe, and keeps its files to its owner."""

import json
import os
import subprocess
import sys

import pytest

from config.settings import PLACEHOLDER_SECRET_KEY
from tests.config.test_security import production_env
from tests.conftest import REPO


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("value", "problem"), [("", "is not set"), ("   ", "is blank"), (PLACEHOLDER_SECRET_KEY, "placeholder")]
)
def test_a_blank_or_placeholder_secret_key_is_refused(value, problem):
    result = manage(production_env(DJANGO_SECRET_KEY=value), "check")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr
    assert problem in result.stderr.splitlines()[-1]


OPEN_AND_LIST = """
import json, stat
from pathlib import Path
from django.conf import settings
from kb.models import ImportRun
ImportRun.objects.create()  # a write: SQLite's -wal and -shm exist while the connection is open
var = Path(settings.VAR_DIR)
print(json.dumps({p.name: stat.S_IMODE(p.stat().st_mode) for p in [var, *var.iterdir()]}))
"""


def test_var_is_0700_and_the_sqlite_files_0600(tmp_path):
    var = tmp_path / "var"
    env = production_env(KB_VAR_DIR=str(var), KB_INDEX_DIR=str(tmp_path / "index"))
    env.pop("DATABASE_URL", None)
    old = os.umask(0o022)  # the usual umask: files 0644 and folders 0755 unless the code says otherwise
    try:
        assert manage(env, "migrate", "--noinput", "-v0").returncode == 0
        result = manage(env, "shell", "-c", OPEN_AND_LIST)
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    modes = json.loads(result.stdout.strip().splitlines()[-1])
    assert modes.pop("var") == 0o700
    assert {"db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"} <= set(modes)
    assert {name: mode for name, mode in modes.items() if name.startswith("db.sqlite3")} == dict.fromkeys(
        ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"), 0o600
    )
