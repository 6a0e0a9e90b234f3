"""The one loader of content files (kb.content_files): YAML without anchors, aliases or merge
keys, refused at the first one with its file and line; schema problems at their line;
every message bounded. The loader's own tests need no database; the last class goes through
the whole import."""

from pathlib import Path

import pytest

from kb import content_files
from kb.content_files import MAX_DEPTH, MAX_MESSAGE, MAX_PROBLEMS, ContentError
from kb.models import Glossary, Revision
from tests.conftest import run, write

PATH = Path("content/example.yaml")


def alias_bomb(levels=7, width=9):
    """One flow value that holds a "billion laughs": each level lists ``width`` aliases of the
    one before, so the last element stands for width ** levels strings (4.8 million at 7)."""
    items = [f"&l0 [{', '.join(['lol'] * width)}]"]
    items += [f"&l{n} [{', '.join([f'*l{n - 1}'] * width)}]" for n in range(1, levels + 1)]
    return "[" + ", ".join(items) + "]"


def refusal(text, first_line=1):
    with pytest.raises(ContentError) as caught:
        content_files.parse(text, PATH, first_line)
    (problem,) = caught.value.problems
    return problem


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("title: {ja: x, en: x}\nstart: &s q1\nnext: q1\n", 2, "anchor &s"),
        ("title: {ja: x, en: x}\nstart: q1\nnext: *s\n", 3, "alias *s"),
        ("base: {a: 1}\nnode:\n  b: 2\n  <<: {a: 1}\n", 4, "merge keys"),
        ("title: x\ntags: " + alias_bomb() + "\n", 2, "anchor &l0"),
    ],
)
def test_anchors_aliases_and_merge_keys_are_refused_with_their_line(text, line, words):
    problem = refusal(text)
    assert (problem.path, problem.line) == (PATH, line)
    assert words in problem.message and "not allowed" in problem.message


def test_a_bomb_is_refused_before_anything_is_built_from_it():
    """The refusal comes from the parser's first event for the bomb: nothing expanded, so the
    message is one short line whatever the number of levels."""
    for levels in (7, 30):
        problem = refusal("terms:\n  - ja: [x]\n    en: " + alias_bomb(levels) + "\n")
        assert problem.line == 3 and len(str(problem)) < 120


def test_front_matter_lines_count_from_where_it_starts_in_the_file():
    assert refusal("title: t\ntags: *t\n", first_line=2).line == 3
    assert refusal("title: t\ntags: [x\n", first_line=2).line == 4


def test_nesting_deeper_than_the_limit_is_refused_with_its_line():
    deep = "a: 1\nb: " + "[" * 10_000 + "]" * 10_000 + "\n"
    problem = refusal(deep)
    assert problem.line == 2 and f"more than {MAX_DEPTH} levels" in problem.message
    at_the_limit = "b: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)  # the mapping is the first level
    assert content_files.parse(at_the_limit, PATH).data["b"]
    assert refusal("b: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH).line == 1


def test_text_that_is_not_yaml_names_its_line():
    problem = refusal("a: 1\nb: [unclosed\nc: 2\n")
    assert problem.line == 3 and problem.message.startswith("not valid YAML")
    assert refusal("a: 1\nb: \x07\n").line == 2


def test_dates_stay_strings_and_plain_values_keep_their_types():
    data = content_files.parse("date: 2016-05-06 17:38:18\nn: 3\nok: true\nlist: [a, b]\n", PATH).data
    assert data == {"date": "2016-05-06 17:38:18", "n": 3, "ok": True, "list": ["a", "b"]}


def test_a_file_that_is_not_utf8_names_the_line_of_the_bad_byte(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_bytes("a: 一\nb: ".encode() + b"\xff\n")
    with pytest.raises(ContentError) as caught:
        content_files.read(path)
    assert caught.value.problems[0].line == 2 and "not UTF-8" in caught.value.problems[0].message


SCHEMA = {
    "type": "object",
    "properties": {
        "terms": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["ja", "en"],
                "properties": {"ja": {"type": "array", "items": {"type": "string"}}, "en": {"type": "array"}},
            },
        }
    },
}


def test_schema_problems_name_the_line_of_the_value_at_fault(tmp_path):
    path = tmp_path / "glossary.yaml"
    path.write_text("terms:\n  - ja: [a]\n    en: [b]\n  - ja:\n      - c\n      - 7\n    en: [d]\n  - ja: [e]\n")
    with pytest.raises(ContentError) as caught:
        content_files.load(path, SCHEMA)
    found = [(p.path, p.line, p.message) for p in caught.value.problems]
    assert found == [
        (path, 6, "terms.1.ja.1: 7 is not of type 'string'"),
        (path, 8, "terms.2: 'en' is a required property"),
    ]


