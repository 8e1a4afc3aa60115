from django.contrib import admin

from audit.models import HistoryEntry


@admin.register(HistoryEntry)
class HistoryEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only, even for platform staff."""

    list_display = ["timestamp", "content_type", "object_repr", "action", "actor_name", "reason"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "actor_name", "reason"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
