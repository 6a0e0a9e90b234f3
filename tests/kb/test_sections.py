"""A search hit links to the section its snippet comes from (kb.sections): the heading above
the first marked words, found again in the rendered text; the article's top otherwise."""

import re

import pytest

from kb import sections
from tests.conftest import article_file, run

BODY = """Opening words about disks.

## Before you start

Check the subscription first.

## Resize the disk

Stop the VM, then resize the managed disk with `az disk update`.

### When the resize fails

The error AllocationFailed means the cluster has no room & must be changed.
"""


@pytest.fixture
def sectioned_article(content_dir, db):
    sections.forget()
    article_file(content_dir, "disk-howto", "en", title="Disk how-to", body=BODY)
    assert run(content_dir).ok
    yield
    sections.forget()


def hit_links(client, query):
    body = client.get(f"/en/search/?q={query}").content.decode()
    return re.findall(r'class="result-title"><a href="(/en/articles/disk-howto/[^"]*)"', body), body


@pytest.mark.usefixtures("sectioned_article")
@pytest.mark.parametrize(
    ("query", "link"),
    [
        ("subscription", "/en/articles/disk-howto/#before-you-start"),
        ("managed", "/en/articles/disk-howto/#resize-the-disk"),
        ("AllocationFailed", "/en/articles/disk-howto/#when-the-resize-fails"),  # a level-3 heading
        ("cluster+room", "/en/articles/disk-howto/#when-the-resize-fails"),  # past an escaped "&"
        ("opening", "/en/articles/disk-howto/"),  # above the first heading: the article's top
    ],
)
def test_a_hit_links_to_the_heading_above_its_first_marked_words(client, query, link):
    links, body = hit_links(client, query)
    assert links == [link]
    if "#" in link:
        assert "Section: <span" in body


@pytest.mark.usefixtures("sectioned_article")
def test_the_live_partial_links_to_the_section_too_and_the_anchor_exists_on_the_article(client):
    partial = client.get("/en/search/?q=AllocationFailed", headers={"HX-Request": "true"}).content.decode()
    assert 'href="/en/articles/disk-howto/#when-the-resize-fails"' in partial
    article = client.get("/en/articles/disk-howto/").content.decode()
    assert 'id="when-the-resize-fails"' in article


def test_a_snippet_that_is_not_found_again_links_to_the_top():
    text, starts = sections.sectioned(
        '<p>One</p>\n<h2 id="two">Two</h2>\n<p>Three four</p>', [{"id": "two", "text": "Two", "level": 2}]
    )
    assert text == "One Two Three four" and starts == [(0, None), (4, {"id": "two", "text": "Two", "level": 2})]

    class Hit:
        slug, lang, revision = "none", "en", 1
        snippet = "no <mark>such</mark> words"

    sections._sections[("none", "en", 1)] = (text, starts)
    try:
        assert sections.heading_of(Hit) is None
        Hit.snippet = "Three <mark>four</mark>"
        assert sections.heading_of(Hit)["id"] == "two"
        Hit.snippet = "unmarked text"
        assert sections.heading_of(Hit) is None
    finally:
        sections.forget()


@pytest.mark.django_db
def test_a_pages_hits_have_their_sections_read_in_one_query(seeds, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sections.forget()
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/en/search/", {"q": "VM"}).content.decode()
    assert page.count('class="result"') > 3 and "#" in re.search(r'class="result-title"><a href="([^"]+)"', page)[1]
    assert len([q for q in queries if '"headings"' in q["sql"]]) == 1
