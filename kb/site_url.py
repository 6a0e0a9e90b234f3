"""Absolute links the site writes (ticket permalinks, the API's ``url``), from
``settings.KB_SITE_URL``: a request's Host header never reaches a page another visitor sees."""

from django.conf import settings


def absolute_url(path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    return settings.KB_SITE_URL + "/" + path.lstrip("/")
