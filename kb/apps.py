from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "kb"
    verbose_name = "Knowledge base"

    def ready(self):
        from kb import article_import, glossary, importer, staleness_flags

        importer.register(article_import.Articles())
        importer.register(glossary.GlossaryContent())
        importer.register(staleness_flags.StalenessRules())
