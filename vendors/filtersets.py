"""One filterset per model, serving the browser directory and the API alike."""

import django_filters
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django_countries import countries
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from cro_cmo.api.filters import BaseFilterSet, StrictFilterSet
from vendors.choices import Authority, CertificationType, VendorKind
from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Site, Vendor
from vendors.regions import REGION_CHOICES, region_countries

SEARCH_CONFIG = "english"


class CountryChoices(BaseChoiceIterator):
    """The ISO countries, named in the active language when iterated. Every request's form deep-copies its
    fields' choices; this one copies as itself instead of as 249 pairs per country filter (4 ms a request)."""

    def __iter__(self):
        return iter(countries)

    def __deepcopy__(self, memo):
        return self


COUNTRY_CHOICES = CountryChoices()


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


# Certificate authorities as the directory offers them: "EMA/EU" is EMA or an EU national competent authority
# (EU GMP certificates are issued by the national authority of the member state and entered in EudraGMDP).
AUTHORITY_GROUPS: dict[str, tuple[str, list[str]]] = {
    "ema-eu": ("EMA or EU national authority", [Authority.EMA, Authority.NATIONAL]),
    **{
        value: (label, [value])
        for value, label in Authority.choices
        if value not in (Authority.EMA, Authority.NATIONAL)
    },
}
AUTHORITY_GROUP_OF: dict[str, str] = {a: group for group, (_, members) in AUTHORITY_GROUPS.items() for a in members}


def certificate_q(types=(), authority_groups=(), day=None, *, prefix: str = "") -> Q:
    """Certificates of one of ``types`` from one of ``authority_groups``, valid on ``day`` (all on ONE certificate).

    ``prefix`` reaches certificates through a relation (``certifications__``); an empty argument means "any".
    """
    day = day or timezone.localdate()
    q = Q(**{f"{prefix}expires_on__isnull": True}) | Q(**{f"{prefix}expires_on__gte": day})
    if types:
        q &= Q(**{f"{prefix}type__in": list(types)})
    if authority_groups:
        q &= Q(**{f"{prefix}authority__in": [a for g in authority_groups for a in AUTHORITY_GROUPS[g][1]]})
    return q


