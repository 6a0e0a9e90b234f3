import time

from django.core.management.base import BaseCommand

from kb import search


class Command(BaseCommand):
    help = "Recreate the search index from the database (the index is derived data)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--procs",
            type=int,
            default=0,
            help="indexing processes (default: one per CPU, at most 4, from 2,000 texts up)",
        )

    def handle(self, *args, procs=0, **options):
        started = time.perf_counter()
        count = search.rebuild(procs=procs)
        self.stdout.write(f"indexed {count} texts in {time.perf_counter() - started:.1f} s")
