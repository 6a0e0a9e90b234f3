from django.urls import path, register_converter

from kb import languages, views


class SlugConverter:
    """Article slugs may be Unicode (slugs made from Japanese file names)."""

    regex = r"[^/]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class LangConverter:
    """A content language (settings.LANGUAGES, read per request so tests may change them)."""

    regex = r"[a-z]{2,3}(?:-[a-z0-9]+)?"

    def to_python(self, value):
        if value not in languages.codes():
            raise ValueError(value)
        return value

    def to_url(self, value):
        return value


register_converter(SlugConverter, "article")
register_converter(LangConverter, "lang")

app_name = "kb"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search_page, name="search"),
    path("editor/", views.editor, name="editor"),
    path("articles/", views.article_list, name="articles"),
    path("articles/<article:slug>/", views.article, name="article"),
    path("articles/<article:slug>/history/", views.history, name="history"),
    path("articles/<article:slug>/<lang:lang>/history/", views.history, name="history_lang"),
    path("articles/<article:slug>/<lang:lang>/r<int:number>/", views.revision_page, name="revision"),
    path("articles/<article:slug>/<lang:lang>/diff/", views.diff, name="diff"),
    path("articles/<article:slug>/<lang:lang>/translation/", views.translation_status, name="translation"),
    path("articles/<article:slug>/files/<path:path>", views.asset, name="asset"),
]