class VendorFilterSet(BaseFilterSet):
    """The directory's filters. Several values of one filter widen (OR), different filters narrow (AND).

    ``kind``; ``category`` (code), ``capability`` (slug); where: ``country`` (headquarters), ``site_country``
    and ``region`` (where the work is done: a site of the vendor in that country or region, see
    vendors.regions); certificates: ``certification`` (type) and ``authority`` (issuing authority group)
    held on ONE certificate valid on ``valid_on`` (default today). Each faceted filter is one condition on the
    vendor (``conditions()``), so the directory counts every facet over the others in one statement.
    """

    q = django_filters.CharFilter(method="search", label="Search")
    kind = django_filters.MultipleChoiceFilter(choices=VendorKind.choices, method="apply_condition")
    category = CodeMultipleChoiceFilter(
        queryset=ServiceCategory.objects.all(),
        to_field_name="code",
        method="apply_condition",
        label="Service category (code)",
    )
    capability = CodeMultipleChoiceFilter(
        queryset=Capability.objects.select_related("category"),
        to_field_name="slug",
        method="apply_condition",
        label="Capability (slug)",
    )
    country = django_filters.MultipleChoiceFilter(
        choices=COUNTRY_CHOICES, method="apply_condition", label="Headquarters country (ISO code)"
    )
    site_country = django_filters.MultipleChoiceFilter(
        choices=COUNTRY_CHOICES, method="apply_condition", label="Country of a site (ISO code): where the work is done"
    )
    region = django_filters.MultipleChoiceFilter(
        choices=REGION_CHOICES,
        method="apply_condition",
        label="Region of a site (europe, eu-eea, north-america, latin-america, asia-pacific, middle-east-africa)",
    )
    certification = django_filters.MultipleChoiceFilter(
        choices=CertificationType.choices, method="apply_condition", label="Certificate type (valid on `valid_on`)"
    )
    authority = django_filters.MultipleChoiceFilter(
        choices=[(group, label) for group, (label, _) in AUTHORITY_GROUPS.items()],
        method="apply_condition",
        label="Issuing authority of that certificate (ema-eu = EMA or an EU national authority)",
    )
    valid_on = django_filters.DateFilter(
        method="apply_condition", label="Certificates valid on this date (default today)"
    )
    verified = django_filters.BooleanFilter(field_name="verified_at", lookup_expr="isnull", exclude=True)
    qualified = django_filters.BooleanFilter(
        method="filter_qualified", label="Qualified by us (approved or conditionally approved by your company)"
    )

    # Faceted filters: each is one condition on the vendor; ``certificate`` joins type, authority and date.
    CONDITION_KEYS = ("kind", "category", "capability", "country", "site_country", "region", "certificate")

    class Meta:
        model = Vendor
        fields = [
            "q", "kind", "category", "capability", "country", "site_country", "region", "certification",
            "authority", "valid_on", "verified", "qualified", "updated_after",
        ]  # fmt: skip

    def search(self, queryset, name, value):
        return text_search(queryset, value)

    def apply_condition(self, queryset, name, value):
        """The faceted filters apply together in ``filter_queryset`` (the certificate's three at once)."""
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        for condition in self.conditions().values():
            queryset = queryset.filter(condition)
        return queryset

    @property
    def valid_on_day(self):
        data = self.form.cleaned_data if self.is_valid() else {}
        return data.get("valid_on") or timezone.localdate()

    def certificate_terms(self) -> tuple[list[str], list[str], object]:
        """(types, authority groups, day) of the certificate filter, as validated."""
        data = self.form.cleaned_data
        return list(data.get("certification") or []), list(data.get("authority") or []), self.valid_on_day

    def conditions(self) -> dict[str, Q]:
        """The active faceted filters, each a ``Q`` on Vendor (validated data; call after ``is_valid()``)."""
        data = self.form.cleaned_data
        found = {}
        if data.get("kind"):
            found["kind"] = Q(kind__in=data["kind"])
        if data.get("category"):
            offerings = ServiceOffering.objects.filter(category__in=data["category"], is_active=True)
            found["category"] = Q(pk__in=offerings.values("vendor_id"))
        if data.get("capability"):
            offerings = ServiceOffering.objects.filter(capabilities__in=data["capability"], is_active=True)
            found["capability"] = Q(pk__in=offerings.values("vendor_id"))
        if data.get("country"):
            found["country"] = Q(hq_country__in=data["country"])
        if data.get("site_country"):
            found["site_country"] = Q(pk__in=Site.objects.filter(country__in=data["site_country"]).values("vendor_id"))
        if data.get("region"):
            in_region = Site.objects.filter(country__in=sorted(region_countries(data["region"])))
            found["region"] = Q(pk__in=in_region.values("vendor_id"))
        types, groups, day = self.certificate_terms()
        if types or groups:
            found["certificate"] = Q(
                pk__in=Certification.objects.filter(certificate_q(types, groups, day)).values("vendor_id")
            )
        return found

    def filter_qualified(self, queryset, name, value):
        """Vendors the user's own sponsor approved (or conditionally): nobody else's qualifications count.

        A user with no sponsor has qualified nobody: ``true`` finds none, ``false`` every vendor.
        """
        if value is None:
            return queryset
        qualified = self.qualified_vendor_ids()
        return queryset.filter(pk__in=qualified) if value else queryset.exclude(pk__in=qualified)

    def qualified_vendor_ids(self):
        from sponsors.choices import QUALIFIED_STATUSES
        from sponsors.models import VendorQualification

        sponsor_id = getattr(getattr(self.request, "user", None), "sponsor_id", None)
        return VendorQualification.objects.filter(sponsor_id=sponsor_id, status__in=QUALIFIED_STATUSES).values(
            "vendor_id"
        )


class VendorOwnedFilterSet(BaseFilterSet):
    vendor = django_filters.ModelMultipleChoiceFilter(queryset=Vendor.objects.all(), label="Vendor (id)")
    vendor_slug = django_filters.CharFilter(field_name="vendor__slug", label="Vendor (slug)")


class SiteFilterSet(VendorOwnedFilterSet):
    country = django_filters.MultipleChoiceFilter(choices=COUNTRY_CHOICES)

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
