from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.views.decorators.http import require_safe

from kb import metrics, readiness
from kb import views as kb_views
from kb.sitemaps import SITEMAPS

urlpatterns = [
    path("", kb_views.root, name="root"),
    path("admin/", admin.site.urls),
    path("api/search", kb_views.search_api, name="api_search"),
    path("api/search/log", kb_views.search_log_event, name="search_log"),
    path("healthz", kb_views.healthz, name="healthz"),
    path("readyz", readiness.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("sitemap.xml", require_safe(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", kb_views.robots, name="robots"),
    path("favicon.ico", kb_views.favicon),
    *i18n_patterns(
        path("", include("kb.urls")),
        path("wizard/", include("wizard.urls")),
        prefix_default_language=True,
    ),
]

handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
