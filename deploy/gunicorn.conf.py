"""gunicorn behind nginx (scripts/serve.sh, deploy/systemd/kb.service): the access log
without query strings or referrers, which hold what visitors search and paste (see
kb/search_log.py); each worker's metrics kept in PROMETHEUS_MULTIPROC_DIR (kb/metrics.py)."""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# No access log of gunicorn's own: the application writes one JSON line per request, with its
# request id and without the query string or the client's address (config/logs.py); gunicorn's
# own messages are JSON lines too.
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
    "filters": {"request_id": {"()": "config.logs.RequestIdFilter"}},
    "handlers": {
        "error_console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"level": "WARNING", "handlers": []},  # the application configures its own (settings.LOGGING)
    "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False}},
}


def child_exit(server, worker):
    """A worker that ended: its live gauges leave the scrape (its counters stay counted)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
