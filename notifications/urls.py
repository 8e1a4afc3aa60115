from django.urls import path

from notifications import views

urlpatterns = [
    path("", views.notification_list, name="notifications"),
    path("preferences/", views.notification_preferences, name="notification-preferences"),
    path("mark-read/", views.notification_mark_read, name="notifications-mark-read"),
]
