import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kb import daily
from kb.importer import failure_cause


class Command(BaseCommand):
    help = (
        "The daily jobs: time-based flags, the search log's roll-up, counters, and this node's index. "
        "Safe on every node at once: the shared jobs run once per day."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", type=dt.date.fromisoformat, help="as of this day (YYYY-MM-DD; default: today in TIME_ZONE)"
        )
        parser.add_argument("--again", action="store_true", help="run the shared jobs even if done for that day")
        parser.add_argument(
            "--no-index", action="store_true", help="leave out this node's index (a job that has none of its own)"
        )

    def handle(self, *args, date=None, again=False, no_index=False, **options):
        today = date or timezone.localdate()
        try:
            outcome = daily.run(today, again=again, index=not no_index)
        except Exception as exc:
            raise CommandError(f"daily jobs for {today} failed: {failure_cause(exc)}") from exc
        for line in outcome.lines:
            self.stdout.write(line)
