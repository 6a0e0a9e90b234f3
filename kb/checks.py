"""Deployment checks (``manage.py check --deploy``)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def limits_per_process(app_configs=None, **kwargs):
    if settings.REDIS_URL or settings.KB_WORKERS <= 1:
        return []
    return [
        checks.Warning(
            f"REDIS_URL is not set and WEB_CONCURRENCY is {settings.KB_WORKERS}: the request limits "
            "(search, API, search log, votes) are counted per process, so a client gets that many "
            "times the limit.",
            hint="Set REDIS_URL to share the limits between processes and machines.",
            id="kb.W001",
        )
    ]
