"""Filtersets of the sourcing records, shared by the browser lists (``/rfps/``) and the API."""

import django_filters
from django.db.models import Q

from contracts.choices import InvitationState, ProposalState, RFPState
from contracts.models import RFP, Invitation, Proposal
from cro_cmo.api.filters import BaseFilterSet, UtcIsoDateTimeFilter
from sponsors.models import Program
from vendors.models import Vendor


class VisibleChoicesMixin:
    """Limits the choices of filters by related object to what the requesting user may see.

    An id out of reach is then a form error ("Select a valid choice") exactly like an id that does not
    exist, so a filter never confirms that someone else's programme or RFP exists.
    """

    visible_choice_filters: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        for name in self.visible_choice_filters:
            field_filter = self.filters[name]
            model = field_filter.queryset.model
            field_filter.queryset = (
                model.objects.for_user(user) if user is not None and user.is_authenticated else model.objects.none()
            )


class RFPFilterSet(VisibleChoicesMixin, BaseFilterSet):
    """``q`` (title, scope, programme code or name), ``state`` and ``program`` (id; repeatable, OR),
    ``sealed``, deadline range."""

    q = django_filters.CharFilter(method="search", label="Search")
    state = django_filters.MultipleChoiceFilter(choices=RFPState.choices, distinct=False)
    program = django_filters.ModelMultipleChoiceFilter(queryset=Program.objects.all(), distinct=False)
    sealed = django_filters.BooleanFilter()
    deadline_after = UtcIsoDateTimeFilter(
        field_name="response_deadline", lookup_expr="gte", label="Deadline at or after (ISO 8601 date-time)"
    )
    deadline_before = UtcIsoDateTimeFilter(
        field_name="response_deadline", lookup_expr="lt", label="Deadline before (ISO 8601 date-time)"
    )

    visible_choice_filters = ("program",)

    class Meta:
        model = RFP
        fields = ["q", "state", "program", "sealed", "deadline_after", "deadline_before", "updated_after"]

    def search(self, queryset, name, value):
        for term in value.split():
            queryset = queryset.filter(
                Q(title__icontains=term)
                | Q(scope__icontains=term)
                | Q(program__code__icontains=term)
                | Q(program__name__icontains=term)
            )
        return queryset


class InvitationFilterSet(VisibleChoicesMixin, BaseFilterSet):
    """``rfp`` and ``vendor`` (ids), ``state`` (repeatable, OR)."""

    rfp = django_filters.ModelMultipleChoiceFilter(queryset=RFP.objects.all(), distinct=False)
    vendor = django_filters.ModelMultipleChoiceFilter(queryset=Vendor.objects.all(), distinct=False)
    state = django_filters.MultipleChoiceFilter(choices=InvitationState.choices, distinct=False)

    visible_choice_filters = ("rfp",)

    class Meta:
        model = Invitation
        fields = ["rfp", "vendor", "state", "updated_after"]


class ProposalFilterSet(VisibleChoicesMixin, BaseFilterSet):
    """``rfp`` and ``vendor`` (ids), ``state`` (repeatable, OR)."""

    rfp = django_filters.ModelMultipleChoiceFilter(queryset=RFP.objects.all(), distinct=False)
    vendor = django_filters.ModelMultipleChoiceFilter(queryset=Vendor.objects.all(), distinct=False)
    state = django_filters.MultipleChoiceFilter(choices=ProposalState.choices, distinct=False)

    visible_choice_filters = ("rfp",)

    class Meta:
        model = Proposal
        fields = ["rfp", "vendor", "state", "updated_after"]
