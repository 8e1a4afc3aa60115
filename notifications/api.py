import re

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cro_cmo.api.filters import BaseFilterSet
from cro_cmo.api.viewsets import ReadOnlyBaseViewSet
from notifications.models import EmailMode, Notification, NotificationPreference, validate_time_zone
from notifications.services import (
    notification_preference_get,
    notification_preference_update,
    notifications_mark_read,
)


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


LOCAL_TIME = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?"


@extend_schema_field({"type": "string", "pattern": f"^{LOCAL_TIME}$", "example": "08:00"})
class LocalTimeField(serializers.TimeField):
    """A wall-clock time without offset, ``HH:MM`` (seconds allowed on input). OpenAPI's ``format: time``
    demands an offset (RFC 3339), which a local time in the user's zone does not have."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M:%S", "%H:%M"], **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.fullmatch(LOCAL_TIME, value):
            self.fail("invalid", format="HH:MM")
        return super().to_internal_value(value)


class NotificationPreferenceSerializer(serializers.ModelSerializer):
    email_mode = serializers.ChoiceField(choices=EmailMode.choices)
    digest_time = LocalTimeField(help_text="Local time of the daily digest, in time_zone (HH:MM).")
    time_zone = serializers.CharField(max_length=64, validators=[validate_time_zone],
                                      help_text="IANA time zone name, e.g. Europe/Zurich.")  # fmt: skip

    class Meta:
        model = NotificationPreference
        fields = ["email_mode", "digest_time", "time_zone", "last_digest_on", "updated"]
        read_only_fields = ["last_digest_on", "updated"]


class NotificationPreferenceView(APIView):
    """The caller's own e-mail preference for notifications (immediate, daily digest or off).

    There is only ever the caller's: the route takes no id. Every signed-in user, viewers too, may change it.
    """

    permission_classes = [IsAuthenticated]
    serializer_class = NotificationPreferenceSerializer

    @extend_schema(responses=NotificationPreferenceSerializer)
    def get(self, request):
        return Response(NotificationPreferenceSerializer(notification_preference_get(request.user)).data)

    @extend_schema(request=NotificationPreferenceSerializer, responses=NotificationPreferenceSerializer)
    def put(self, request):
        return self._update(request, partial=False)

    @extend_schema(request=NotificationPreferenceSerializer(partial=True), responses=NotificationPreferenceSerializer)
    def patch(self, request):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool):
        current = notification_preference_get(request.user)
        serializer = NotificationPreferenceSerializer(current, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        values = {name: getattr(current, name) for name in ("email_mode", "digest_time", "time_zone")}
        values.update(serializer.validated_data)
        preference = notification_preference_update(user=request.user, **values)
        return Response(NotificationPreferenceSerializer(preference).data)
