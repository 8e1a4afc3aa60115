from django.urls import path

from vendors import views

urlpatterns = [
    path("", views.VendorListView.as_view(), name="vendor-list"),
    path("<slug:slug>/", views.VendorDetailView.as_view(), name="vendor-detail"),
]
