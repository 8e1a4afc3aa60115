from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from cro_cmo import views
from sponsors.urls import qualification_patterns, shortlist_patterns, sponsor_patterns

urlpatterns = [
    path("", views.landing, name="landing"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("notifications/", include("notifications.urls")),
    path("programs/", include("sponsors.urls")),
    path("sponsors/", include(sponsor_patterns)),
    path("qualifications/", include(qualification_patterns)),
    path("shortlists/", include(shortlist_patterns)),
    path("rfps/", include("contracts.urls")),
    path("contracts/", include("contracts.urls_contracts")),
    path("vendors/", include("vendors.urls")),
    path("alerts/", include("alerts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("cro_cmo.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

# Uploaded files are never served from MEDIA_URL, not even with DEBUG: each has a view that checks
# who may read it (e.g. vendors.views.certificate_document).

handler403 = "cro_cmo.views.permission_denied"
handler404 = "cro_cmo.views.page_not_found"
handler500 = "cro_cmo.views.server_error"
