"""Per-client request limits, counted in the shared cache (kb.shared): one limit across
processes and machines when Redis is configured, per process otherwise.

A limit is a number of requests per client in a fixed window of a minute. Over it, the
client gets a 429 with ``Retry-After`` (the seconds left in the window) until the window ends.
"""

import math
import time
from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

from kb import shared
from kb.clients import client_key

WINDOW_SECONDS = 60
ONCE_SECONDS = 3600  # "one event per visitor and query": within this long


def retry_after(request, scope: str, per_minute: int | None) -> int | None:
    """Count this request; the seconds to wait when the client is over ``per_minute``."""
    if not per_minute:
        return None
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = f"rate:{scope}:{window}:{client_key(request)}"
    if shared.incr(key, 1, WINDOW_SECONDS + 1) <= per_minute:
        return None
    return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))


def first_time(request, *what: str) -> bool:
    """True the first time this client sends ``what`` within ONCE_SECONDS."""
    return shared.add(f"once:{client_key(request, *what)}", 1, ONCE_SECONDS)


def too_many(request, seconds: int, json=False):
    message = f"too many requests; try again in {seconds} seconds"
    if json:
        response = JsonResponse({"error": message}, status=429)
    else:
        response = render(request, "429.html", {"seconds": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def limited(scope: str, setting: str, json=False):
    """Refuse a client's requests to the view beyond ``settings.<setting>`` a minute."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            seconds = retry_after(request, scope, getattr(settings, setting))
            if seconds is not None:
                return too_many(request, seconds, json=json)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
