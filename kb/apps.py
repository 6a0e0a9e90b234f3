from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "kb"
    verbose_name = "Knowledge base"

    def ready(self):
        from kb import article_import, checks, glossary, importer, staleness_flags  # noqa: F401 (checks registers)

        importer.register(article_import.Articles())
        importer.register(glossary.GlossaryContent())
        importer.register(staleness_flags.StalenessRules())
