import json

from django.core.management.base import BaseCommand

from kb import languages, reports


class Command(BaseCommand):
    help = "List flagged articles (what the editor page shows) as a table or --json."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json")
        parser.add_argument("--sort", choices=["severity", "code", "age", "slug"], default="severity")
        parser.add_argument("--lang", choices=languages.codes(), default="en", help="language of the reasons")

    def handle(self, *args, as_json, sort, lang, **options):
        rows = reports.flagged_rows(sort)
        coverage = reports.coverage()
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "coverage": coverage,
                        "flagged": [
                            {
                                "slug": row["article"].slug,
                                "lang": row["revision"].lang,
                                "revision": row["revision"].number,
                                "published": row["published"].date().isoformat() if row["published"] else None,
                                "flags": [
                                    {
                                        "rule": f.rule_id,
                                        "code": f.code,
                                        "severity": f.severity,
                                        "reason": f.reason(lang),
                                    }
                                    for f in row["flags"]
                                ],
                            }
                            for row in rows
                        ],
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        for row in rows:
            self.stdout.write(f"{row['article'].slug} {row['revision'].lang} r{row['revision'].number}")
            for flag in row["flags"]:
                self.stdout.write(f"    {flag.severity:<8} {flag.rule_id:<26} {flag.reason(lang)}")
        for figure in coverage:
            self.stdout.write(
                f"coverage {figure['lang']}: {figure['up_to_date']}/{figure['total']} current ({figure['percent']} %)"
            )
