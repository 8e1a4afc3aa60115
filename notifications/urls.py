from django.urls import path

from notifications import views

urlpatterns = [
    path("", views.notification_list, name="notifications"),
    path("mark-read/", views.notification_mark_read, name="notifications-mark-read"),
]
