"""Who a request comes from, as far as limits are concerned."""

import hashlib

from django.conf import settings


def client_address(request) -> str:
    """The client's address as seen through ``settings.KB_TRUSTED_PROXIES`` proxies: the
    address each of them added to X-Forwarded-For is trusted, anything before is not."""
    proxies = settings.KB_TRUSTED_PROXIES
    if proxies <= 0:
        return request.META.get("REMOTE_ADDR", "")
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    chain = forwarded + [request.META.get("REMOTE_ADDR", "")]
    return chain[-proxies - 1] if len(chain) > proxies else chain[0]


def client_key(request, *more: str) -> str:
    """A key for this client (and ``more``) that keeps no address in the cache."""
    return hashlib.sha256("\n".join((client_address(request), *more)).encode()).hexdigest()
