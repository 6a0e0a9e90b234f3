import pytest

from kb.rendering import render
from kb.sources import parse_file
from tests.conftest import CONTENT

SEED_ARTICLES = CONTENT / "articles"


def seed(slug, lang="ja"):
    doc = parse_file(SEED_ARTICLES / slug / f"{lang}.md", slug=slug, lang=lang, strict=True)
    return render(doc.body, slug=slug, lang=lang)


def test_the_scenario_table_of_vmagent_notready_is_a_table():
    html = seed("vmagent-notready").html
    assert "<table>" in html and "<th>" in html
    assert html.count("<tr>") >= 5


def test_the_warning_banner_of_the_2016_article_is_an_alert_box():
    html = seed("vm-stuck-in-updating-when-nsg-rule-restricts-outbound-internet-connectivity").html
    assert '<div class="admonition warning">' in html
    assert '<p class="admonition-title">警告</p>' in html
    assert "[!WARNING]" not in html


def test_the_english_alert_keeps_its_english_title():
    html = seed("vm-stuck-in-updating-when-nsg-rule-restricts-outbound-internet-connectivity", "en").html
    assert '<p class="admonition-title">Warning</p>' in html


def test_fenced_code_is_highlighted_and_placeholders_stay_visible():
    rendered = render(
        "```powershell\nGet-AzVM -Name <name>\n```\n\nRun `Get-AzureRmVM -name <name>` or Get-AzureRmVM -name <vmname> -status"
    )
    assert '<div class="highlight">' in rendered.html
    assert "&lt;vmname&gt;" in rendered.html  # a placeholder outside code is text, not a tag


def test_code_blocks_are_focusable_named_regions_numbered_when_there_are_several():
    # axe's scrollable-region-focusable: a block that scrolls sideways is reached by Tab and
    # named; as regions, two blocks of one text must not share a name (landmark-unique).
    one = render("```\nsudo waagent -version\n```", lang="en").html
    assert '<pre tabindex="0" role="region" aria-label="Code block">' in one
    two = render("```\nls\n```\n\ntext\n\n    indented code\n", lang="ja").html
    assert '<pre tabindex="0" role="region" aria-label="コードブロック 1">' in two
    assert '<pre tabindex="0" role="region" aria-label="コードブロック 2">' in two
    assert "<pre>" not in two
    assert "<pre" not in render("no code here", lang="en").html


def test_every_heading_has_an_id_and_japanese_ids_stay_japanese():
    rendered = seed("vmagent-notready")
    ids = [h["id"] for h in rendered.headings]
    assert "シナリオ1--仮想マシンエージェントが停止している" in ids
    assert len(ids) == len(set(ids)) == 13
    for heading in rendered.headings:
        assert f'id="{heading["id"]}"' in rendered.html


def test_missing_images_show_their_alt_text_or_file_name():
    rendered = render("![NSG の設定画面](./images/nsg.png)\n\n![](./vm/NSG2.png)", slug="no-such-article")
    assert "<img" not in rendered.html
    assert '<span class="image-missing">[NSG の設定画面]</span>' in rendered.html
    assert "[NSG2.png]" in rendered.html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        '<iframe src="https://example.com"></iframe>',
        '<div style="background:url(javascript:alert(1))" onclick="alert(1)">x</div>',
        "<svg onload=alert(1)>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "```\n</code><script>alert(1)</script>\n```",
    ],
)
def test_script_payloads_are_removed(payload):
    tags = elements(render(payload).html)
    assert not {"script", "iframe", "svg", "math", "style"} & {tag for tag, _attrs in tags}
    for _tag, attrs in tags:
        assert not [name for name, _ in attrs if name.startswith("on") or name == "style"]
        assert not [value for _, value in attrs if value and "javascript:" in value.lower()]


def elements(html):
    """(tag, attributes) of every element a browser would build from the HTML."""
    from html.parser import HTMLParser

    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_plain_urls_become_links():
    html = render("参照: https://learn.microsoft.com/azure/virtual-machines/").html
    assert '<a href="https://learn.microsoft.com/azure/virtual-machines/"' in html
