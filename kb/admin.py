"""Read-only admin: content changes come from files through import_content."""

from django.contrib import admin

from kb.models import Article, Flag, Glossary, ImportRun, Purge, Revision, SearchDay, StoredImage


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RevisionInline(admin.TabularInline):
    model = Revision
    fields = ("lang", "number", "is_current", "title", "significance", "imported_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ("slug", "kind", "source_lang", "withdrawn_at", "source_root")
    list_filter = ("kind", "source_lang", "withdrawn_at", "tags")
    search_fields = ("slug", "revisions__title", "tracking_id")
    inlines = [RevisionInline]


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    list_display = ("article", "lang", "number", "is_current", "title", "significance", "imported_at")
    list_filter = ("lang", "is_current", "significance", "article__kind")
    search_fields = ("article__slug", "title", "body_hash")
    readonly_fields = [f.name for f in Revision._meta.fields]


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ("revision", "rule_id", "code", "severity", "raised_at")
    list_filter = ("code", "severity", "rule_id", "revision__is_current")
    search_fields = ("revision__article__slug", "rule_id", "reasons")


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "finished_at", "summary")


@admin.register(Glossary)
class GlossaryAdmin(ReadOnlyAdmin):
    list_display = ("number", "is_current", "imported_at", "source_path")


@admin.register(SearchDay)
class SearchDayAdmin(ReadOnlyAdmin):
    list_display = ("day", "lang", "query", "searches", "empty", "opened")
    list_filter = ("lang", "day")
    search_fields = ("query",)


@admin.register(StoredImage)
class StoredImageAdmin(ReadOnlyAdmin):
    list_display = ("sha256", "content_type", "size", "stored_at")
    exclude = ("data",)


@admin.register(Purge)
class PurgeAdmin(ReadOnlyAdmin):
    list_display = ("purged_at", "slug", "lang", "purged_by", "revisions", "reason")
    search_fields = ("slug", "purged_by", "reason")
