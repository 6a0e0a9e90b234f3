"""gunicorn behind nginx (scripts/serve.sh): the access log without query strings or
referrers, which hold what visitors search and paste (see kb/search_log.py)."""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"
access_log_format = '%({x-forwarded-for}i)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)s'
