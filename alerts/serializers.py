"""API representation of alerts: what, how bad, about which subject (ids and the page), and who saw it."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alerts.models import Alert
from alerts.services import ACKNOWLEDGE_COMMENT_MAX


class AlertSerializer(serializers.ModelSerializer):
    """One alert. ``subject_url`` is the browser page of what the alert is about (the milestone, contract,
    programme, qualification, certificate or vendor); the ids name the same subject for an integration."""

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    subject_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="The alert's own page in the browser.")
    acknowledged_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = [
            "id", "kind", "kind_label", "severity", "audience", "title", "is_open",
            "sponsor", "vendor", "contract", "milestone", "program", "certification", "qualification",
            "subject_url", "url", "raised_at", "escalated_at", "resolved_at",
            "acknowledged_at", "acknowledged_by", "acknowledged_by_name", "acknowledge_comment", "created", "updated",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_subject_url(self, alert) -> str:
        return alert.subject_url()

    def get_url(self, alert) -> str:
        return alert.get_absolute_url()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_acknowledged_by_name(self, alert) -> str | None:
        by = alert.acknowledged_by
        return (by.get_full_name() or by.email) if by is not None else None


class AcknowledgeSerializer(serializers.Serializer):
    comment = serializers.CharField(
        max_length=ACKNOWLEDGE_COMMENT_MAX,
        help_text="What you did or will do about the alert (required, up to 2000 characters).",
    )
