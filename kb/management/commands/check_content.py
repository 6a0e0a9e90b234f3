from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kb import importer


class Command(BaseCommand):
    help = "Validate content/ (articles, wizard trees, staleness rules) without writing anything."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="content/ (default) or other folders")

    def handle(self, *args, paths=(), **options):
        plan = importer.build_plan(paths or [settings.CONTENT_DIR])
        for warning in plan.warnings:
            self.stderr.write(self.style.WARNING(f"warning {warning}"))
        for problem in plan.problems:
            self.stderr.write(self.style.ERROR(f"error {problem}"))
        if plan.problems:
            raise CommandError(f"{len(plan.problems)} problem(s)")
        read = [kind.describe(plan) for kind in importer.kinds()]
        self.stdout.write(self.style.SUCCESS(f"valid: {', '.join(part for part in read if part)}"))
