"""Alerts in the admin: for platform staff to look into what the checks raised. Read-only: alerts are the
checks' to raise and resolve, and acknowledging is the audience's (with a comment, in the app)."""

from django.contrib import admin

from alerts.models import Alert


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "severity", "audience", "sponsor", "vendor", "raised_at", "resolved_at",
                    "acknowledged_at"]  # fmt: skip
    list_filter = ["kind", "severity", "audience", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "key", "sponsor__name", "vendor__name"]
    date_hierarchy = "raised_at"
    list_select_related = ["sponsor", "vendor"]
    fields = [
        "kind", "severity", "audience", "key", "title", "sponsor", "vendor", "contract", "milestone", "program",
        "certification", "qualification", "raised_at", "escalated_at", "resolved_at", "acknowledged_at",
        "acknowledged_by", "acknowledge_comment", "created", "updated",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
