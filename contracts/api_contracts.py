"""Contract execution API: ``contracts``, ``milestones``, ``change-orders``, ``invoices`` and their actions
(spec §5): ``contracts/{id}/sign/``, ``milestones/{id}/start|submit|accept|reject/``,
``change-orders/{id}/approve|reject|withdraw/``, ``invoices/{id}/approve|reject|mark-paid/``.

Thin, as ``contracts.api``: lookups through ``for_user`` (out of reach → 404), every change through a
service of ``contracts.services``; a refused transition answers 409 with its message, bad input 400 with
field errors, the other side's step (a vendor approving its own invoice) 403 with the service's reason.

The contracts list is written for speed (``serializers_contracts.ContractRows``): one statement for the
page, one for the count, whatever the page holds.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from contracts.filtersets import ChangeOrderFilterSet, ContractFilterSet, InvoiceFilterSet, MilestoneFilterSet
from contracts.models import ChangeOrder, Contract, Invoice, Milestone
from contracts.serializers import ReasonSerializer, RequiredReasonSerializer
from contracts.serializers_contracts import (
    ChangeOrderSerializer,
    CommentSerializer,
    ContractRows,
    ContractSerializer,
    ContractSummarySerializer,
    InvoiceApproveSerializer,
    InvoiceSerializer,
    MilestoneSerializer,
    PasswordSerializer,
)
from contracts.services import change_orders, invoices, milestones, signatures
from contracts.services import contracts as contract_services
from cro_cmo.api.filters import FilterBackend
from cro_cmo.api.schema import ERRORS, ErrorDetailSerializer
from cro_cmo.api.viewsets import BaseViewSet, HistoryActionMixin, ReadOnlyBaseViewSet

LOCKED_OUT_429 = OpenApiResponse(
    ErrorDetailSerializer, description="Too many wrong passwords: signing, like signing in, waits for the cool-off."
)
SIGNATURE_400 = OpenApiResponse(
    ERRORS["400"].response, description="`password` missing or wrong (a wrong one counts toward the lock-out)."
)


def _body(serializer_class, request) -> dict:
    """The action's body. A reason the schema calls required (``RequiredReasonSerializer``) is read as optional
    here: the service first says whether the caller's side may act at all (403), then that it needs a reason."""
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _FreshMixin:
    """Answer an action with the object read afresh, as ``retrieve`` renders it."""

    def _fresh(self, obj, status=200, **extra):
        data = self.get_serializer(self.get_queryset_unscoped().get(pk=obj.pk)).data
        return Response({**data, **extra} if extra else data, status=status)

    def get_queryset_unscoped(self):
        return self.queryset


