import django_filters
from django.db.models import Q

from cro_cmo.api.filters import BaseFilterSet
from vendors.choices import VendorKind
from vendors.models import Vendor


class VendorFilterSet(BaseFilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    kind = django_filters.MultipleChoiceFilter(choices=VendorKind.choices)
    country = django_filters.CharFilter(field_name="hq_country", label="Headquarters country (ISO code)")

    class Meta:
        model = Vendor
        fields = ["q", "kind", "country", "updated_after"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))
