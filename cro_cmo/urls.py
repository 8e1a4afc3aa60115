from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from cro_cmo import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("notifications/", include("notifications.urls")),
    path("programs/", include("sponsors.urls")),
    path("vendors/", include("vendors.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("cro_cmo.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler403 = "cro_cmo.views.permission_denied"
handler404 = "cro_cmo.views.page_not_found"
handler500 = "cro_cmo.views.server_error"
