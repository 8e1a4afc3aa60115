"""Requests for proposals: the RFP, its evaluation criteria, its invitations and its Q&A."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q

from audit.tracking import HistoryMixin
from contracts.choices import InvitationState, RFPState
from cro_cmo.models import CHANGE, BaseModel, VisibleQuerySet
from cro_cmo.money import currency_field, money_field
from cro_cmo.transitions import Transition

# Fields of an RFP that only its sponsor's people (and platform staff) may ever see. Every vendor-facing
# rendering — page, serializer, export, e-mail, notification — leaves them out: see RFP.hidden_fields_for.
RFP_SPONSOR_ONLY_FIELDS = frozenset({"budget_ceiling", "budget_currency"})

# RFP states a vendor may see, provided it is invited and the RFP was once published (a draft that was
# cancelled before publishing never reached the vendors, so it stays invisible to them).
VENDOR_VISIBLE_RFP_STATES = (RFPState.PUBLISHED, RFPState.CLOSED, RFPState.AWARDED, RFPState.CANCELLED)


def capped_text(limit: int, **kwargs) -> models.TextField:
    """Free text with a cap the forms, the API and ``full_clean()`` all enforce (Django does not by itself)."""
    kwargs.setdefault("blank", True)
    return models.TextField(max_length=limit, validators=[MaxLengthValidator(limit)], **kwargs)


class RFPQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        """The sponsor's people see and change its RFPs; invited vendors' people read published ones."""
        if user.sponsor_id is not None:
            return self.filter(sponsor_id=user.sponsor_id)
        if user.vendor_id is None or action == CHANGE:
            return self.none()
        invited = Invitation.objects.filter(rfp=OuterRef("pk"), vendor_id=user.vendor_id)
        return self.filter(Exists(invited), state__in=VENDOR_VISIBLE_RFP_STATES, published_at__isnull=False)


class RFP(HistoryMixin, BaseModel):
    """A sponsor's request for proposals for one programme, sent to invited vendors.

    States ``draft → published → closed → awarded``; ``cancelled`` from draft or published. Only the
    services in ``contracts.services`` change the state, through ``TRANSITIONS``.

    The budget ceiling is the sponsor's secret: never shown to vendors (``RFP_SPONSOR_ONLY_FIELDS``,
    ``hidden_fields_for``). Its history is readable by the sponsor's people only (the default owners of
    a record with a ``sponsor`` foreign key), so old ceilings do not leak through the audit trail.
    """

    TRANSITIONS = {
        "publish": Transition(source={RFPState.DRAFT}, target=RFPState.PUBLISHED, event="rfp_invitation"),
        "close": Transition(source={RFPState.PUBLISHED}, target=RFPState.CLOSED, event="rfp_closed"),
        "cancel": Transition(
            source={RFPState.DRAFT, RFPState.PUBLISHED}, target=RFPState.CANCELLED, event="rfp_cancelled"
        ),
        "award": Transition(source={RFPState.CLOSED}, target=RFPState.AWARDED, event="rfp_awarded"),
    }

    sponsor = models.ForeignKey("sponsors.Sponsor", on_delete=models.PROTECT, related_name="rfps")
    program = models.ForeignKey("sponsors.Program", on_delete=models.PROTECT, related_name="rfps")
    title = models.CharField(max_length=200)
    scope = capped_text(20_000, help_text="What the vendor is asked to do, in enough detail to price it.")
    categories = models.ManyToManyField(
        "vendors.ServiceCategory", blank=True, related_name="rfps", verbose_name="categories needed"
    )
    desired_start = models.DateField()
    desired_end = models.DateField()
    budget_ceiling = money_field(null=True, blank=True, help_text="Never shown to vendors.")
    budget_currency = currency_field(blank=True)
    response_deadline = models.DateTimeField(help_text="Proposals are accepted until this moment (with time zone).")
    qa_cutoff = models.DateTimeField(
        "Q&A cut-off", null=True, blank=True, help_text="Questions until then; by default until the deadline."
    )
    sealed = models.BooleanField(
        default=False, help_text="Sealed: proposals stay closed to the sponsor until the RFP closes."
    )
    state = models.CharField(max_length=16, choices=RFPState.choices, default=RFPState.DRAFT, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    awarded_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The opening of a sealed RFP's proposals (who, when): it happens as the RFP closes, by the person
    # who closed it or, with no one (``opened_by`` empty), by the deadline.
    opened_at = models.DateTimeField(null=True, blank=True, editable=False)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = RFPQuerySet.as_manager()
    detail_url_name = "rfp-detail"

    class Meta:
        verbose_name = "RFP"
        verbose_name_plural = "RFPs"
        ordering = ["-created", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(desired_end__gt=F("desired_start")),
                name="rfp_end_after_start",
                violation_error_message="The desired end must be after the desired start.",
            ),
            models.CheckConstraint(
                condition=Q(budget_ceiling__isnull=True) | ~Q(budget_currency=""),
                name="rfp_budget_ceiling_has_currency",
                violation_error_message="A budget ceiling needs a currency.",
            ),
            models.CheckConstraint(
                condition=Q(qa_cutoff__isnull=True) | Q(qa_cutoff__lte=F("response_deadline")),
                name="rfp_qa_cutoff_before_deadline",
                violation_error_message="The Q&A cut-off must not be after the response deadline.",
            ),
        ]
        indexes = [
            # The deadline scan reads published RFPs by deadline only: a partial index keeps it cheap.
            models.Index(
                fields=["response_deadline"], condition=Q(state="published"), name="rfp_published_deadline_idx"
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        errors = {}
        if self.program_id and self.sponsor_id and self.program.sponsor_id != self.sponsor_id:
            errors["program"] = "This programme belongs to another sponsor."
        if self.desired_start and self.desired_end and self.desired_end <= self.desired_start:
            errors["desired_end"] = "The desired end must be after the desired start."
        if self.budget_ceiling is not None and not self.budget_currency:
            errors["budget_currency"] = "A budget ceiling needs a currency."
        if self.qa_cutoff and self.response_deadline and self.qa_cutoff > self.response_deadline:
            errors["qa_cutoff"] = "The Q&A cut-off must not be after the response deadline."
        if errors:
            raise ValidationError(errors)

    @property
    def questions_until(self):
        """When asking questions stops: the cut-off, else the response deadline."""
        return self.qa_cutoff or self.response_deadline

    def budget_visible_to(self, user) -> bool:
        """Only the sponsor's people and platform staff ever see the ceiling."""
        return bool(user and user.is_authenticated and (user.is_superuser or user.sponsor_id == self.sponsor_id))

    def hidden_fields_for(self, user) -> frozenset[str]:
        """Fields a rendering for ``user`` must leave out. Deny by default: everyone but the sponsor's people.

        Serializers and templates for RFPs call this (``for name in rfp.hidden_fields_for(user): drop``)
        rather than deciding themselves.
        """
        return frozenset() if self.budget_visible_to(user) else RFP_SPONSOR_ONLY_FIELDS


class RFPCriterionQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        # Criteria are part of the RFP vendors answer (they may know what counts), written by the sponsor.
        return self.filter(rfp__in=RFP.objects.for_user(user, action))


class RFPCriterion(HistoryMixin, BaseModel):
    """An evaluation criterion of an RFP with its weight (price, timeline, experience, quality …).

    Weights are relative: they need not add up to 100; scoring divides by their sum.
    """

    rfp = models.ForeignKey(RFP, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(max_length=100)
    weight = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    position = models.PositiveSmallIntegerField(default=0)

    objects = RFPCriterionQuerySet.as_manager()

    class Meta:
        verbose_name = "evaluation criterion"
        verbose_name_plural = "evaluation criteria"
        ordering = ["rfp", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rfp", "name"],
                name="rfp_criterion_name_unique",
                violation_error_message="This RFP already has a criterion with this name.",
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=1),
                name="rfp_criterion_weight_positive",
                violation_error_message="A weight is a whole number of at least 1.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.weight})"

    def history_owners(self) -> dict[str, set[int]]:
        return {"sponsor": {self.rfp.sponsor_id}}


class InvitationQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        """The sponsor's people: all invitations of their RFPs. A vendor's people: their own, once published.

        A vendor never sees another vendor's invitation, so neither the list of invitees nor its size.
        """
        if user.sponsor_id is not None:
            return self.filter(rfp__sponsor_id=user.sponsor_id)
        if user.vendor_id is None:
            return self.none()
        return self.filter(
            vendor_id=user.vendor_id, rfp__state__in=VENDOR_VISIBLE_RFP_STATES, rfp__published_at__isnull=False
        )


class Invitation(HistoryMixin, BaseModel):
    """An RFP × vendor: ``invited → declined | responded`` (and back to invited if the proposal is withdrawn)."""

    TRANSITIONS = {
        "decline": Transition(source={InvitationState.INVITED}, target=InvitationState.DECLINED, event="rfp_declined"),
        "respond": Transition(source={InvitationState.INVITED}, target=InvitationState.RESPONDED),
        # A withdrawn proposal is no answer: the invitation is open again until the deadline.
        "reopen": Transition(source={InvitationState.RESPONDED}, target=InvitationState.INVITED, verb="reopened"),
    }

    rfp = models.ForeignKey(RFP, on_delete=models.CASCADE, related_name="invitations")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="rfp_invitations")
    state = models.CharField(
        max_length=16, choices=InvitationState.choices, default=InvitationState.INVITED, editable=False
    )
    decline_reason = capped_text(2_000)
    invited_at = models.DateTimeField(auto_now_add=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    responded_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the "deadline approaching" reminder went out: once per invitation, whoever runs the check.
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["rfp", "vendor__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rfp", "vendor"],
                name="invitation_once_per_rfp_and_vendor",
                violation_error_message="This vendor is already invited to this RFP.",
            ),
        ]

    def __str__(self):
        return f"{self.vendor} · {self.rfp}"

    def history_owners(self) -> dict[str, set[int]]:
        return {"sponsor": {self.rfp.sponsor_id}, "vendor": {self.vendor_id}}


class QuestionQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        """The sponsor's people: every question of their RFPs (they answer them).

        An invited vendor's people: their own questions, and the answered questions of RFPs they see
        (answers are for all invitees). Changing: the sponsor's people and the asking vendor's.
        """
        if user.sponsor_id is not None:
            return self.filter(rfp__sponsor_id=user.sponsor_id)
        if user.vendor_id is None:
            return self.none()
        own = Q(asked_by_vendor_id=user.vendor_id)
        if action == CHANGE:
            return self.filter(own, rfp__in=RFP.objects.for_user(user, "view"))
        return self.filter(own | Q(answered_at__isnull=False), rfp__in=RFP.objects.for_user(user, "view"))


class Question(HistoryMixin, BaseModel):
    """A question an invited vendor asks about an RFP, and the sponsor's answer.

    The answer is for every invitee; the asker's identity (``asked_by_vendor``, ``asked_by``) is not:
    only the sponsor's people and the asking vendor's own people may see it — renderings for anyone
    else leave both out (``asker_visible_to``). Its history is the sponsor's and the asker's alone.
    """

    rfp = models.ForeignKey(RFP, on_delete=models.CASCADE, related_name="questions")
    asked_by_vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="rfp_questions")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = capped_text(5_000, blank=False)
    answer = capped_text(10_000)
    answered_at = models.DateTimeField(null=True, blank=True, editable=False)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ["rfp", "created", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | ~Q(answer=""),
                name="question_answered_has_answer",
                violation_error_message="An answered question needs an answer.",
            ),
        ]

    def __str__(self):
        return self.text[:80]

    def asker_visible_to(self, user) -> bool:
        return bool(
            user
            and user.is_authenticated
            and (
                user.is_superuser
                or user.sponsor_id == self.rfp.sponsor_id
                or (user.vendor_id is not None and user.vendor_id == self.asked_by_vendor_id)
            )
        )

    def history_owners(self) -> dict[str, set[int]]:
        return {"sponsor": {self.rfp.sponsor_id}, "vendor": {self.asked_by_vendor_id}}