def test_a_message_about_a_large_deep_value_is_an_excerpt():
    written_out = "[" * 40 + ", ".join(f'"{"x" * 200}{n}"' for n in range(500)) + "]" * 40
    document = content_files.parse(f"terms:\n  - ja: {written_out}\n    en: []\n", PATH)
    (problem,) = content_files.schema_problems(document, SCHEMA)
    assert problem.line == 2 and problem.message.startswith("terms.0.ja.0: [[[")
    assert len(problem.message) <= MAX_MESSAGE and problem.message.endswith("…")


def test_a_file_reports_a_bounded_number_of_schema_problems():
    entries = "".join(f"  - ja: [{n}]\n" for n in range(MAX_PROBLEMS * 3))
    problems = content_files.schema_problems(content_files.parse("terms:\n" + entries, PATH), SCHEMA)
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[0].line == 2 and problems[-1].message == f"… and {MAX_PROBLEMS * 5} more problems of the schema"


def test_data_not_read_from_a_file_has_no_lines():
    document = content_files.Document(PATH, {"terms": [{"ja": ["x"]}]})
    assert document.line("terms", 0) is None
    assert content_files.schema_problems(document, SCHEMA)[0].line is None


def lines_of(path):
    return len(path.read_text(encoding="utf-8").splitlines())


@pytest.mark.django_db
class TestEveryKindOfContentFile:
    """The glossary, the staleness rules, a tree and an article's front matter, each with an
    alias bomb (or a single alias) in a value the validators walk: the import refuses the file at
    the line of the bomb's first anchor, in a message of one short line, and writes nothing."""

    @pytest.fixture
    def site(self, content_dir):
        write(content_dir / "glossary.yaml", "terms:\n  - ja: [一時ディスク]\n    en: [temporary disk]\n")
        write(
            content_dir / "articles" / "agent" / "ja.md",
            "---\ntitle: エージェント\n---\nエージェントが停止しています。\n",
        )
        assert run(content_dir).ok
        return content_dir

    def hostile(self, site, kind, value):
        """Write ``value`` into a file of ``kind``; return (path, line of the value)."""
        if kind == "glossary":
            path = site / "glossary.yaml"
            path.write_text(path.read_text(encoding="utf-8") + f"  - ja: [再起動]\n    en: {value}\n", encoding="utf-8")
        elif kind == "rules":
            path = site / "staleness.yaml"
            rule = f"  - id: hostile\n    type: tag\n    severity: info\n    message: {{ja: x, en: x}}\n    tags: {value}\n"
            path.write_text(path.read_text(encoding="utf-8") + rule, encoding="utf-8")
        elif kind == "tree":
            path = write(site / "wizard" / "hostile.yaml", f"start: q\nnodes: {{}}\ntitle: {{ja: x, en: {value}}}\n")
        else:
            path = write(site / "articles" / "hostile" / "ja.md", f"---\ntitle: 題\ntags: {value}\n---\n本文\n")
            return path, 3
        return path, lines_of(path)

    @pytest.mark.parametrize("kind", ["glossary", "rules", "tree", "front matter"])
    @pytest.mark.parametrize(("value", "words"), [(alias_bomb(7), "anchor &l0"), ("[&r restart, *r]", "anchor &r")])
    def test_an_alias_is_refused_with_its_file_and_line_and_nothing_is_written(self, site, kind, value, words):
        before = sorted(Revision.objects.values_list("article__slug", "lang", "number"))
        path, line = self.hostile(site, kind, value)
        report = run(site)
        assert [(p.path, p.line) for p in report.problems] == [(path, line)]
        message = str(report.problems[0])
        assert words in message and "not allowed" in message and len(message) < 300
        assert sorted(Revision.objects.values_list("article__slug", "lang", "number")) == before
        assert Glossary.objects.get(is_current=True).number == 1

    def test_a_problem_in_a_large_written_out_value_is_reported_as_an_excerpt(self, site):
        nested = "[" * 7 + ", ".join(f"form-{n:05}" for n in range(20_000)) + "]" * 7
        path, line = self.hostile(site, "glossary", nested)
        (problem,) = run(site).problems
        assert (problem.path, problem.line) == (path, line) and len(problem.message) <= MAX_MESSAGE
        assert problem.message.startswith("entry 2: [[[[[['form-00000', ")
