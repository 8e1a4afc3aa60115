from rest_framework import serializers

from cro_cmo.api.serializers import ValidatedModelSerializer
from cro_cmo.api.viewsets import BaseViewSet, HistoryActionMixin
from sponsors.filtersets import ProgramFilterSet, SponsorFilterSet
from sponsors.models import Program, Sponsor


class SponsorSerializer(ValidatedModelSerializer):
    class Meta:
        model = Sponsor
        fields = ["id", "name", "slug", "type", "country", "default_currency", "due_soon_days", "created", "updated"]
        read_only_fields = ["slug", "created", "updated"]


class SponsorViewSet(HistoryActionMixin, BaseViewSet):
    """The caller's own sponsor organisation; its admins edit it. Sponsors sign up in the browser."""

    queryset = Sponsor.objects.all()
    serializer_class = SponsorSerializer
    filterset_class = SponsorFilterSet
    ordering_fields = ["name", "updated"]
    http_method_names = ["get", "head", "options", "patch", "put"]


class ProgramSerializer(ValidatedModelSerializer):
    sponsor = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Program
        fields = [
            "id", "sponsor", "code", "name", "phase", "therapeutic_area", "budget_cap", "budget_currency",
            "created", "updated",
        ]  # fmt: skip
        read_only_fields = ["created", "updated"]


class ProgramViewSet(HistoryActionMixin, BaseViewSet):
    """A sponsor's drug/device programmes."""

    queryset = Program.objects.select_related("sponsor")
    serializer_class = ProgramSerializer
    filterset_class = ProgramFilterSet
    ordering_fields = ["code", "name", "phase", "updated"]
    owner_field = "sponsor"
