import django_filters
from django.db.models import Q

from cro_cmo.api.filters import BaseFilterSet
from sponsors.choices import Phase
from sponsors.models import Program, Sponsor


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
