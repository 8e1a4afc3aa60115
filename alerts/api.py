"""``/api/v1/alerts/``: the caller's alerts (read-only) and ``POST alerts/{id}/acknowledge/`` with a comment.

Thin: ``for_user`` picks the rows (out of reach → 404, a viewer's POST → 403 by role), the service
``alert_acknowledge`` is the rule (a second acknowledgement → 409).
"""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts.filtersets import AlertFilterSet
from alerts.models import Alert
from alerts.serializers import AcknowledgeSerializer, AlertSerializer
from alerts.services import alert_acknowledge
from cro_cmo.api.filters import FilterBackend
from cro_cmo.api.viewsets import ReadOnlyBaseViewSet


class AlertViewSet(ReadOnlyBaseViewSet):
    """Alerts raised by the background checks for the caller's organisation, open ones first and the most
    severe first (``status=open`` by default; ``status=resolved`` or ``all`` for the others)."""

    queryset = Alert.objects.select_related("vendor", "acknowledged_by")
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    filter_backends = [FilterBackend]  # the filterset sorts (severity first)

    def filter_queryset(self, queryset):
        # The list's filters (open only, by default) are no lookup rule: a resolved alert's id still answers.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(request=AcknowledgeSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, *args, **kwargs):
        """Say you have seen the alert and what you do about it. Once per alert; a resolved alert may still be
        acknowledged. Acknowledging does not resolve it: the alert clears when its condition does."""
        alert = self.get_object()
        serializer = AcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = alert_acknowledge(alert=alert, user=request.user, comment=serializer.validated_data["comment"])
        return Response(self.get_serializer(alert).data)
