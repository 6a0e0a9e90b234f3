"""gunicorn behind nginx (scripts/serve.sh, deploy/systemd/kb.service): the access log
without query strings or referrers, which hold what visitors search and paste (see
kb/search_log.py); each worker's metrics kept in PROMETHEUS_MULTIPROC_DIR (kb/metrics.py)."""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"
access_log_format = '%({x-forwarded-for}i)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)s'


def child_exit(server, worker):
    """A worker that ended: its live gauges leave the scrape (its counters stay counted)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
