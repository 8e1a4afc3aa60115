from django.contrib import admin

from notifications.models import Notification, OutboxEvent


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
