from cro_cmo.api.serializers import ValidatedModelSerializer
from cro_cmo.api.viewsets import BaseViewSet, HistoryActionMixin
from vendors.filtersets import VendorFilterSet
from vendors.models import Vendor


class VendorSerializer(ValidatedModelSerializer):
    class Meta:
        model = Vendor
        fields = [
            "id", "name", "slug", "kind", "hq_country", "description", "website", "founded_year",
            "headcount_band", "verified_at", "created", "updated",
        ]  # fmt: skip
        read_only_fields = ["slug", "verified_at", "created", "updated"]


class VendorViewSet(HistoryActionMixin, BaseViewSet):
    """The vendor directory. A vendor's admins and members edit their own profile; vendors sign up in the browser."""

    queryset = Vendor.objects.all()
    serializer_class = VendorSerializer
    filterset_class = VendorFilterSet
    ordering_fields = ["name", "hq_country", "founded_year", "updated"]
    http_method_names = ["get", "head", "options", "patch", "put"]
