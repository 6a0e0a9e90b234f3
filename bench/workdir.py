"""Django configured on a throw-away folder: its own SQLite database and search index, so a
benchmark never touches the site's. Shared by the benchmarks in this folder."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(workdir: Path, *, migrate: bool = True):
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY="bench-only-not-a-secret",
        DJANGO_DEBUG="0",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        KB_VAR_DIR=str(workdir / "var"),
        KB_INDEX_DIR=str(workdir / "index"),
    )
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
