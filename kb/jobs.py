"""Jobs that must run once however many nodes start them (every node's timer starts the daily
job): the first process to insert the (job, key) row of ``JobRun`` runs it; the unique
constraint is the lock, in the database every node shares, on SQLite and PostgreSQL alike.

A run that failed, or whose process died before it finished (``STALE_AFTER`` with no end), is
taken over by the next process that asks, one of them only (a compare-and-set on its start).
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from kb.models import JobRun

logger = logging.getLogger(__name__)
STALE_AFTER = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Claim:
    run: JobRun | None  # this process's run, or None when another process has it
    why_not: str = ""  # "done" or "running" when ``run`` is None


def claim(job: str, key: str, *, again: bool = False) -> Claim:
    """This process's run of ``job`` for ``key``, unless another process finished it (and
    ``again`` is False) or is running it now."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return Claim(JobRun.objects.create(job=job, key=key, started_at=now))
    except IntegrityError:
        pass
    found = JobRun.objects.get(job=job, key=key)
    if found.ok and not again:
        return Claim(None, "done")
    if found.finished_at is None and now - found.started_at < STALE_AFTER:
        return Claim(None, "running")
    taken = JobRun.objects.filter(pk=found.pk, started_at=found.started_at).update(
        started_at=now, finished_at=None, ok=None, summary={}
    )
    if not taken:  # another process took it over first
        return Claim(None, "running")
    found.refresh_from_db()
    return Claim(found)


def finish(run: JobRun, *, ok: bool, summary: dict):
    run.finished_at, run.ok, run.summary = timezone.now(), ok, summary
    run.save(update_fields=["finished_at", "ok", "summary"])


def record(job: str, *, ok: bool, summary: dict):
    """The outcome of a job that runs whenever someone starts it (an import): one row, the last."""
    now = timezone.now()
    try:
        JobRun.objects.update_or_create(
            job=job, key="last", defaults={"started_at": now, "finished_at": now, "ok": ok, "summary": summary}
        )
    except DatabaseError:
        logger.exception("could not record the outcome of %s", job)


def last(job: str) -> JobRun | None:
    return JobRun.objects.filter(job=job, finished_at__isnull=False).order_by("-finished_at").first()
