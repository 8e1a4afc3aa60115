from django.contrib import admin

from notifications.models import Notification, NotificationPreference, OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["created", "event_type", "title", "sponsor", "vendor", "status", "attempts"]
    list_filter = ["status", "event_type"]
    search_fields = ["title", "event_type"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created", "user", "event", "read_at", "emailed_at"]
    list_select_related = ["user", "event"]
    raw_id_fields = ["user", "event"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "email_mode", "digest_time", "time_zone", "last_digest_on"]
    list_filter = ["email_mode"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    search_fields = ["user__email"]
    readonly_fields = ["last_digest_on", "email_from", "updated"]
