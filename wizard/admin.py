from django.contrib import admin

from wizard.models import Feedback, ResultStat, TreeRevision


@admin.register(TreeRevision)
class TreeRevisionAdmin(admin.ModelAdmin):
    list_display = ("slug", "number", "is_current", "imported_at", "source_path")
    readonly_fields = ("slug", "number", "is_current", "data", "data_hash", "source_path", "imported_at")

    def has_add_permission(self, request):
        return False


@admin.register(ResultStat)
class ResultStatAdmin(admin.ModelAdmin):
    list_display = ("tree", "node", "reached")


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ("tree", "node", "helpful", "created_at")
    list_filter = ("tree", "helpful")
