"""The alerts filterset, shared by the browser list (``/alerts/``) and the API (``/api/v1/alerts/``)."""

import django_filters
from django.db.models import Q

from alerts.models import VENDOR_KINDS, Alert, AlertKind, Severity
from contracts.filtersets import VisibleChoicesMixin
from contracts.models import Contract
from cro_cmo.api.filters import BaseFilterSet
from sponsors.models import Program
from vendors.models import Vendor


class AlertStatus:
    OPEN = "open"
    RESOLVED = "resolved"
    ALL = "all"
    CHOICES = [(OPEN, "Open"), (RESOLVED, "Resolved"), (ALL, "Open and resolved")]


class AlertFilterSet(VisibleChoicesMixin, BaseFilterSet):
    """``status`` (``open`` — the default —, ``resolved`` or ``all``), ``kind`` and ``severity`` (repeatable,
    OR), ``contract``, ``program`` and ``vendor`` (ids; repeatable, OR), ``vendor_name`` (part of the vendor's
    name), ``q`` (words of the title, e.g. a contract number). Always sorted severity first
    (``AlertQuerySet.severity_first``): open before resolved, critical before warning before info, newest first.
    """

    status = django_filters.ChoiceFilter(
        choices=AlertStatus.CHOICES, method="filter_status", empty_label=None, label="Status"
    )
    kind = django_filters.MultipleChoiceFilter(choices=AlertKind.choices, distinct=False, label="Kind")
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, distinct=False, label="Severity")
    q = django_filters.CharFilter(method="search", label="Search the titles")
    contract = django_filters.ModelMultipleChoiceFilter(queryset=Contract.objects.all(), distinct=False)
    program = django_filters.ModelMultipleChoiceFilter(
        queryset=Program.objects.all(), distinct=False, label="Programme"
    )
    vendor = django_filters.ModelMultipleChoiceFilter(queryset=Vendor.objects.all(), distinct=False)
    vendor_name = django_filters.CharFilter(field_name="vendor__name", lookup_expr="icontains", label="Vendor name")

    visible_choice_filters = ("contract", "program", "vendor")

    class Meta:
        model = Alert
        fields = ["status", "kind", "severity", "q", "contract", "program", "vendor", "vendor_name", "updated_after"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if getattr(user, "vendor_id", None) is not None:
            # A vendor never receives the sponsor's budget, cap or audit alerts: their names are not offered.
            # Set on this form's own field: the filter's form field may be built (and cached) already, e.g. by
            # the schema generator, so changing the filter's ``extra`` would not reach it.
            self.form.fields["kind"].choices = [(k.value, k.label) for k in VENDOR_KINDS]

    def filter_status(self, queryset, name, value):
        return queryset  # applied in filter_queryset, where a missing status means "open"

    def search(self, queryset, name, value):
        for term in value.split()[:10]:
            queryset = queryset.filter(Q(title__icontains=term))
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        status = self.form.cleaned_data.get("status") or AlertStatus.OPEN
        if status == AlertStatus.OPEN:
            queryset = queryset.open()
        elif status == AlertStatus.RESOLVED:
            queryset = queryset.filter(resolved_at__isnull=False)
        return queryset.severity_first()
