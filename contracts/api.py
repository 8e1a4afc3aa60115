"""Sourcing API: ``rfps``, ``invitations``, ``proposals`` and their state-transition actions (spec §5).

Thin: lookups go through ``for_user`` (out of reach → 404; a POST action looks up among the rows the
caller may change), every change calls a service in ``contracts.services``; a refused transition
(``TransitionError``) answers 409 with its message, a ValidationError 400 with field errors
(``cro_cmo.api.exceptions``), a step of the other side (a vendor shortlisting) 403.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from contracts import services
from contracts.api_comparison import RFPComparisonActions
from contracts.filtersets import InvitationFilterSet, ProposalFilterSet, RFPFilterSet
from contracts.models import RFP, Invitation, Proposal, ProposalLineItem, ProposedMilestone, Question, RFPCriterion
from contracts.serializers import (
    AwardResultSerializer,
    AwardSerializer,
    InvitationSerializer,
    InviteResultSerializer,
    InviteSerializer,
    ProposalSerializer,
    ReasonSerializer,
    RequiredReasonSerializer,
    RFPSerializer,
)
from cro_cmo.api.exceptions import django_errors_as_drf
from cro_cmo.api.schema import ERRORS, ErrorDetailSerializer
from cro_cmo.api.viewsets import BaseViewSet, HistoryActionMixin, ReadOnlyBaseViewSet

PROPOSAL_OF_OTHER_RFP = "This proposal was not made for this RFP."


def _edits_refused_by_state(serializer_class, create=False):
    """PUT and PATCH answer 409 too: a published RFP is fixed; a proposal changes only while its RFP is open
    (and is created only then: ``create``)."""
    responses = {200: serializer_class, 409: ERRORS["409"]}
    views = {"update": extend_schema(responses=responses), "partial_update": extend_schema(responses=responses)}
    if create:
        views["create"] = extend_schema(responses={201: serializer_class, 409: ERRORS["409"]})
    return extend_schema_view(**views)


def _body(serializer_class, request):
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@_edits_refused_by_state(RFPSerializer)
class RFPViewSet(RFPComparisonActions, HistoryActionMixin, BaseViewSet):
    """The caller's sponsor's RFPs; for a vendor's people, the published RFPs their vendor is invited to.

    Not deleted: a draft or published RFP is cancelled (``cancel``, with a reason).
    """

    queryset = RFP.objects.select_related("sponsor", "program").prefetch_related(
        "categories", Prefetch("criteria", queryset=RFPCriterion.objects.order_by("position", "id"))
    )
    serializer_class = RFPSerializer
    filterset_class = RFPFilterSet
    ordering_fields = ["title", "response_deadline", "state", "created", "updated"]
    owner_field = "sponsor"
    http_method_names = ["get", "head", "options", "post", "patch", "put"]

    def get_queryset(self):
        # Questions by the caller's reach (a vendor: its own and the answered ones), in one query per page.
        visible = Question.objects.for_user(self.request.user).order_by("created", "id")
        return (
            super()
            .get_queryset()
            .prefetch_related(Prefetch("questions", queryset=visible, to_attr="visible_questions"))
        )

    def _fresh(self, rfp):
        return Response(self.get_serializer(self.queryset.get(pk=rfp.pk)).data)

    @extend_schema(request=None, responses=RFPSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, *args, **kwargs):
        """Publish a draft: the invitees see it and are told (400 without an invitee or with a past deadline)."""
        return self._fresh(services.rfp_publish(actor=request.user, rfp=self.get_object()))

    @extend_schema(request=ReasonSerializer, responses=RFPSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, *args, **kwargs):
        """End bidding now, before the deadline."""
        rfp = self.get_object()
        reason = _body(ReasonSerializer, request)["reason"]
        return self._fresh(services.rfp_close(actor=request.user, rfp=rfp, reason=reason))

    @extend_schema(request=RequiredReasonSerializer, responses=RFPSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        """Cancel a draft or published RFP; the invitees are told the reason."""
        rfp = self.get_object()
        reason = _body(RequiredReasonSerializer, request)["reason"]
        return self._fresh(services.rfp_cancel(actor=request.user, rfp=rfp, reason=reason))

    @extend_schema(
        request=AwardSerializer,
        responses={
            200: AwardResultSerializer,
            403: OpenApiResponse(
                ErrorDetailSerializer,
                description="Your role may not do this: a viewer, a vendor's people, or a sponsor member giving "
                "an ``override_reason`` (only a sponsor admin overrides the qualification check).",
            ),
            409: OpenApiResponse(
                ErrorDetailSerializer,
                description="Not possible now: the RFP has not closed or is awarded; the proposal is not "
                "submitted or shortlisted; or your company has not qualified (or has disqualified) the vendor "
                "and no sponsor admin's ``override_reason`` was given — the message names the status.",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def award(self, request, *args, **kwargs):
        """Accept one proposal of a closed RFP: the others are rejected and the contract is created.

        The vendor must be approved or conditionally approved by your company; otherwise a sponsor admin
        awards it with ``override_reason``. ``warnings`` say what did not block the award."""
        rfp = self.get_object()
        body = _body(AwardSerializer, request)
        if body["proposal"].rfp_id != rfp.pk:
            raise serializers.ValidationError({"proposal": [PROPOSAL_OF_OTHER_RFP]})
        contract = services.rfp_award(
            actor=request.user,
            proposal=body["proposal"],
            reason=body["reason"],
            override_reason=body["override_reason"],
        )
        fresh = self.queryset.get(pk=rfp.pk)
        return Response(
            {
                "rfp": self.get_serializer(fresh).data,
                "contract": contract.pk,
                "contract_number": contract.number,
                "warnings": contract.award_warnings,
            }
        )

    @extend_schema(request=InviteSerializer, responses=InviteResultSerializer)
    @action(detail=True, methods=["post"])
    def invite(self, request, *args, **kwargs):
        """Invite vendors to a draft or published RFP; ``warnings`` are for the sponsor's eyes (a vendor your
        company has not qualified, is still qualifying or has disqualified; an expired certificate). Vendors
        already invited are left as they are."""
        rfp = self.get_object()
        vendors = _body(InviteSerializer, request)["vendors"]
        invitations, warnings = services.rfp_invite(actor=request.user, rfp=rfp, vendors=vendors)
        data = {"invitations": InvitationSerializer(invitations, many=True).data, "warnings": warnings}
        return Response(data, status=status.HTTP_200_OK)


class InvitationViewSet(HistoryActionMixin, ReadOnlyBaseViewSet):
    """Invitations to RFPs: a sponsor's people see all of their RFPs'; a vendor's people only their own
    (so never who else is invited). Created by ``rfps/{id}/invite/``."""

    queryset = Invitation.objects.select_related("vendor")
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilterSet
    ordering_fields = ["state", "invited_at", "responded_at", "updated"]

    @extend_schema(request=RequiredReasonSerializer, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, *args, **kwargs):
        """The invited vendor declines a published RFP, with a reason the sponsor sees."""
        invitation = self.get_object()
        reason = _body(RequiredReasonSerializer, request)["reason"]
        try:
            invitation = services.invitation_decline(actor=request.user, invitation=invitation, reason=reason)
        except DjangoValidationError as exc:
            errors = django_errors_as_drf(exc).detail
            if "decline_reason" in errors:  # the body calls it "reason"
                errors["reason"] = errors.pop("decline_reason")
            raise serializers.ValidationError(errors) from None
        return Response(self.get_serializer(self.queryset.get(pk=invitation.pk)).data)


@_edits_refused_by_state(ProposalSerializer, create=True)
class ProposalViewSet(HistoryActionMixin, BaseViewSet):
    """A vendor's people: their own proposals. A sponsor's people: proposals to their RFPs once submitted
    (a sealed RFP's only after it has closed). Not deleted: the vendor withdraws one."""

    queryset = Proposal.objects.select_related("vendor").prefetch_related(
        Prefetch("line_items", queryset=ProposalLineItem.objects.order_by("position", "id")),
        Prefetch("milestones", queryset=ProposedMilestone.objects.order_by("position", "id")),
    )
    serializer_class = ProposalSerializer
    filterset_class = ProposalFilterSet
    ordering_fields = ["state", "total_price", "submitted_at", "updated"]
    owner_field = "vendor"
    http_method_names = ["get", "head", "options", "post", "patch", "put"]

    def _fresh(self, proposal):
        return Response(self.get_serializer(self.queryset.get(pk=proposal.pk)).data)

    @extend_schema(request=None, responses=ProposalSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, *args, **kwargs):
        """Submit a complete draft before the deadline (400 names what is missing)."""
        return self._fresh(services.proposal_submit(actor=request.user, proposal=self.get_object()))

    @extend_schema(request=ReasonSerializer, responses=ProposalSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, *args, **kwargs):
        """The vendor withdraws its draft or submitted proposal before the deadline."""
        proposal = self.get_object()
        reason = _body(ReasonSerializer, request)["reason"]
        return self._fresh(services.proposal_withdraw(actor=request.user, proposal=proposal, reason=reason))

    @extend_schema(request=ReasonSerializer, responses=ProposalSerializer)
    @action(detail=True, methods=["post"])
    def shortlist(self, request, *args, **kwargs):
        """The sponsor shortlists a submitted proposal of a closed RFP."""
        proposal = self.get_object()
        reason = _body(ReasonSerializer, request)["reason"]
        return self._fresh(services.proposal_shortlist(actor=request.user, proposal=proposal, reason=reason))

    @extend_schema(request=ReasonSerializer, responses=ProposalSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        """The sponsor rejects a submitted or shortlisted proposal of a closed RFP; the vendor is told."""
        proposal = self.get_object()
        reason = _body(ReasonSerializer, request)["reason"]
        return self._fresh(services.proposal_reject(actor=request.user, proposal=proposal, reason=reason))
