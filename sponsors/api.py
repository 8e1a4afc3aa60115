from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from cro_cmo.api.exceptions import django_errors_as_drf
from cro_cmo.api.serializers import ProtectedFileField, ValidatedModelSerializer
from cro_cmo.api.viewsets import BaseViewSet, HistoryActionMixin
from cro_cmo.services import object_delete
from sponsors.filtersets import ProgramFilterSet, QualificationFilterSet, ShortlistFilterSet, SponsorFilterSet
from sponsors.models import Program, QualificationDocument, Shortlist, ShortlistEntry, Sponsor, VendorQualification
from sponsors.services import REASON_MAX, qualification_save, shortlist_add_vendors, shortlist_remove_vendor
from vendors.models import ServiceCategory, Site, Vendor

QUALIFICATION_VENDOR_FIXED = "A qualification stays with its vendor: record a new one for another vendor."


class SponsorSerializer(ValidatedModelSerializer):
    class Meta:
        model = Sponsor
        fields = [
            "id", "name", "slug", "type", "country", "default_currency", "due_soon_days", "overdue_escalation_days",
            "budget_warning_percent", "burn_ahead_points", "contract_ending_days", "certificate_expiring_days",
            "requalification_days", "rfp_reminder_days", "created", "updated",
        ]  # fmt: skip
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


class QualificationDocumentSerializer(serializers.ModelSerializer):
    file = ProtectedFileField(read_only=True)

    class Meta:
        model = QualificationDocument
        fields = ["id", "title", "file", "created"]
        read_only_fields = fields


class QualificationSerializer(ValidatedModelSerializer):
    """A sponsor's qualification of a vendor. Changing one needs a ``reason`` (kept in its history)."""

    sponsor = serializers.PrimaryKeyRelatedField(read_only=True)
    vendor = serializers.PrimaryKeyRelatedField(queryset=Vendor.objects.all())
    sites = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all(), many=True, required=False)
    categories = serializers.PrimaryKeyRelatedField(queryset=ServiceCategory.objects.all(), many=True, required=False)
    documents = QualificationDocumentSerializer(many=True, read_only=True)
    reason = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=REASON_MAX,
        help_text="Why the record changes; required when an update changes anything.",
    )  # fmt: skip

    class Meta:
        model = VendorQualification
        fields = [
            "id", "sponsor", "vendor", "status", "risk", "cda_signed_on", "msa_reference", "last_audit_on",
            "next_audit_due", "sites", "categories", "notes", "documents", "reason", "created", "updated",
        ]  # fmt: skip
        read_only_fields = ["created", "updated"]

    def validate_vendor(self, value):
        if self.instance is not None and value.pk != self.instance.vendor_id:
            raise serializers.ValidationError(QUALIFICATION_VENDOR_FIXED)
        return value

    def validate(self, attrs):
        self._reason = attrs.pop("reason", "")
        attrs = super().validate(attrs)
        sites = attrs.get("sites")
        if sites is not None:
            try:
                self._validated_instance.clean_m2m({"sites": sites})
            except DjangoValidationError as exc:
                raise django_errors_as_drf(exc) from None
        return attrs

    def _save(self, validated_data):
        m2m = {k: v for k, v in validated_data.items() if k in self._m2m_names()}
        return qualification_save(
            actor=self.context["request"].user, qualification=self._validated_instance, reason=self._reason, m2m=m2m
        )


class QualificationViewSet(HistoryActionMixin, BaseViewSet):
    """The caller's sponsor's qualifications of vendors (private to the sponsor; vendors never see them)."""

    queryset = VendorQualification.objects.select_related("sponsor", "vendor").prefetch_related(
        "sites", "categories", "documents"
    )
    serializer_class = QualificationSerializer
    filterset_class = QualificationFilterSet
    ordering_fields = ["status", "next_audit_due", "last_audit_on", "updated"]
    owner_field = "sponsor"
    # A qualification is not deleted: it goes back to "not qualified" or "disqualified", with a reason.
    http_method_names = ["get", "head", "options", "post", "patch", "put"]


class ShortlistEntrySerializer(serializers.ModelSerializer):
    vendor = serializers.PrimaryKeyRelatedField(read_only=True)
    vendor_slug = serializers.SlugField(source="vendor.slug", read_only=True)
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)

    class Meta:
        model = ShortlistEntry
        fields = ["vendor", "vendor_slug", "vendor_name", "added_at"]
        read_only_fields = fields


class ShortlistSerializer(ValidatedModelSerializer):
    sponsor = serializers.PrimaryKeyRelatedField(read_only=True)
    entries = ShortlistEntrySerializer(many=True, read_only=True)

    class Meta:
        model = Shortlist
        fields = ["id", "sponsor", "name", "notes", "entries", "created", "updated"]
        read_only_fields = ["created", "updated"]


class ShortlistVendorsSerializer(serializers.Serializer):
    vendors = serializers.PrimaryKeyRelatedField(queryset=Vendor.objects.all(), many=True, allow_empty=False)


class ShortlistViewSet(BaseViewSet):
    """The caller's sponsor's shortlists of vendors; ``add``/``remove`` change who is on one."""

    queryset = Shortlist.objects.select_related("sponsor").prefetch_related(
        Prefetch("entries", queryset=ShortlistEntry.objects.select_related("vendor"))
    )
    serializer_class = ShortlistSerializer
    filterset_class = ShortlistFilterSet
    ordering_fields = ["name", "updated"]
    owner_field = "sponsor"

    def perform_destroy(self, instance):
        object_delete(actor=self.request.user, instance=instance)

    def _vendors(self, request):
        serializer = ShortlistVendorsSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["vendors"]

    @extend_schema(request=ShortlistVendorsSerializer, responses=ShortlistSerializer)
    @action(detail=True, methods=["post"])
    def add(self, request, *args, **kwargs):
        shortlist = self.get_object()
        shortlist_add_vendors(actor=request.user, shortlist=shortlist, vendors=self._vendors(request))
        return Response(self.get_serializer(self.get_queryset().get(pk=shortlist.pk)).data)

    @extend_schema(request=ShortlistVendorsSerializer, responses=ShortlistSerializer)
    @action(detail=True, methods=["post"])
    def remove(self, request, *args, **kwargs):
        shortlist = self.get_object()
        for vendor in self._vendors(request):
            shortlist_remove_vendor(actor=request.user, shortlist=shortlist, vendor=vendor)
        return Response(self.get_serializer(self.get_queryset().get(pk=shortlist.pk)).data)
