"""Every view declares the methods it serves: the URL conf is walked, and each of our views
refuses the methods it does not serve with 405 (a POST to a page is not answered as a GET)."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# What each view serves, written from what it is for: pages are read (GET, and HEAD which
# Django answers as GET without the body); only these take a form or a beacon.
SERVES = {
    "wizard:paste": {"POST"},  # the paste box's form
    "search_log": {"POST"},  # the browser's beacon after a search
    "wizard:feedback": {"GET", "HEAD", "POST"},  # the vote form, and the vote
}
PAGES = {"GET", "HEAD"}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
SAMPLES = {"slug": "x", "lang": "ja", "number": 1, "path": "a.png", "tree": "t", "node": "n"}


def our_routes(resolver=None, namespace=""):
    """(name, route kwargs) of every named view in the URL conf but the admin's."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name != "admin":
                inner = f"{entry.namespace}:" if entry.namespace else namespace
                yield from our_routes(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name, {key: SAMPLES[key] for key in entry.pattern.converters}


def test_the_walk_finds_the_views_of_both_apps():
    names = {name for name, _kwargs in our_routes()}
    assert {"kb:home", "kb:search", "kb:article", "wizard:step", "wizard:result", "api_search"} <= names
    assert set(SERVES) <= names


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs"), list(our_routes()), ids=lambda value: str(value))
def test_each_view_refuses_the_methods_it_does_not_serve(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    serves = SERVES.get(name, PAGES)
    for method in METHODS:
        status = client.generic(method, url).status_code
        if method in serves:
            assert status != 405, (method, url)
        else:
            assert status == 405, (method, url, status)
