from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from ceiba.api import api
from ceiba.cases.govstack import govstack_api
from ceiba.web import views as web_views

admin.site.site_header = "Ceiba"
admin.site.site_title = "Ceiba"

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("readyz", web_views.readyz, name="readyz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("accounts/", include("ceiba.accounts.urls")),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False), name="api-docs"),
    path("govstack/registration/", govstack_api.urls),
    path("admin/", admin.site.urls),
    path("backoffice/", include("ceiba.cases.urls_backoffice")),
    path("", include("ceiba.ledger.urls")),
    path("", include("ceiba.documents.urls")),
    path("", include("ceiba.catalog.urls")),
    path("", include("ceiba.cases.urls")),
    path("", include("ceiba.web.urls")),
]

handler400 = "ceiba.web.views.bad_request"
handler403 = "ceiba.web.views.permission_denied"
handler404 = "ceiba.web.views.not_found"
handler500 = "ceiba.web.views.server_error"
