from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.parsers import JSONParser

from cro_cmo.api.parsers import StrictMultiPartParser
from cro_cmo.api.serializers import ProtectedFileField, ValidatedModelSerializer
from cro_cmo.api.viewsets import BaseViewSet, HistoryActionMixin, ReadOnlyBaseViewSet
from vendors.filtersets import (
    CapabilityFilterSet,
    CategoryFilterSet,
    CertificationFilterSet,
    OfferingFilterSet,
    SiteFilterSet,
    VendorFilterSet,
)
from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Site, Vendor
from vendors.selectors import rank_by_relevance
from vendors.services import vendor_record_delete, vendor_record_save


class VendorRecordSerializer(ValidatedModelSerializer):
    save_service = staticmethod(vendor_record_save)


class VendorSerializer(VendorRecordSerializer):
    is_verified = serializers.BooleanField(read_only=True)

    class Meta:
        model = Vendor
        fields = [
            "id", "name", "slug", "kind", "hq_country", "description", "website", "founded_year",
            "headcount_band", "is_verified", "verified_at", "created", "updated",
        ]  # fmt: skip
        read_only_fields = ["slug", "verified_at", "created", "updated"]


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("q", str, description="Full-text search; without `ordering`, best match first")]
    )
)
class VendorViewSet(HistoryActionMixin, BaseViewSet):
    """The vendor directory. A vendor's admins and members edit their own profile; vendors sign up in the browser."""

    queryset = Vendor.objects.all()
    serializer_class = VendorSerializer
    filterset_class = VendorFilterSet
    ordering_fields = ["name", "hq_country", "founded_year", "updated"]
    http_method_names = ["get", "head", "options", "patch", "put"]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action == "list" and "ordering" not in self.request.query_params:
            queryset = rank_by_relevance(queryset, self.request.query_params.get("q", ""))
        return queryset


class SiteSerializer(VendorRecordSerializer):
    vendor = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Site
        fields = ["id", "vendor", "name", "city", "country", "activities", "created", "updated"]
        read_only_fields = ["created", "updated"]


class VendorRecordViewSet(HistoryActionMixin, BaseViewSet):
    owner_field = "vendor"

    def perform_destroy(self, instance):
        vendor_record_delete(actor=self.request.user, instance=instance)


class SiteViewSet(VendorRecordViewSet):
    """Sites where vendors work; a vendor manages its own."""

    queryset = Site.objects.select_related("vendor")
    serializer_class = SiteSerializer
    filterset_class = SiteFilterSet
    ordering_fields = ["name", "country", "city", "updated"]


class ServiceCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceCategory
        fields = ["id", "code", "name", "side", "description"]


class ServiceCategoryViewSet(ReadOnlyBaseViewSet):
    """The eight fixed service categories, with stable codes."""

    queryset = ServiceCategory.objects.all()
    serializer_class = ServiceCategorySerializer
    filterset_class = CategoryFilterSet
    ordering_fields = ["position", "code"]


class CapabilitySerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Capability
        fields = ["id", "category", "name", "slug"]


class CapabilityViewSet(ReadOnlyBaseViewSet):
    """The controlled capability vocabulary (platform staff extend it in the admin)."""

    queryset = Capability.objects.select_related("category")
    serializer_class = CapabilitySerializer
    filterset_class = CapabilityFilterSet
    ordering_fields = ["name", "slug"]


class OfferingSerializer(VendorRecordSerializer):
    vendor = serializers.PrimaryKeyRelatedField(read_only=True)
    category = serializers.SlugRelatedField(slug_field="code", queryset=ServiceCategory.objects.all())
    capabilities = serializers.SlugRelatedField(
        slug_field="slug", many=True, queryset=Capability.objects.all(), required=False
    )
    sites = serializers.PrimaryKeyRelatedField(many=True, queryset=Site.objects.all(), required=False)

    class Meta:
        model = ServiceOffering
        fields = [
            "id", "vendor", "category", "capabilities", "description", "lead_time_weeks", "price_min", "price_max",
            "currency", "sites", "is_active", "created", "updated",
        ]  # fmt: skip
        read_only_fields = ["created", "updated"]


class OfferingViewSet(VendorRecordViewSet):
    """What vendors offer per category. Capabilities by slug must belong to the category; sites to the vendor."""

    queryset = ServiceOffering.objects.select_related("vendor", "category").prefetch_related("capabilities", "sites")
    serializer_class = OfferingSerializer
    filterset_class = OfferingFilterSet
    ordering_fields = ["lead_time_weeks", "price_min", "updated"]


class CertificationSerializer(VendorRecordSerializer):
    vendor = serializers.PrimaryKeyRelatedField(read_only=True)
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all(), required=False, allow_null=True)
    status = serializers.CharField(read_only=True)
    # Read: the URL of the access-checked download view; write: a multipart upload (a plain PDF).
    document = ProtectedFileField(
        required=False, max_length=100, help_text=Certification._meta.get_field("document").help_text
    )

    class Meta:
        model = Certification
        fields = [
            "id", "vendor", "site", "type", "authority", "number", "issued_on", "expires_on", "status", "document",
            "created", "updated",
        ]  # fmt: skip
        read_only_fields = ["created", "updated"]


class CertificationViewSet(VendorRecordViewSet):
    """Certificates (GMP, GLP, GCP, ISO…) with status valid / expiring / expired; upload the PDF as multipart."""

    queryset = Certification.objects.select_related("vendor", "site")
    serializer_class = CertificationSerializer
    filterset_class = CertificationFilterSet
    ordering_fields = ["expires_on", "issued_on", "type", "updated"]
    parser_classes = [JSONParser, StrictMultiPartParser]  # the PDF comes as multipart; the API is JSON otherwise