@extend_schema_view(
    list=extend_schema(responses=ContractSummarySerializer(many=True)),
    update=extend_schema(responses={200: ContractSerializer, 409: ERRORS["409"]}),
    partial_update=extend_schema(responses={200: ContractSerializer, 409: ERRORS["409"]}),
)
class ContractViewSet(_FreshMixin, HistoryActionMixin, BaseViewSet):
    """Contracts of the caller's organisation, sponsor's or vendor's side.

    The list shows each contract with its parties, programme, parent MSA, value, budget figures and next
    milestone; one contract adds its signatures and transferred activities. Not deleted (a contract is
    terminated); ``ordering=`` takes ``number``, ``end``, ``value``, ``burn`` (``-`` for descending).
    """

    queryset = Contract.objects.select_related("sponsor", "vendor", "program", "parent")
    serializer_class = ContractSerializer
    filterset_class = ContractFilterSet
    # The filterset orders (``ordering=``, burn included): DRF's OrderingFilter would read the same parameter.
    filter_backends = [FilterBackend]
    # Only a sponsor's people create contracts: refused (403) before the body is read, in the service's words.
    owner_field = "sponsor"
    owner_required_message = contract_services.CONTRACT_CREATE_SPONSOR_ONLY
    http_method_names = ["get", "head", "options", "post", "patch", "put"]

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(ContractRows(queryset))
        context = {
            **self.get_serializer_context(),
            "today": timezone.localdate(),
            "tz": timezone.get_current_timezone(),
        }
        return self.get_paginated_response(ContractSummarySerializer(page, many=True, context=context).data)

    def update(self, request, *args, **kwargs):
        # The sponsor's step: said before the body is read, so a vendor hears "not yours", not a field error.
        contract_services.require_contract_sponsor(request.user, self.get_object())
        return super().update(request, *args, **kwargs)

    @extend_schema(
        request=PasswordSerializer, responses={200: ContractSerializer, 400: SIGNATURE_400, 429: LOCKED_OUT_429}
    )
    @action(detail=True, methods=["post"])
    def sign(self, request, *args, **kwargs):
        """Sign for your side with your password (21 CFR Part 11): printed name, time, meaning and a SHA-256
        of the terms are kept. The sponsor signs first (a draft is sent for signature by it); the second
        signature makes the contract active."""
        contract = self.get_object()
        password = _body(PasswordSerializer, request)["password"]
        signature = signatures.contract_sign(actor=request.user, contract=contract, password=password, request=request)
        return self._fresh(signature.contract)

    @extend_schema(request=None, responses=ContractSerializer)
    @action(detail=True, methods=["post"], url_path="send-for-signature")
    def send_for_signature(self, request, *args, **kwargs):
        """The sponsor sends a draft to the vendor for signature (its terms stay editable until someone signs)."""
        return self._fresh(
            contract_services.contract_send_for_signature(actor=request.user, contract=self.get_object())
        )

    @extend_schema(request=ReasonSerializer, responses=ContractSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, *args, **kwargs):
        """The sponsor marks an active contract completed (no change order may still be proposed)."""
        contract = self.get_object()
        reason = _body(ReasonSerializer, request)["reason"]
        return self._fresh(contract_services.contract_complete(actor=request.user, contract=contract, reason=reason))

    @extend_schema(request=RequiredReasonSerializer, responses=ContractSerializer)
    @action(detail=True, methods=["post"])
    def terminate(self, request, *args, **kwargs):
        """The sponsor terminates a contract pending signature or active, with a reason the vendor is told."""
        contract = self.get_object()
        reason = _body(ReasonSerializer, request)["reason"]
        return self._fresh(contract_services.contract_terminate(actor=request.user, contract=contract, reason=reason))


