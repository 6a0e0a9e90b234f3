"""Read-only admin, like kb's: trees change only through the import, feedback and reach
counts only through visitors."""

from django.contrib import admin

from kb.admin import ReadOnlyAdmin
from wizard.models import Feedback, ResultStat, TreeRevision


@admin.register(TreeRevision)
class TreeRevisionAdmin(ReadOnlyAdmin):
    list_display = ("slug", "number", "is_current", "imported_at", "source_path")
    readonly_fields = ("slug", "number", "is_current", "data", "data_hash", "source_path", "imported_at")


@admin.register(ResultStat)
class ResultStatAdmin(ReadOnlyAdmin):
    list_display = ("tree", "node", "reached")


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ("tree", "node", "helpful", "created_at")
    list_filter = ("tree", "helpful")
