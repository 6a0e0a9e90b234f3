"""The jobs that must run every day (``manage.py daily``), so that no truth decays waiting
for someone to import or to run a report:

- the flags time alone raises (an article crossing its age threshold, a review falling due),
  recomputed with the day's date;
- the search log's old days rolled up into months;
- the counts this process gathered written to the database;
- this node's search index checked against the database, and rebuilt when they disagree.

The first three change the shared database: they run once per day however many nodes start
the job (``kb.jobs``: a row in the database is the lock). The index is each node's own, so
every node checks its own. Each step says what it changed, in one line.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings

from kb import caching, counters, jobs, search, search_log, staleness, staleness_flags
from kb.models import ImportRun
from kb.search.index import index_dir, indexable_count, open_index, read_marker

JOB = "daily"


@dataclass
class Outcome:
    lines: list = field(default_factory=list)
    done_elsewhere: str = ""  # "done" or "running" when another process had the day's run


def run(today: dt.date, *, again: bool = False, index: bool = True) -> Outcome:
    """The day's jobs as of ``today``: the shared ones unless another process has them, then
    this node's index (unless ``index`` is False: a job with no index of its own, such as a
    Kubernetes CronJob's pod). Raises on failure (after recording it: the next run takes over)."""
    outcome = Outcome()
    claim = jobs.claim(JOB, today.isoformat(), again=again)
    if claim.run is None:
        outcome.done_elsewhere = claim.why_not
        outcome.lines.append(
            f"shared jobs for {today}: {'already done' if claim.why_not == 'done' else 'running in another process'}"
        )
    else:
        try:
            summary = shared_jobs(today, outcome.lines)
        except Exception as exc:
            jobs.finish(claim.run, ok=False, summary={"error": f"{type(exc).__name__}: {exc}"})
            raise
        jobs.finish(claim.run, ok=True, summary=summary)
    if index:
        outcome.lines.append(check_index())
    return outcome


def shared_jobs(today: dt.date, lines: list) -> dict:
    rules = staleness.load_rules(settings.CONTENT_DIR / staleness_flags.RULES_FILE)
    changes = staleness_flags.refresh_time_flags(rules, today)
    lines.append(describe_flags(today, changes))
    if any(changes.values()):
        # Pages show flags and are cached by content version: a new version shows the new flags.
        ImportRun.objects.create(changed_slugs=[], summary={"daily": today.isoformat()})
        caching.publish_content_version()
    rolled = search_log.roll_up()
    lines.append(f"search log: {rolled} day rows older than {search_log.ROLL_UP_DAYS} days merged into months")
    written = counters.flush()
    lines.append(f"counters: {written} rows written")
    return {kind: len(found) for kind, found in changes.items()} | {"rolled_up": rolled, "counters": written}


def describe_flags(today, changes) -> str:
    if not any(changes.values()):
        return f"time-based flags as of {today}: no change"
    parts = [
        f"{kind} " + ", ".join(f"{rule} on {slug} ({lang})" for slug, lang, rule in found)
        for kind, found in changes.items()
        if found
    ]
    return f"time-based flags as of {today}: " + "; ".join(parts)


def check_index() -> str:
    """Apply what the index has not seen yet, then compare its documents with the texts the
    database says are searchable; rebuild when they disagree. A rebuild is made next to the
    live index and swapped in: searches go on meanwhile."""
    applied = search.catch_up(force=True, wait=True)
    directory = index_dir()
    expected = indexable_count()
    documents = open_index().doc_count()
    caught_up = f"import run {read_marker(directory)} applied" + (
        f" ({applied} articles re-indexed)" if applied > 0 else ""
    )
    if documents == expected:
        return f"index: {documents} documents for {expected} texts, {caught_up}: sound"
    rebuilt = search.rebuild()
    return f"index: {documents} documents for {expected} texts: rebuilt with {rebuilt}"
