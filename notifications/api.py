import django_filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from cro_cmo.api.filters import BaseFilterSet
from cro_cmo.api.viewsets import ReadOnlyBaseViewSet
from notifications.models import Notification
from notifications.services import notifications_mark_read


class NotificationSerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.event_type", read_only=True)
    title = serializers.CharField(source="event.title", read_only=True)
    body = serializers.CharField(source="event.body", read_only=True)
    url = serializers.CharField(source="event.url", read_only=True)
    payload = serializers.JSONField(source="event.payload", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "event_type", "title", "body", "url", "payload", "created", "updated", "read_at"]
        read_only_fields = fields


class NotificationFilterSet(BaseFilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="Unread only")
    event_type = django_filters.CharFilter(field_name="event__event_type")

    class Meta:
        model = Notification
        fields = ["unread", "event_type", "updated_after"]


class NotificationViewSet(ReadOnlyBaseViewSet):
    """The caller's own notifications; mark them read with ``POST …/mark-read/``."""

    queryset = Notification.objects.select_related("event")
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    ordering_fields = ["created", "updated"]

    @extend_schema(
        request=inline_serializer(
            "MarkRead", {"ids": serializers.ListField(child=serializers.IntegerField(), required=False)}
        ),
        responses=inline_serializer("MarkedRead", {"marked": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], url_path="mark-read", permission_classes=[IsAuthenticated])
    def mark_read(self, request):
        if not isinstance(request.data, dict):  # a bare `1` or `[]` used to mean "mark all read"
            raise serializers.ValidationError({"non_field_errors": ['Send an object: {"ids": [1, 2]}, or {} for all.']})
        ids = request.data.get("ids")
        if "ids" in request.data and (not isinstance(ids, list) or not all(type(i) is int for i in ids)):
            raise serializers.ValidationError({"ids": ["A list of notification ids."]})
        return Response({"marked": notifications_mark_read(user=request.user, ids=ids)})
