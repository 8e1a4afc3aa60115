"""API representations of the sourcing records (RFPs, invitations, proposals).

Every write goes through ``contracts.services`` (never ``state`` set here). Two rules of what a reader
gets live here because they are about renderings:

- an RFP rendered for anyone but its sponsor's people leaves out ``RFP.hidden_fields_for(user)`` (the
  budget ceiling and its currency): the fields are absent, not null, so nothing hints at a value;
- an RFP never lists its invitees (a vendor must not learn who else is invited): invitations are their
  own resource, scoped by ``Invitation.objects.for_user``.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts import services
from contracts.models import RFP, Invitation, Proposal, ProposalLineItem, ProposedMilestone, Question, RFPCriterion
from cro_cmo.api.exceptions import django_errors_as_drf
from cro_cmo.api.serializers import ValidatedModelSerializer
from sponsors.models import Program
from vendors.models import ServiceCategory, Vendor

PROPOSAL_RFP_FIXED = "A proposal stays with its RFP: start a new proposal for another RFP."
REASON_MAX = 2_000


class InputSerializer(ValidatedModelSerializer):
    """JSON-type-strict input (``ValidatedModelSerializer.to_internal_value``) whose instance the service,
    not the serializer, validates and saves: the model's ``full_clean`` runs inside the service."""

    def validate(self, attrs):
        return attrs


def _user(serializer):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class _VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """An id among the rows the caller may ``action`` (an id out of reach reads as "does not exist")."""

    def __init__(self, *, model, action="view", **kwargs):
        self.model, self.action = model, action
        super().__init__(queryset=model.objects.all(), **kwargs)  # the full set only names the type (schema)

    def get_queryset(self):
        user = _user(self.parent) if self.parent is not None else None
        if user is None or not user.is_authenticated:
            return self.model.objects.none()
        return self.model.objects.for_user(user, self.action)


class RFPCriterionSerializer(InputSerializer):
    class Meta:
        model = RFPCriterion
        fields = ["name", "weight"]


class QuestionSerializer(serializers.ModelSerializer):
    """A question and its answer. ``asked_by_vendor`` is present only for the sponsor's people and the asking
    vendor's (``Question.asker_visible_to``): other invitees read the answer, never who asked."""

    asked_at = serializers.DateTimeField(source="created", read_only=True)
    asked_by_vendor = serializers.PrimaryKeyRelatedField(read_only=True, required=False)

    class Meta:
        model = Question
        fields = ["id", "text", "answer", "answered_at", "asked_at", "asked_by_vendor"]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not instance.asker_visible_to(_user(self)):
            data.pop("asked_by_vendor")
        return data


# Written out because drf-spectacular marks every read-only field required, and ``asked_by_vendor`` is
# absent for the readers who may not know the asker.
QUESTIONS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "text": {"type": "string"},
            "answer": {"type": "string"},
            "answered_at": {"type": "string", "format": "date-time", "nullable": True},
            "asked_at": {"type": "string", "format": "date-time"},
            "asked_by_vendor": {"type": "integer", "description": "Only for the sponsor's and the asker's people."},
        },
        "required": ["id", "text", "answer", "answered_at", "asked_at"],
    },
}


class RFPSerializer(InputSerializer):
    """A request for proposals. ``budget_ceiling``/``budget_currency`` appear only for the sponsor's people.

    Created as a draft for one of the caller's programmes (the sponsor is the caller's); changed only while
    a draft (409 after publishing). ``criteria`` and ``categories``, when sent, replace the current ones.
    """

    sponsor = serializers.PrimaryKeyRelatedField(read_only=True)
    program = _VisibleRelatedField(model=Program, action="change", help_text="One of your sponsor's programmes.")
    categories = serializers.PrimaryKeyRelatedField(queryset=ServiceCategory.objects.all(), many=True, required=False)
    criteria = RFPCriterionSerializer(many=True, required=False, help_text="Evaluation criteria, in order.")
    questions = serializers.SerializerMethodField(help_text="Read only: the questions you may read, with answers.")

    class Meta:
        model = RFP
        fields = [
            "id", "sponsor", "program", "title", "scope", "categories", "desired_start", "desired_end",
            "budget_ceiling", "budget_currency", "response_deadline", "qa_cutoff", "sealed", "criteria", "state",
            "published_at", "closed_at", "awarded_at", "questions", "created", "updated",
        ]  # fmt: skip
        read_only_fields = ["state", "published_at", "closed_at", "awarded_at", "created", "updated"]
        extra_kwargs = {
            "budget_ceiling": {"help_text": "Never shown to vendors: present only in the sponsor's responses."},
            "budget_currency": {"help_text": "The ceiling's currency; present only in the sponsor's responses."},
        }

    @extend_schema_field(QUESTIONS_SCHEMA)
    def get_questions(self, rfp):
        questions = getattr(rfp, "visible_questions", None)  # prefetched by the viewset for the caller
        if questions is None:  # a single RFP just written: not prefetched
            questions = Question.objects.for_user(_user(self)).filter(rfp=rfp).order_by("created", "id")
        return QuestionSerializer(questions, many=True, context=self.context).data

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for name in instance.hidden_fields_for(_user(self)):
            data.pop(name, None)
        return data

    def _arguments(self, validated_data):
        data = dict(validated_data)
        categories = data.pop("categories", None)
        criteria = data.pop("criteria", None)
        if criteria is not None:
            criteria = [(row["name"], row.get("weight", 1)) for row in criteria]
        return data, categories, criteria

    def create(self, validated_data):
        data, categories, criteria = self._arguments(validated_data)
        try:
            return services.rfp_create(
                actor=_user(self), categories=categories or (), criteria=criteria or (), **data
            )  # fmt: skip
        except DjangoValidationError as exc:
            raise django_errors_as_drf(exc) from None

    def update(self, instance, validated_data):
        data, categories, criteria = self._arguments(validated_data)
        try:
            return services.rfp_update(
                actor=_user(self), rfp=instance, data=data, categories=categories, criteria=criteria
            )  # fmt: skip
        except DjangoValidationError as exc:
            raise django_errors_as_drf(exc) from None


