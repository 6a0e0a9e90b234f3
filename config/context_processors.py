from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language

from kb.site_url import absolute_url


def language_switch(request):
    """Links to the same page in every other language, query string kept. Every page's path
    starts with its language (/ja/…), and no path is translated, so a link swaps the prefix
    (translate_url, which resolves and reverses, is for any other path)."""
    current = get_language()
    query = request.META.get("QUERY_STRING", "")
    suffix = f"?{query}" if query else ""
    prefix = f"/{current}/"
    links = []
    for code, name in settings.LANGUAGES:
        if code == current:
            continue
        if request.path.startswith(prefix):
            path = f"/{code}/{request.path[len(prefix) :]}"
        else:
            path = translate_url(request.path, code)
        links.append({"code": code, "name": name, "url": path + suffix})
    return {"language_links": links}


def canonical(request):
    """The page's own address, absolute, for <link rel="canonical"> (a page about one text,
    such as an article shown in another language, names that text's address instead)."""
    return {"canonical_url": absolute_url(request.get_full_path())}
