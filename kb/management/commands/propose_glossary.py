from django.core.management.base import BaseCommand

from kb import glossary, glossary_proposals


class Command(BaseCommand):
    help = (
        "Propose glossary pairs from the translated articles' aligned titles and headings, as YAML "
        "entries to trim and copy into content/glossary.yaml (pairs the glossary knows are left out)."
    )

    def handle(self, *args, **options):
        found = list(glossary_proposals.proposals(glossary.current_bridge()))
        for proposal in found:
            self.stdout.write(proposal.as_yaml())
        self.stderr.write(f"{len(found)} pairs proposed")