class InvitationSerializer(serializers.ModelSerializer):
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id", "rfp", "vendor", "vendor_name", "state", "decline_reason", "invited_at", "responded_at",
            "created", "updated",
        ]  # fmt: skip
        read_only_fields = fields


class ProposalLineItemSerializer(InputSerializer):
    line_total = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = ProposalLineItem
        fields = ["id", "description", "quantity", "unit", "unit_price", "pass_through", "line_total"]
        read_only_fields = ["id"]


class ProposedMilestoneSerializer(InputSerializer):
    class Meta:
        model = ProposedMilestone
        fields = ["id", "name", "due_date", "due_offset_days", "amount"]
        read_only_fields = ["id"]


class ProposalSerializer(InputSerializer):
    """A vendor's proposal. The invited vendor's people create and revise it (draft, or submitted before
    the deadline, which must stay complete); ``line_items`` / ``milestones``, when sent, replace the
    current ones. The sponsor's people read it once submitted (for a sealed RFP: once the RFP has closed)."""

    rfp = _VisibleRelatedField(model=RFP, help_text="An RFP your organisation is invited to.")
    vendor = serializers.PrimaryKeyRelatedField(read_only=True)
    line_items = ProposalLineItemSerializer(many=True, required=False)
    milestones = ProposedMilestoneSerializer(many=True, required=False)

    class Meta:
        model = Proposal
        fields = [
            "id", "rfp", "vendor", "state", "total_price", "currency", "timeline", "assumptions", "line_items",
            "milestones", "submitted_at", "created", "updated",
        ]  # fmt: skip
        read_only_fields = ["state", "submitted_at", "created", "updated"]

    def validate_rfp(self, value):
        if self.instance is not None and value.pk != self.instance.rfp_id:
            raise serializers.ValidationError(PROPOSAL_RFP_FIXED)
        return value

    def _save(self, validated_data, **target):
        data = dict(validated_data)
        data.pop("rfp", None)
        line_items, milestones = data.pop("line_items", None), data.pop("milestones", None)
        try:
            return services.proposal_save_draft(
                actor=_user(self), data=data, line_items=line_items, milestones=milestones, **target
            )
        except DjangoValidationError as exc:
            raise django_errors_as_drf(exc) from None

    def create(self, validated_data):
        return self._save(validated_data, rfp=validated_data["rfp"])

    def update(self, instance, validated_data):
        return self._save(validated_data, proposal=instance)


# --- Action bodies ---------------------------------------------------------------------------------------


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=REASON_MAX, default="")


class RequiredReasonSerializer(serializers.Serializer):
    # Blank passes here so that the service's own message ("Say why …") is the one the caller reads.
    reason = serializers.CharField(allow_blank=True, max_length=REASON_MAX, help_text="Why; the other side is told.")


class AwardSerializer(serializers.Serializer):
    proposal = _VisibleRelatedField(model=Proposal, action="change", help_text="The proposal to accept.")
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=REASON_MAX, default="", help_text="Why this proposal (history)."
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=REASON_MAX,
        default="",
        help_text="Needed when your company has not qualified the vendor (no record, not qualified, in "
        "qualification) or has disqualified it: why you award it anyway. Only a sponsor admin may give one "
        "(403 for a member); without it such an award answers 409. Kept on the proposal and in its history.",
    )


class AwardResultSerializer(serializers.Serializer):
    rfp = RFPSerializer()
    contract = serializers.IntegerField(help_text="Id of the contract the award created.")
    contract_number = serializers.CharField()
    warnings = serializers.ListField(
        child=serializers.CharField(),
        help_text="What did not block the award but you should know: a conditional approval, an expired "
        "certificate, an override given though none was needed.",
    )


class InviteSerializer(serializers.Serializer):
    vendors = serializers.PrimaryKeyRelatedField(queryset=Vendor.objects.all(), many=True, allow_empty=False)


class InviteResultSerializer(serializers.Serializer):
    invitations = InvitationSerializer(many=True, help_text="The invitations this call created.")
    warnings = serializers.ListField(
        child=serializers.CharField(),
        help_text="Reasons to think twice, for your eyes only: a vendor your company has not qualified, is "
        "still qualifying or has disqualified; an expired certificate.",
    )
