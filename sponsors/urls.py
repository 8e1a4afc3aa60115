from django.urls import path

from sponsors import views

# Mounted at /programs/ (cro_cmo/urls.py).
urlpatterns = [
    path("", views.ProgramListView.as_view(), name="program-list"),
    path("new/", views.ProgramEditView.as_view(), name="program-add"),
    path("<int:pk>/", views.ProgramDetailView.as_view(), name="program-detail"),
    path("<int:pk>/edit/", views.ProgramEditView.as_view(), name="program-edit"),
]

# Mounted at /sponsors/.
sponsor_patterns = [
    path("<int:pk>/", views.SponsorDetailView.as_view(), name="sponsor-detail"),
    path("<int:pk>/edit/", views.SponsorEditView.as_view(), name="sponsor-edit"),
]

# Mounted at /qualifications/.
qualification_patterns = [
    path("", views.QualificationListView.as_view(), name="qualification-list"),
    path("new/", views.QualificationEditView.as_view(), name="qualification-add"),
    path("<int:pk>/", views.QualificationDetailView.as_view(), name="qualification-detail"),
    path("<int:pk>/edit/", views.QualificationEditView.as_view(), name="qualification-edit"),
    path("<int:pk>/documents/", views.qualification_document_upload, name="qualification-document-add"),
    # Named <model>-<field> so the API's ProtectedFileField finds it.
    path("documents/<int:pk>/", views.qualification_document_download, name="qualificationdocument-file"),
]

# Mounted at /shortlists/.
shortlist_patterns = [
    path("", views.ShortlistListView.as_view(), name="shortlist-list"),
    path("new/", views.ShortlistEditView.as_view(), name="shortlist-add"),
    path("add/", views.shortlist_add, name="shortlist-add-vendors"),
    path("<int:pk>/", views.ShortlistDetailView.as_view(), name="shortlist-detail"),
    path("<int:pk>/edit/", views.ShortlistEditView.as_view(), name="shortlist-edit"),
    path("<int:pk>/delete/", views.ShortlistDeleteView.as_view(), name="shortlist-delete"),
    path("<int:pk>/remove/", views.shortlist_remove, name="shortlist-remove-vendor"),
]
