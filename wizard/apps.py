from django.apps import AppConfig


class WizardConfig(AppConfig):
    name = "wizard"
    verbose_name = "Troubleshooting wizard"

    def ready(self):
        from kb import importer
        from wizard import tree_import

        importer.register(tree_import.Trees())
