"""The comparison of an RFP's proposals and the sponsor's scores, as actions on ``rfps``.

- ``GET rfps/{id}/comparison/``: what the comparison page shows (``contracts.comparison.rfp_comparison``),
  money as decimal strings next to their own currency. The sponsor's alone: a vendor's people, who may
  read the RFP, get 404 here. A sealed RFP still taking proposals answers ``sealed_until`` and no
  proposals.
- ``POST rfps/{id}/scores/``: the caller's own score of one proposal against one criterion (created:
  201, changed: 200), through ``contracts.services.scoring.score_save``: 400 for a bad score or a
  criterion of another RFP, 409 before the RFP closes or after its award, 403 for a viewer or a vendor
  member (404 for a vendor: the lookup is among the RFPs the caller may change).
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from contracts.choices import ContractState, ProposalState
from contracts.comparison import CEILING_LABELS, rfp_comparison
from contracts.models import Proposal, ProposalScore, RFPCriterion
from contracts.models.scoring import SCORE_MAX
from contracts.serializers import _VisibleRelatedField
from contracts.services.scoring import score_save
from cro_cmo.api.schema import ErrorDetailSerializer, ValidationErrorSerializer
from sponsors.choices import QualificationStatus
from vendors.choices import CertificateStatus

PROPOSAL_OF_OTHER_RFP = "This proposal was not made for this RFP."
MONEY = {"max_digits": 16, "decimal_places": 2}
AVERAGE = {"max_digits": 5, "decimal_places": 2}


def _values(choices) -> str:
    return ", ".join(f"``{value}``" for value in choices.values)


class ComparisonCriterionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    weight = serializers.IntegerField()


class CriterionScoreSerializer(serializers.Serializer):
    criterion = serializers.IntegerField(source="criterion_id")
    name = serializers.CharField()
    weight = serializers.IntegerField()
    average = serializers.DecimalField(**AVERAGE, allow_null=True, help_text="Average of every scorer's score, 0–10.")
    count = serializers.IntegerField(help_text="How many people scored this criterion.")
    mine = serializers.DecimalField(max_digits=3, decimal_places=1, allow_null=True, help_text="Your own score.")
    my_comment = serializers.CharField(allow_blank=True)
    best = serializers.BooleanField(help_text="The highest average of the proposals still in the running.")


class ComparisonMilestoneSerializer(serializers.Serializer):
    name = serializers.CharField()
    due_date = serializers.DateField(allow_null=True)
    due_offset_days = serializers.IntegerField(allow_null=True, help_text="Days after the start (instead of a date).")
    amount = serializers.DecimalField(**MONEY, help_text="In the proposal's currency.")


class ComparisonCertificateSerializer(serializers.Serializer):
    type = serializers.CharField()
    type_label = serializers.CharField()
    authority = serializers.CharField()
    authority_label = serializers.CharField()
    number = serializers.CharField(allow_blank=True)
    expires_on = serializers.DateField(allow_null=True)
    status = serializers.CharField(help_text=f"As of today: {_values(CertificateStatus)} (expiring: within 90 days).")
    status_label = serializers.CharField()


class ContractCountSerializer(serializers.Serializer):
    state = serializers.CharField(help_text=f"The contracts' state: {_values(ContractState)}.")
    label = serializers.CharField()
    count = serializers.IntegerField()


class ProposalColumnSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The proposal.")
    vendor = serializers.IntegerField(source="vendor_id")
    vendor_name = serializers.CharField()
    vendor_slug = serializers.CharField()
    state = serializers.CharField(help_text=f"The proposal's state: {_values(ProposalState)}.")
    competing = serializers.BooleanField(help_text="Still in the running (not rejected): best marks compare these.")
    total_price = serializers.DecimalField(**MONEY)
    currency = serializers.CharField(help_text="The currency of every amount of this proposal.")
    ceiling_check = serializers.ChoiceField(
        choices=[("", "No ceiling set"), *CEILING_LABELS.items()],
        allow_blank=True,
        help_text="Against the RFP's budget ceiling, only in the ceiling's currency (never converted).",
    )
    timeline = serializers.CharField(allow_blank=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    finish_date = serializers.DateField(
        allow_null=True, help_text="The last milestone's due date (offsets count from the RFP's desired start)."
    )
    milestones = ComparisonMilestoneSerializer(many=True)
    fees_total = serializers.DecimalField(**MONEY, help_text="Line items that are the vendor's fees.")
    pass_through_total = serializers.DecimalField(**MONEY, help_text="Line items passed through at cost.")
    line_item_count = serializers.IntegerField()
    scores = CriterionScoreSerializer(many=True)
    scored_criteria = serializers.IntegerField()
    weighted_total = serializers.DecimalField(
        **AVERAGE,
        allow_null=True,
        help_text="Σ(average × weight) ÷ Σ weights, 0–10; null until every criterion is scored.",
    )
    certificates = ComparisonCertificateSerializer(many=True)
    qualification_status = serializers.CharField(
        allow_blank=True,
        help_text=f"Your company's qualification of the vendor: {_values(QualificationStatus)}; empty with no record.",
    )
    qualification_label = serializers.CharField()
    contracts = ContractCountSerializer(many=True, help_text="The vendor's contracts with your company, by state.")
    past_awards = serializers.IntegerField(help_text="Your company's earlier RFPs awarded to this vendor.")
    best_price = serializers.BooleanField(help_text="Lowest price; only when every competing price is in one currency.")
    highest_price = serializers.BooleanField()
    best_finish = serializers.BooleanField(help_text="Earliest finish.")
    best_total = serializers.BooleanField(help_text="Highest weighted total.")


class ComparisonSerializer(serializers.Serializer):
    rfp = serializers.IntegerField(source="rfp.pk")
    sealed_until = serializers.DateTimeField(
        allow_null=True, help_text="Set while a sealed RFP takes proposals: nothing else is shown until then."
    )
    criteria = ComparisonCriterionSerializer(many=True)
    currencies = serializers.ListField(child=serializers.CharField())
    common_currency = serializers.CharField(
        allow_blank=True, help_text="The one currency of the competing proposals; empty when they differ."
    )
    mixed_currencies = serializers.BooleanField(help_text="Prices are in several currencies: never added or compared.")
    scorable = serializers.BooleanField(
        help_text="The RFP is closed: its submitted and shortlisted proposals take scores."
    )
    proposals = ProposalColumnSerializer(many=True)


class ScoreInputSerializer(serializers.Serializer):
    proposal = _VisibleRelatedField(model=Proposal, help_text="A proposal of this RFP.")
    criterion = _VisibleRelatedField(model=RFPCriterion, help_text="An evaluation criterion of this RFP.")
    score = serializers.CharField(
        max_length=8, help_text=f'0 to {SCORE_MAX:.0f}, at most one decimal, as a string: "7.5".'
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2_000)


class ProposalScoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProposalScore
        fields = ["id", "proposal", "criterion", "scorer", "score", "comment", "created", "updated"]
        read_only_fields = fields


class RFPComparisonActions:
    """Mixed into ``RFPViewSet``: ``GET rfps/{id}/comparison/`` and ``POST rfps/{id}/scores/``."""

    def _sponsor_rfp(self):
        """The RFP, if the caller is on its sponsor's side (platform staff too); else 404, like any RFP out of
        reach — a vendor's people may read the RFP but not its comparison."""
        rfp = self.get_object()
        user = self.request.user
        if not (user.is_superuser or (user.sponsor_id is not None and user.sponsor_id == rfp.sponsor_id)):
            raise Http404("No such RFP.")
        return rfp

    @extend_schema(responses=ComparisonSerializer)
    @action(detail=True, methods=["get"])
    def comparison(self, request, *args, **kwargs):
        """The RFP's proposals side by side with scores, certificates, your qualification of each vendor and
        its track record with you; "best" marks; prices never added or compared across currencies."""
        rfp = self._sponsor_rfp()
        return Response(ComparisonSerializer(rfp_comparison(rfp, request.user)).data)

    @extend_schema(
        request=ScoreInputSerializer,
        responses={
            200: OpenApiResponse(ProposalScoreSerializer, description="Your score, changed."),
            201: OpenApiResponse(ProposalScoreSerializer, description="Your score, given for the first time."),
            400: OpenApiResponse(
                ValidationErrorSerializer, description="A bad score, or a criterion or proposal of another RFP."
            ),
            409: OpenApiResponse(
                ErrorDetailSerializer,
                description="Not now: the RFP has not closed, or is awarded; or the proposal is rejected.",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def scores(self, request, *args, **kwargs):
        """Give or change your own score of one proposal against one criterion (each member keeps their own
        sheet; the comparison shows the average). Scoring is open while the RFP is closed and not awarded."""
        rfp = self._sponsor_rfp()
        body = ScoreInputSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        proposal, criterion = body.validated_data["proposal"], body.validated_data["criterion"]
        if proposal.rfp_id != rfp.pk:
            raise serializers.ValidationError({"proposal": [PROPOSAL_OF_OTHER_RFP]})
        existed = ProposalScore.objects.filter(proposal=proposal, criterion=criterion, scorer=request.user).exists()
        score = score_save(
            actor=request.user,
            proposal=proposal,
            criterion=criterion,
            score=body.validated_data["score"],
            comment=body.validated_data["comment"],
        )
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(ProposalScoreSerializer(score).data, status=code)
