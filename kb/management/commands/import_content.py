from collections import Counter

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError

from kb import importer, jobs, search


class Command(BaseCommand):
    help = "Import articles, wizard trees and staleness rules from content/ or a folder of posts."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="content/ (default), a blog folder, or files")
        parser.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
        parser.add_argument("--no-index", action="store_true", help="leave the search index alone")
        parser.add_argument(
            "--allow-purged",
            action="append",
            default=[],
            metavar="SLUG",
            help="import again on purpose a text that manage.py purge_article removed (repeatable)",
        )

    def handle(self, *args, paths=(), dry_run=False, no_index=False, allow_purged=(), verbosity=1, **options):
        paths = paths or [settings.CONTENT_DIR]
        try:
            report = importer.run_import(paths, dry_run=dry_run, allow_purged=allow_purged)
        except OperationalError as exc:
            raise CommandError(f"the database is busy or unavailable ({exc}); is another import running?") from exc
        except Exception as exc:  # the transaction rolled back: say so instead of a bare traceback
            jobs.record("import", ok=False, summary={"problems": 1, "warnings": 0})
            raise CommandError(f"nothing was imported: {importer.failure_cause(exc)}") from exc
        if not dry_run:
            jobs.record(
                "import", ok=report.ok, summary={"problems": len(report.problems), "warnings": len(report.warnings)}
            )
        for warning in report.warnings:
            if verbosity >= 1:
                self.stderr.write(self.style.WARNING(f"warning {warning}"))
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(self.style.ERROR(f"error {problem}"))
            raise CommandError(f"{len(report.problems)} problem(s): nothing was imported")
        if verbosity >= 1:
            for result in report.results:
                self.stdout.write(str(result))
        self.print_summary(report)
        if not dry_run and not no_index:
            search.catch_up(force=True, wait=True)

    def print_summary(self, report):
        counts = Counter(result.status for result in report.results)
        statuses = ("new", "updated", "unchanged", "removed", "withdrawn", "restored")
        parts = [f"{counts[s]} {s}" for s in statuses if counts[s]]
        prefix = "dry run, nothing written: " if report.dry_run else ""
        self.stdout.write(self.style.SUCCESS(prefix + (", ".join(parts) or "nothing to import")))
        if report.warnings:
            self.stdout.write(f"{len(report.warnings)} warning(s)")
        for level, text in report.notes:
            self.stdout.write(self.style.WARNING(text) if level == "warning" else text)
