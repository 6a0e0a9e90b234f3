from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language


def language_switch(request):
    """Links to the same page in every other language, query string kept."""
    current = get_language()
    query = request.META.get("QUERY_STRING", "")
    suffix = f"?{query}" if query else ""
    links = [
        {"code": code, "name": name, "url": translate_url(request.path, code) + suffix}
        for code, name in settings.LANGUAGES
        if code != current
    ]
    return {"language_links": links}
