from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from kb import importer


class Command(BaseCommand):
    help = "Validate content/ (articles, wizard trees, staleness rules, glossary) without writing anything."
    requires_system_checks = []  # a content check: it must work while the code around it changes

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="content/ (default) or other folders")

    def handle(self, *args, paths=(), **options):
        try:
            plan = importer.build_plan(paths or [settings.CONTENT_DIR])
        except DatabaseError as exc:
            raise CommandError(f"the database is not ready ({exc}): run `manage.py migrate` first") from exc
        except Exception as exc:
            raise CommandError(f"cannot check the content: {importer.failure_cause(exc)}") from exc
        for warning in plan.warnings:
            self.stderr.write(self.style.WARNING(f"warning {warning}"))
        for problem in plan.problems:
            self.stderr.write(self.style.ERROR(f"error {problem}"))
        if plan.problems:
            raise CommandError(f"{len(plan.problems)} problem(s)")
        read = [kind.describe(plan) for kind in importer.kinds()]
        self.stdout.write(self.style.SUCCESS(f"valid: {', '.join(part for part in read if part)}"))
