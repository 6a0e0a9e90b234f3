"""The small tree of tests/wizard/test_trees.py as content, with the articles it links to."""

import copy

import pytest
import yaml

from tests.conftest import article_file, run, write
from tests.wizard.test_trees import small_tree


def tree_data():
    data = copy.deepcopy(small_tree())
    data["nodes"]["r-timeout"]["articles"] = [{"slug": "a"}, {"slug": "w", "os": "windows"}]
    data["nodes"]["r-timeout"]["remediation"].append(
        {
            "ja": "公式の手順。",
            "en": "The official steps.",
            "source": {"url": "https://learn.microsoft.com/azure/virtual-machines/"},
        }
    )
    return data


@pytest.fixture
def wizard_site(content_dir, db):
    for lang, heading in (("ja", "見出し"), ("en", "heading")):
        article_file(
            content_dir, "a", lang, title=f"Article A {lang}", body=f"## {heading}\n\nbody", **translated(lang)
        )
        article_file(content_dir, "w", lang, title=f"Windows only {lang}", body="body", **translated(lang))
        article_file(
            content_dir,
            "rca",
            lang,
            title=f"Incident {lang}",
            body="report",
            **(
                {"kind": "rca", "impact_start": "2021-10-13 15:27:00+09:00", "impact_end": "2021-10-13 21:42:00+09:00"}
                if lang == "ja"
                else translated(lang)
            ),
        )
    write(content_dir / "wizard" / "small.yaml", yaml.safe_dump(tree_data(), allow_unicode=True), dedent=False)
    report = run(content_dir)
    assert report.ok, report.problems
    return content_dir


def translated(lang):
    return {"translated_from": "ja"} if lang == "en" else {}