class MilestoneViewSet(_FreshMixin, HistoryActionMixin, ReadOnlyBaseViewSet):
    """Payment milestones of the caller's contracts. Added, changed and removed by the contract (before
    signature) or by change orders; moved on by the actions: the vendor starts and submits (evidence:
    ``documents`` with ``milestone``), the sponsor accepts (with a comment) or rejects (with a reason)."""

    queryset = Milestone.objects.select_related("contract", "decided_by")
    serializer_class = MilestoneSerializer
    filterset_class = MilestoneFilterSet
    ordering_fields = ["due_date", "baseline_due_date", "amount", "state", "position", "updated"]

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    @extend_schema(request=None, responses=MilestoneSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, *args, **kwargs):
        """The vendor starts work on a planned milestone (or again after a rejection)."""
        return self._fresh(milestones.milestone_start(actor=request.user, milestone=self.get_object()))

    @extend_schema(request=CommentSerializer, responses=MilestoneSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, *args, **kwargs):
        """The vendor submits a milestone in progress for acceptance; the sponsor is told."""
        milestone = self.get_object()
        comment = _body(CommentSerializer, request)["comment"]
        return self._fresh(milestones.milestone_submit(actor=request.user, milestone=milestone, comment=comment))

    @extend_schema(request=CommentSerializer, responses=MilestoneSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, *args, **kwargs):
        """The sponsor accepts a submitted milestone: its amount can then be invoiced."""
        milestone = self.get_object()
        comment = _body(CommentSerializer, request)["comment"]
        return self._fresh(milestones.milestone_accept(actor=request.user, milestone=milestone, comment=comment))

    @extend_schema(request=RequiredReasonSerializer, responses=MilestoneSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        """The sponsor sends a submitted milestone back with a reason; the vendor starts it again."""
        milestone = self.get_object()
        reason = _body(ReasonSerializer, request)["reason"]
        return self._fresh(milestones.milestone_reject(actor=request.user, milestone=milestone, reason=reason))


@extend_schema_view(create=extend_schema(responses={201: ChangeOrderSerializer, 409: ERRORS["409"]}))
class ChangeOrderViewSet(_FreshMixin, HistoryActionMixin, mixins.CreateModelMixin, ReadOnlyBaseViewSet):
    """Change orders of the caller's contracts: proposed by either party (POST), approved with the other
    party's signature (all of it applies at once: value, end, milestones) or rejected with a reason;
    withdrawn by the side that proposed it. Never edited or deleted."""

    queryset = ChangeOrder.objects.select_related("contract", "proposed_by", "decided_by").prefetch_related(
        "items", "signatures"
    )
    serializer_class = ChangeOrderSerializer
    filterset_class = ChangeOrderFilterSet
    ordering_fields = ["sequence", "state", "value_delta", "decided_at", "created", "updated"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._fresh(serializer.save(), status=201)

    @extend_schema(
        request=PasswordSerializer, responses={200: ChangeOrderSerializer, 400: SIGNATURE_400, 429: LOCKED_OUT_429}
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        """The other party approves with its password (an electronic signature): the value delta, the new end
        and the milestone items apply at once, re-baselining the budget. The proposing side gets 403."""
        change_order = self.get_object()
        password = _body(PasswordSerializer, request)["password"]
        approved = change_orders.change_order_approve(
            actor=request.user, change_order=change_order, password=password, request=request
        )
        return self._fresh(approved)

    @extend_schema(request=RequiredReasonSerializer, responses=ChangeOrderSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        """The other party rejects a proposed change order with a reason; nothing of it applies."""
        change_order = self.get_object()
        reason = _body(ReasonSerializer, request)["reason"]
        return self._fresh(
            change_orders.change_order_reject(actor=request.user, change_order=change_order, reason=reason)
        )

    @extend_schema(request=ReasonSerializer, responses=ChangeOrderSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, *args, **kwargs):
        """The side that proposed a change order withdraws it while it is still proposed."""
        change_order = self.get_object()
        reason = _body(ReasonSerializer, request)["reason"]
        return self._fresh(
            change_orders.change_order_withdraw(actor=request.user, change_order=change_order, reason=reason)
        )


class InvoiceApproveResultSerializer(InvoiceSerializer):
    warnings = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="An override given where none was needed."
    )

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "warnings"]


@extend_schema_view(create=extend_schema(responses={201: InvoiceSerializer, 409: ERRORS["409"]}))
class InvoiceViewSet(_FreshMixin, HistoryActionMixin, mixins.CreateModelMixin, ReadOnlyBaseViewSet):
    """Invoices of the caller's contracts: the vendor submits them (POST), the sponsor approves, rejects and
    marks them paid. Approving beyond the budget needs a sponsor admin's ``override_reason``."""

    queryset = Invoice.objects.select_related("contract", "milestone", "submitted_by", "approved_by")
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilterSet
    ordering_fields = ["issued_on", "amount", "state", "number", "approved_at", "paid_at", "created", "updated"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._fresh(serializer.save(), status=201)

    @extend_schema(
        request=InvoiceApproveSerializer,
        responses={
            200: InvoiceApproveResultSerializer,
            403: OpenApiResponse(
                ErrorDetailSerializer,
                description="Not the sponsor's member or admin (a vendor never approves its own invoice), or a "
                "member giving an `override_reason` (only an admin overrides the budget).",
            ),
            409: OpenApiResponse(
                ErrorDetailSerializer,
                description="Not submitted; or the approval would take the invoiced total beyond the budget and "
                "no sponsor admin's `override_reason` was given — the message says by how much.",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        """The sponsor approves a submitted invoice: it counts as invoiced against the budget."""
        invoice = self.get_object()
        override_reason = _body(InvoiceApproveSerializer, request)["override_reason"]
        approved = invoices.invoice_approve(actor=request.user, invoice=invoice, override_reason=override_reason)
        return self._fresh(approved, warnings=getattr(approved, "approval_warnings", []))

    @extend_schema(request=RequiredReasonSerializer, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        """The sponsor rejects a submitted invoice with a reason (its milestone can be invoiced again)."""
        invoice = self.get_object()
        reason = _body(ReasonSerializer, request)["reason"]
        return self._fresh(invoices.invoice_reject(actor=request.user, invoice=invoice, reason=reason))

    @extend_schema(request=None, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, *args, **kwargs):
        """The sponsor records that an approved invoice was paid."""
        return self._fresh(invoices.invoice_mark_paid(actor=request.user, invoice=self.get_object()))
