from django.urls import path

from alerts import views

# Mounted at /alerts/ (cro_cmo/urls.py).
urlpatterns = [
    path("", views.AlertListView.as_view(), name="alert-list"),
    path("<int:pk>/", views.AlertDetailView.as_view(), name="alert-detail"),
    path("<int:pk>/acknowledge/", views.alert_acknowledge_view, name="alert-acknowledge"),
]
