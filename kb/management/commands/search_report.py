from django.core.management.base import BaseCommand

from kb import counters, search_log


class Command(BaseCommand):
    help = "What people search and do not find (the editor page's two lists); --roll-up merges old days."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=search_log.REPORT_DAYS, help="look back this many days")
        parser.add_argument("--limit", type=int, default=50)
        parser.add_argument(
            "--roll-up",
            action="store_true",
            help=f"first merge days older than {search_log.ROLL_UP_DAYS} into one row per month (run it nightly)",
        )

    def handle(self, *args, days, limit, roll_up, **options):
        counters.flush()
        if roll_up:
            self.stdout.write(f"rolled up {search_log.roll_up()} old rows")
        for title, rows in (
            ("searches that find nothing", search_log.not_found(days, limit)),
            ("searches where nobody opens a result", search_log.not_opened(days, limit)),
        ):
            self.stdout.write(self.style.MIGRATE_HEADING(f"{title} (last {days} days)"))
            for row in rows:
                self.stdout.write(f"{row['count']:>6}  {row['lang']:<3} {row['query']}")
            if not rows:
                self.stdout.write("     -")
