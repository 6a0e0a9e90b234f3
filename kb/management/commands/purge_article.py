import getpass

from django.core.management.base import BaseCommand, CommandError

from kb import languages, search
from kb.purging import PurgeError, purge


class Command(BaseCommand):
    help = (
        "Delete a text and every revision of it for good (or the whole article without --lang), "
        "keeping an audit line of who purged what and why; drops it from search and cached pages."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--lang", choices=languages.codes(), help="one language only (default: the whole article)")
        parser.add_argument("--reason", required=True, help="why: kept in the audit line (the text is not)")
        parser.add_argument("--by", default=None, help="who purges (default: the OS user)")

    def handle(self, *args, slug, lang=None, reason="", by=None, **options):
        try:
            record = purge(slug, lang, reason=reason, by=by or os_user())
        except PurgeError as exc:
            raise CommandError(f"nothing was purged: {exc}") from exc
        what = f"the {lang} text of {slug!r}" if lang else f"article {slug!r}"
        self.stdout.write(self.style.SUCCESS(f"purged {what}: {record.revisions} revision(s), audit line #{record.pk}"))
        # This node's index is rebuilt so that no file of it keeps the text (a deletion
        # only marks it deleted); the other nodes drop it from their results at once.
        search.catch_up(force=True, wait=True)
        search.rebuild()


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError) as exc:  # no login name in this environment
        raise CommandError("cannot tell who you are: say it with --by") from exc
