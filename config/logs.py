"""Structured logs: one JSON object per line, every line of a request carrying its request id.

The id is the ``X-Request-ID`` the proxy in front sent (nginx sets it, see
deploy/nginx/kb.conf.template) when ``KB_TRUST_REQUEST_ID`` is on, else a new one; the
response carries it back, so a visitor's "it was slow at 10:02" and a proxy's log line lead to
the application's lines. A line per request (``request``) gives the method, the path without
its query string, the view's name, the status and the time taken.

Only named fields are written: never a query string, a pasted text, an address, nor an
attribute a library attached to a record (Django's ``request``, whose text holds the query).
"""

import contextvars
import logging
import re
import time
import uuid

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from pythonjsonlogger.json import JsonFormatter as LibraryJsonFormatter

request_id = contextvars.ContextVar("request_id", default="")
logger = logging.getLogger("kb.requests")

VALID_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
FIELDS = {"time", "level", "logger", "message", "request_id", "method", "path", "view", "status", "ms"}
FIELDS |= {"exc_info", "stack_info"}


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (empty outside a request) on every record."""

    def filter(self, record):
        record.request_id = request_id.get()
        return True


class JsonFormatter(LibraryJsonFormatter):
    """python-json-logger's formatter, keeping only ``FIELDS``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")  # ISO 8601, UTC
        kwargs.setdefault("json_ensure_ascii", False)  # Japanese messages stay readable
        super().__init__("%(levelname)s %(name)s %(message)s %(request_id)s", *args, **kwargs)

    def add_fields(self, log_data, record, message_dict):
        super().add_fields(log_data, record, message_dict)
        for key in [key for key in log_data if key not in FIELDS]:
            del log_data[key]


def incoming_id(request) -> str:
    given = request.headers.get("X-Request-ID", "")
    if settings.KB_TRUST_REQUEST_ID and VALID_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in the chain: the id is set before anything logs, and the request's line is
    written after everything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Kept until the response is finished (``forget_request_id``): Django logs an error
        # response's line after the middleware has returned it.
        request_id.set(incoming_id(request))
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id.get()
        match = request.resolver_match
        logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "view": match.view_name if match else "",
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response


@receiver(request_finished)
def forget_request_id(sender, **kwargs):
    request_id.set("")


def logging_config(level: str, json_lines: bool) -> dict:
    """settings.LOGGING: JSON lines on stderr (or plain text for a person at a terminal)."""
    formatter = (
        {"()": "config.logs.JsonFormatter"}
        if json_lines
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "config.logs.RequestIdFilter"}},
        "formatters": {"main": formatter},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "main", "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": level},
        # One line per request: the access log. Django's dev server writes its own, with the
        # query string: not kept.
        "loggers": {
            "kb.requests": {"level": "INFO"},
            "django.server": {"handlers": [], "propagate": False},
        },
    }
