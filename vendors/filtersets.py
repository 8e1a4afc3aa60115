"""One filterset per model, serving the browser directory and the API alike."""

import django_filters
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django_countries import countries
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from cro_cmo.api.filters import BaseFilterSet, StrictFilterSet
from vendors.choices import Authority, CertificationType, VendorKind
from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Site, Vendor

SEARCH_CONFIG = "english"


@extend_schema_field(OpenApiTypes.STR)
class CodeMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    """Repeatable ``?category=a&category=b`` by code or slug; documented as a string parameter."""


def text_search(queryset, value: str):
    """Full-text filter: PostgreSQL's websearch syntax over the stored vector; every word must match on SQLite."""
    value = value.strip()
    if not value:
        return queryset
    if connection.vendor == "postgresql":
        return queryset.filter(search_vector=SearchQuery(value, config=SEARCH_CONFIG, search_type="websearch"))
    for term in value.split():
        queryset = queryset.filter(
            Q(name__icontains=term)
            | Q(description__icontains=term)
            | Q(search_tags__icontains=term)
            | Q(search_text__icontains=term)
        )
    return queryset


class VendorFilterSet(BaseFilterSet):
    """The directory's filters: ``q``, ``category`` (code), ``capability`` (slug), ``country`` (ISO),
    ``certification`` (type, currently valid), ``kind``; several values of one filter widen (OR),
    different filters narrow (AND)."""

    q = django_filters.CharFilter(method="search", label="Search")
    category = CodeMultipleChoiceFilter(
        queryset=ServiceCategory.objects.all(),
        to_field_name="code",
        method="filter_category",
        label="Service category (code)",
    )
    capability = CodeMultipleChoiceFilter(
        queryset=Capability.objects.all(), to_field_name="slug", method="filter_capability", label="Capability (slug)"
    )
    # Filters on the vendor's own columns never duplicate rows: no DISTINCT (it would sort whole rows).
    country = django_filters.MultipleChoiceFilter(
        field_name="hq_country", choices=list(countries), label="Headquarters country (ISO code)", distinct=False
    )
    certification = django_filters.MultipleChoiceFilter(
        choices=CertificationType.choices, method="filter_certification", label="Valid certification (type)"
    )
    kind = django_filters.MultipleChoiceFilter(choices=VendorKind.choices, distinct=False)
    verified = django_filters.BooleanFilter(field_name="verified_at", lookup_expr="isnull", exclude=True)
    qualified = django_filters.BooleanFilter(
        method="filter_qualified", label="Qualified by us (approved or conditionally approved by your company)"
    )

    class Meta:
        model = Vendor
        fields = [
            "q", "category", "capability", "country", "certification", "kind", "verified", "qualified", "updated_after",
        ]  # fmt: skip

    def search(self, queryset, name, value):
        return text_search(queryset, value)

    def filter_category(self, queryset, name, value):
        if not value:
            return queryset
        offering_vendors = ServiceOffering.objects.filter(category__in=value, is_active=True).values("vendor_id")
        return queryset.filter(pk__in=offering_vendors)

    def filter_capability(self, queryset, name, value):
        if not value:
            return queryset
        offering_vendors = ServiceOffering.objects.filter(capabilities__in=value, is_active=True).values("vendor_id")
        return queryset.filter(pk__in=offering_vendors)

    def filter_qualified(self, queryset, name, value):
        """Vendors the user's own sponsor approved (or conditionally): nobody else's qualifications count.

        A user with no sponsor has qualified nobody: ``true`` finds none, ``false`` every vendor.
        """
        if value is None:
            return queryset
        from sponsors.choices import QUALIFIED_STATUSES
        from sponsors.models import VendorQualification

        sponsor_id = getattr(getattr(self.request, "user", None), "sponsor_id", None)
        qualified = VendorQualification.objects.filter(sponsor_id=sponsor_id, status__in=QUALIFIED_STATUSES).values(
            "vendor_id"
        )
        return queryset.filter(pk__in=qualified) if value else queryset.exclude(pk__in=qualified)

    def filter_certification(self, queryset, name, value):
        if not value:
            return queryset
        valid = Certification.objects.valid_on(timezone.localdate()).filter(type__in=value).values("vendor_id")
        return queryset.filter(pk__in=valid)


class VendorOwnedFilterSet(BaseFilterSet):
    vendor = django_filters.ModelMultipleChoiceFilter(queryset=Vendor.objects.all(), label="Vendor (id)")
    vendor_slug = django_filters.CharFilter(field_name="vendor__slug", label="Vendor (slug)")


class SiteFilterSet(VendorOwnedFilterSet):
    country = django_filters.MultipleChoiceFilter(choices=list(countries))

    class Meta:
        model = Site
        fields = ["vendor", "vendor_slug", "country", "updated_after"]


class OfferingFilterSet(VendorOwnedFilterSet):
    # django-filter filters ``field_name=<to_field value>``: the field name must reach the code/slug itself.
    category = CodeMultipleChoiceFilter(
        field_name="category__code", queryset=ServiceCategory.objects.all(), to_field_name="code"
    )
    capability = CodeMultipleChoiceFilter(
        field_name="capabilities__slug", queryset=Capability.objects.all(), to_field_name="slug", distinct=True
    )
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = ServiceOffering
        fields = ["vendor", "vendor_slug", "category", "capability", "is_active", "updated_after"]


class CertificationFilterSet(VendorOwnedFilterSet):
    type = django_filters.MultipleChoiceFilter(choices=CertificationType.choices)
    authority = django_filters.MultipleChoiceFilter(choices=Authority.choices)
    expires_before = django_filters.DateFilter(field_name="expires_on", lookup_expr="lt")
    valid = django_filters.BooleanFilter(method="filter_valid", label="Valid today")

    class Meta:
        model = Certification
        fields = ["vendor", "vendor_slug", "type", "authority", "expires_before", "valid", "updated_after"]

    def filter_valid(self, queryset, name, value):
        valid = queryset.valid_on(timezone.localdate())
        return valid if value else queryset.exclude(pk__in=valid.values("pk"))


class CategoryFilterSet(StrictFilterSet):
    class Meta:
        model = ServiceCategory
        fields = ["side", "code"]


class CapabilityFilterSet(StrictFilterSet):
    category = CodeMultipleChoiceFilter(
        field_name="category__code", queryset=ServiceCategory.objects.all(), to_field_name="code"
    )

    class Meta:
        model = Capability
        fields = ["category"]
