"""Site-wide request and response policy: only configured hosts and ports, no control
character in a path and no NUL in a parameter, a Permissions-Policy (the one security header neither Django nor
django-csp sends), and a calm 503 when the database is away."""

import re

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import InterfaceError, OperationalError
from django.http import QueryDict
from django.http.request import split_domain_port
from django.shortcuts import render
from django.utils import translation

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()"


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class DatabaseUnavailableMiddleware:
    """Turn a lost database connection into a 503 page in the visitor's language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
        with translation.override(language):
            response = render(request, "503.html", status=503)
        response["Retry-After"] = "30"
        return response


class HostPortMiddleware:
    """Django checks the Host header's name and ignores its port. A port passes only when
    DJANGO_ALLOWED_HOSTS names it with the host (``kb.example.com:8443``); a host listed
    without a port takes requests that name none (as a proxy in front sends them)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.DEBUG:
            domain, port = split_domain_port(request.get_host())  # DisallowedHost (a 400) for an unknown name
            ports = settings.KB_ALLOWED_PORTS.get(domain, ())
            if port and port not in ports and "*" not in ports:
                raise DisallowedHost(f"port {port} is not configured for {domain} in DJANGO_ALLOWED_HOSTS")
        return self.get_response(request)


CONTROL_IN_PATH = re.compile(r"[\x00-\x1f\x7f]")


class ControlCharacterMiddleware:
    """A path with a control character names nothing: the 404 page, before any view looks it
    up. A NUL in a parameter, which PostgreSQL can neither store nor compare, is dropped: it
    cannot mean anything. Other control characters in parameters are the views' to read (a
    pasted log holds tabs and newlines)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if CONTROL_IN_PATH.search(request.path):
            language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
            with translation.override(language):
                return render(request, "404.html", status=404)
        if has_nul(request.GET):
            request.GET = without_nul(request.GET)
        if request.method == "POST" and has_nul(request.POST):
            request.POST = without_nul(request.POST)
        return self.get_response(request)


def has_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query.lists())


def without_nul(query):
    cleaned = QueryDict(mutable=True)
    for key, values in query.lists():
        cleaned.setlist(key.replace("\x00", ""), [value.replace("\x00", "") for value in values])
    cleaned._mutable = False
    return cleaned
