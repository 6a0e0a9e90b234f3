import json

from django.core.management.base import BaseCommand, CommandError

from kb import languages, reports, search
from kb.forms import search_params


class Command(BaseCommand):
    help = "Search the articles like the site does; --json prints what /api/search returns."

    def add_arguments(self, parser):
        parser.add_argument("query")
        parser.add_argument("--lang", choices=[*languages.codes(), "all"], default="all")
        parser.add_argument("--limit", type=int, default=10)
        parser.add_argument("--json", action="store_true", dest="as_json")
        parser.add_argument("--as-typed", action="store_true", help="do not correct words no text holds")

    def handle(self, *args, query, lang, limit, as_json, as_typed, **options):
        params = search_params({"q": query, "lang": lang, "limit": limit, "as_typed": as_typed})
        try:
            payload = reports.search_payload(params, request=None)
        except search.SearchUnavailable as exc:
            raise CommandError(f"search is unavailable: {exc}") from exc
        if as_json:
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        if payload["corrected"]:
            self.stdout.write(f"showing results for {payload['corrected']!r} (--as-typed: for {payload['query']!r})")
        self.stdout.write(f"{payload['total']} result(s) for {payload['corrected'] or payload['query']!r}")
        if payload["weak"]:
            self.stdout.write("no article seems to be about this: the results only share some of its words")
        for number, result in enumerate(payload["results"], 1):
            flags = f"  [{', '.join(result['flags'])}]" if result["flags"] else ""
            self.stdout.write(
                f"{number:>3}. {result['score']:>7.2f}  {result['lang']}  {result['kind']:<9} {result['title']}{flags}"
            )
            self.stdout.write(f"     {result['url']}")
        if payload["suggestion"]:
            self.stdout.write(f"did you mean: {payload['suggestion']}")
