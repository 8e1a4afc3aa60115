import django_filters
from django.db.models import Q

from cro_cmo.api.filters import BaseFilterSet
from sponsors.choices import Phase, QualificationStatus, RiskRating
from sponsors.models import Program, Shortlist, Sponsor, VendorQualification
from vendors.models import Vendor


class SponsorFilterSet(BaseFilterSet):
    class Meta:
        model = Sponsor
        fields = ["type", "country", "updated_after"]


class ProgramFilterSet(BaseFilterSet):
    q = django_filters.CharFilter(method="search", label="Search code, name or therapeutic area")
    phase = django_filters.MultipleChoiceFilter(choices=Phase.choices)

    class Meta:
        model = Program
        fields = ["q", "phase", "therapeutic_area", "updated_after"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(code__icontains=value) | Q(name__icontains=value) | Q(therapeutic_area__icontains=value)
        )


class QualificationFilterSet(BaseFilterSet):
    q = django_filters.CharFilter(method="search", label="Search vendor, MSA reference or notes")
    status = django_filters.MultipleChoiceFilter(choices=QualificationStatus.choices)
    vendor = django_filters.ModelMultipleChoiceFilter(queryset=Vendor.objects.all(), label="Vendor (id)")
    vendor_slug = django_filters.CharFilter(field_name="vendor__slug", label="Vendor (slug)")
    risk = django_filters.MultipleChoiceFilter(choices=RiskRating.choices, label="Risk rating")
    next_audit_due_before = django_filters.DateFilter(
        field_name="next_audit_due", lookup_expr="lte", label="Next audit due on or before"
    )
    next_audit_due_after = django_filters.DateFilter(
        field_name="next_audit_due", lookup_expr="gte", label="Next audit due on or after"
    )

    class Meta:
        model = VendorQualification
        fields = [
            "q", "status", "risk", "vendor", "vendor_slug", "next_audit_due_before", "next_audit_due_after",
            "updated_after",
        ]  # fmt: skip

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(vendor__name__icontains=value) | Q(msa_reference__icontains=value) | Q(notes__icontains=value)
        )


class ShortlistFilterSet(BaseFilterSet):
    q = django_filters.CharFilter(method="search", label="Search name or notes")
    vendor = django_filters.ModelMultipleChoiceFilter(
        field_name="entries__vendor", queryset=Vendor.objects.all(), label="Has vendor (id)", distinct=True
    )
    vendor_slug = django_filters.CharFilter(field_name="entries__vendor__slug", label="Has vendor (slug)",
                                            distinct=True)  # fmt: skip

    class Meta:
        model = Shortlist
        fields = ["q", "vendor", "vendor_slug", "updated_after"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(notes__icontains=value))
