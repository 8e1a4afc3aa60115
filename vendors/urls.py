from django.urls import path

from vendors import views, views_compare

urlpatterns = [
    path("", views.directory, name="vendor-list"),
    path("compare/", views_compare.compare, name="vendor-compare"),
    path("compare/export.xlsx", views_compare.compare_export_xlsx, name="vendor-compare-xlsx"),
    path("compare/export.csv", views_compare.compare_export_csv, name="vendor-compare-csv"),
    path("compare/selection/", views_compare.compare_selection, name="vendor-compare-selection"),
    path("catalogue/", views.catalogue_import, name="catalogue-import"),
    path("catalogue/export/", views.catalogue_export, name="catalogue-export"),
    path("catalogue/export/xlsx/", views.catalogue_export_excel, name="catalogue-export-xlsx"),
    path("about/verified/", views.verified_explained, name="vendor-verified"),
    path("sites/new/", views.SiteEditView.as_view(), name="site-add"),
    path("sites/<int:pk>/", views.SiteDetailView.as_view(), name="site-detail"),
    path("sites/<int:pk>/edit/", views.SiteEditView.as_view(), name="site-edit"),
    path("sites/<int:pk>/delete/", views.SiteDeleteView.as_view(), name="site-delete"),
    path("offerings/new/", views.OfferingEditView.as_view(), name="offering-add"),
    path("offerings/<int:pk>/", views.OfferingDetailView.as_view(), name="offering-detail"),
    path("offerings/<int:pk>/edit/", views.OfferingEditView.as_view(), name="offering-edit"),
    path("offerings/<int:pk>/delete/", views.OfferingDeleteView.as_view(), name="offering-delete"),
    path("certificates/new/", views.CertificationEditView.as_view(), name="certification-add"),
    path("certificates/<int:pk>/", views.CertificationDetailView.as_view(), name="certification-detail"),
    path("certificates/<int:pk>/edit/", views.CertificationEditView.as_view(), name="certification-edit"),
    path("certificates/<int:pk>/delete/", views.CertificationDeleteView.as_view(), name="certification-delete"),
    path("certificates/<int:pk>/document/", views.certificate_document, name="certification-document"),
    path("<slug:slug>/", views.VendorDetailView.as_view(), name="vendor-detail"),
    path("<slug:slug>/edit/", views.VendorEditView.as_view(), name="vendor-edit"),
]
