"""Deployment checks (``manage.py check --deploy``)."""

import os

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


@checks.register(checks.Tags.security, deploy=True)
def metrics_per_process(app_configs=None, **kwargs):
    if not settings.KB_METRICS or settings.KB_WORKERS <= 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return []
    return [
        checks.Warning(
            f"PROMETHEUS_MULTIPROC_DIR is not set and WEB_CONCURRENCY is {settings.KB_WORKERS}: each scrape of "
            "/metrics shows the counts of whichever worker answers it.",
            hint="Set PROMETHEUS_MULTIPROC_DIR to an empty folder made at each start (scripts/serve.sh and "
            "deploy/systemd/kb.service do).",
            id="kb.W002",
        )
    ]
