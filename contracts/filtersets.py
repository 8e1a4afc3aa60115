"""Filtersets of the sourcing records, shared by the browser lists (``/rfps/``) and the API."""

import django_filters
from django.db.models import F, Q

from contracts.budget import with_budget
from contracts.choices import (
    ChangeOrderState,
    ContractKind,
    ContractState,
    InvitationState,
    InvoiceState,
    MilestoneState,
    ProposalState,
    RFPState,
    Side,
)
from contracts.models import RFP, ChangeOrder, Contract, Invitation, Invoice, Milestone, Proposal
from contracts.services.milestones import contract_overdue_q, overdue
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


# --- Contracts -------------------------------------------------------------------------------------------


def contract_over_budget() -> Q:
    """Over budget: invoiced (approved and paid invoices) beyond the budget (``contracts.budget.over_budget``)."""
    return Q(invoiced__gt=F("budget"))


class ContractOrderingFilter(django_filters.OrderingFilter):
    """``ordering=number|end|value|burn`` (``-`` for descending); burn is computed, contracts with no
    budget sort last either way."""

    def filter(self, qs, value):
        if not value:
            return qs
        ordering = []
        for term in value:
            descending = term.startswith("-")
            field = self.param_map.get(term.lstrip("-"))
            if field is None:
                continue
            if field == "burn" and "burn" not in qs.query.annotations:
                qs = with_budget(qs)
            expression = F(field)
            ordering.append(expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True))
        return qs.order_by(*ordering, "-id") if ordering else qs


class ContractFilterSet(VisibleChoicesMixin, BaseFilterSet):
    """``q`` (number or title), ``state``, ``kind``, ``vendor`` and ``program`` (ids; each repeatable, OR),
    ``vendor_name`` (part of the vendor's name, any case), ``end_before`` (date), ``over_budget`` (invoiced
    beyond the budget), ``overdue`` (has an overdue milestone: ``contracts.services.milestones``, the one
    definition), ``ordering`` (number, end, value, burn)."""

    q = django_filters.CharFilter(method="search", label="Search")
    state = django_filters.MultipleChoiceFilter(choices=ContractState.choices, distinct=False, label="Status")
    kind = django_filters.MultipleChoiceFilter(choices=ContractKind.choices, distinct=False)
    vendor = django_filters.ModelMultipleChoiceFilter(queryset=Vendor.objects.all(), distinct=False)
    vendor_name = django_filters.CharFilter(field_name="vendor__name", lookup_expr="icontains", label="Vendor name")
    program = django_filters.ModelMultipleChoiceFilter(
        queryset=Program.objects.all(), distinct=False, label="Programme"
    )
    end_before = django_filters.DateFilter(field_name="end", lookup_expr="lt", label="Ending before")
    over_budget = django_filters.BooleanFilter(method="filter_over_budget", label="Over budget")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Has overdue milestones")
    ordering = ContractOrderingFilter(
        fields=(("number", "number"), ("end", "end"), ("value", "value"), ("burn", "burn")),
        field_labels={"number": "Number", "end": "End date", "value": "Value", "burn": "Budget burn"},
        label="Sort by",
        empty_label="Latest start first",
    )

    visible_choice_filters = ("program",)

    class Meta:
        model = Contract
        fields = [
            "q", "state", "kind", "vendor", "vendor_name", "program", "end_before", "over_budget", "overdue",
            "updated_after",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Vendors a sponsor has contracts with (the directory is public, but a list of every vendor is no
        # help here); a vendor's people only ever see their own contracts, so for them it is their vendor.
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated:
            self.filters["vendor"].queryset = Vendor.objects.filter(
                pk__in=Contract.objects.for_user(user).values("vendor_id")
            )
        else:
            self.filters["vendor"].queryset = Vendor.objects.none()

    def search(self, queryset, name, value):
        for term in value.split():
            queryset = queryset.filter(Q(number__icontains=term) | Q(title__icontains=term))
        return queryset

    def filter_over_budget(self, queryset, name, value):
        if value is None:
            return queryset
        over = contract_over_budget()
        return queryset.filter(over) if value else queryset.exclude(over)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        has_overdue = contract_overdue_q()  # the one definition (contracts.services.milestones)
        return queryset.filter(has_overdue) if value else queryset.exclude(has_overdue)


# --- Contract execution: milestones, change orders, invoices (the API lists) -------------------------------


def milestones_overdue(queryset, value: bool | None):
    """``overdue=true``: the overdue milestones of active contracts (``contracts.services.milestones.overdue``,
    the rule of the contracts list's filter too); ``false``: the others."""
    if value is None:
        return queryset
    overdue_ids = overdue(Milestone.objects.all()).values("pk")
    return queryset.filter(pk__in=overdue_ids) if value else queryset.exclude(pk__in=overdue_ids)


class MilestoneFilterSet(VisibleChoicesMixin, BaseFilterSet):
    """``contract`` (ids) and ``state`` (each repeatable, OR), ``overdue``, ``due_before``."""

    contract = django_filters.ModelMultipleChoiceFilter(queryset=Contract.objects.all(), distinct=False)
    state = django_filters.MultipleChoiceFilter(choices=MilestoneState.choices, distinct=False)
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lt", label="Due before")

    visible_choice_filters = ("contract",)

    class Meta:
        model = Milestone
        fields = ["contract", "state", "overdue", "due_before", "updated_after"]

    def filter_overdue(self, queryset, name, value):
        return milestones_overdue(queryset, value)


class ChangeOrderFilterSet(VisibleChoicesMixin, BaseFilterSet):
    """``contract`` (ids), ``state`` and ``proposed_by_side`` (each repeatable, OR)."""

    contract = django_filters.ModelMultipleChoiceFilter(queryset=Contract.objects.all(), distinct=False)
    state = django_filters.MultipleChoiceFilter(choices=ChangeOrderState.choices, distinct=False)
    proposed_by_side = django_filters.MultipleChoiceFilter(choices=Side.choices, distinct=False)

    visible_choice_filters = ("contract",)

    class Meta:
        model = ChangeOrder
        fields = ["contract", "state", "proposed_by_side", "updated_after"]


class InvoiceFilterSet(VisibleChoicesMixin, BaseFilterSet):
    """``contract`` and ``milestone`` (ids), ``state`` (each repeatable, OR), issue-date range."""

    contract = django_filters.ModelMultipleChoiceFilter(queryset=Contract.objects.all(), distinct=False)
    milestone = django_filters.ModelMultipleChoiceFilter(queryset=Milestone.objects.all(), distinct=False)
    state = django_filters.MultipleChoiceFilter(choices=InvoiceState.choices, distinct=False)
    issued_after = django_filters.DateFilter(field_name="issued_on", lookup_expr="gte", label="Issued on or after")
    issued_before = django_filters.DateFilter(field_name="issued_on", lookup_expr="lt", label="Issued before")

    visible_choice_filters = ("contract", "milestone")

    class Meta:
        model = Invoice
        fields = ["contract", "milestone", "state", "issued_after", "issued_before", "updated_after"]
