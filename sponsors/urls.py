from django.urls import path

from sponsors import views

urlpatterns = [
    path("", views.ProgramListView.as_view(), name="program-list"),
    path("new/", views.ProgramEditView.as_view(), name="program-add"),
    path("<int:pk>/", views.ProgramDetailView.as_view(), name="program-detail"),
    path("<int:pk>/edit/", views.ProgramEditView.as_view(), name="program-edit"),
]
