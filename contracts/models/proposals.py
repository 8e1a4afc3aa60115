"""Vendors' proposals to RFPs: price, line items and proposed milestones."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from audit.tracking import HistoryMixin
from contracts.choices import LIVE_PROPOSAL_STATES, SPONSOR_VISIBLE_PROPOSAL_STATES, ProposalState, RFPState
from contracts.models.rfps import RFP, capped_text
from cro_cmo.models import BaseModel, VisibleQuerySet
from cro_cmo.money import currency_field, money_field
from cro_cmo.transitions import Transition

CENT = Decimal("0.01")
# A sealed RFP's proposals open to the sponsor once bidding has ended.
OPENED_RFP_STATES = (RFPState.CLOSED, RFPState.AWARDED)
# The one text for a second live proposal, whether full_clean() or the database (a race) finds it.
ONE_LIVE_PROPOSAL = "This vendor already has a proposal for this RFP: change or withdraw that one."


class ProposalQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        """A vendor's people: their own proposals (all states). The sponsor's people: the proposals to their
        RFPs from submission on (never drafts or withdrawn ones) — for a sealed RFP only once it has
        closed. The same set is what each side may change; which change is allowed is the services' rule.
        """
        if user.vendor_id is not None:
            return self.filter(vendor_id=user.vendor_id)
        if user.sponsor_id is None:
            return self.none()
        return self.filter(
            Q(rfp__sealed=False) | Q(rfp__state__in=OPENED_RFP_STATES),
            rfp__sponsor_id=user.sponsor_id,
            state__in=SPONSOR_VISIBLE_PROPOSAL_STATES,
        )


class Proposal(HistoryMixin, BaseModel):
    """A vendor's answer to an RFP.

    States ``draft → submitted → shortlisted → accepted | rejected``; ``withdrawn`` by the vendor before
    the deadline. At most one *live* proposal (not withdrawn, not rejected) per RFP and vendor — a
    database constraint, so two concurrent submissions cannot both create one.

    Price, currency and milestones may be incomplete in a draft; submitting checks them
    (``contracts.services.proposal_submit``). The database insists on a price once submitted.
    """

    TRANSITIONS = {
        "submit": Transition(source={ProposalState.DRAFT}, target=ProposalState.SUBMITTED, event="proposal_submitted"),
        "withdraw": Transition(
            source={ProposalState.DRAFT, ProposalState.SUBMITTED},
            target=ProposalState.WITHDRAWN,
            event="proposal_withdrawn",
        ),
        "shortlist": Transition(source={ProposalState.SUBMITTED}, target=ProposalState.SHORTLISTED),
        "accept": Transition(
            source={ProposalState.SUBMITTED, ProposalState.SHORTLISTED},
            target=ProposalState.ACCEPTED,
            event="proposal_accepted",
        ),
        "reject": Transition(
            source={ProposalState.SUBMITTED, ProposalState.SHORTLISTED},
            target=ProposalState.REJECTED,
            event="proposal_rejected",
        ),
    }

    rfp = models.ForeignKey(RFP, on_delete=models.PROTECT, related_name="proposals")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="proposals")
    state = models.CharField(max_length=16, choices=ProposalState.choices, default=ProposalState.DRAFT, editable=False)
    total_price = money_field(null=True, blank=True)
    currency = currency_field(blank=True)
    timeline = capped_text(5_000, help_text="How the work is planned over time.")
    assumptions = capped_text(10_000)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # An award to a vendor the sponsor has not qualified (or has disqualified) needs a sponsor admin's
    # explicit override with a reason, kept here and in the history.
    award_override_reason = capped_text(2_000, editable=False)
    award_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["rfp", "vendor__name", "-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["rfp", "vendor"],
                condition=Q(state__in=LIVE_PROPOSAL_STATES),
                name="proposal_one_live_per_rfp_and_vendor",
                violation_error_message=ONE_LIVE_PROPOSAL,
            ),
            models.CheckConstraint(
                condition=Q(state__in=[ProposalState.DRAFT, ProposalState.WITHDRAWN])
                | (Q(total_price__isnull=False) & ~Q(currency="") & Q(submitted_at__isnull=False)),
                name="proposal_submitted_has_price",
                violation_error_message="A submitted proposal needs a total price and a currency.",
            ),
            models.CheckConstraint(
                condition=Q(total_price__isnull=True) | Q(total_price__gte=0),
                name="proposal_total_not_negative",
                violation_error_message="The total price cannot be negative.",
            ),
        ]

    def __str__(self):
        return f"Proposal of {self.vendor} for {self.rfp}"

    def clean(self):
        if self.total_price is not None and not self.currency:
            raise ValidationError({"currency": "A price needs a currency."})

    def history_owners(self) -> dict[str, set[int]]:
        return {"vendor": {self.vendor_id}, "sponsor": {self.rfp.sponsor_id}}

    def history_visible_to(self, user) -> bool:
        """The vendor's people; the sponsor's people only while they may see the proposal itself
        (a sealed proposal's history would otherwise show its prices before the RFP closes)."""
        if not super().history_visible_to(user):
            return False
        return (
            user.is_superuser
            or user.vendor_id == self.vendor_id
            or (type(self).objects.for_user(user).filter(pk=self.pk).exists())
        )


class ProposalPartQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        return self.filter(proposal__in=Proposal.objects.for_user(user, action))


class ProposalLineItem(HistoryMixin, BaseModel):
    """One priced line of a proposal. Pass-through costs (paid on to third parties at cost) are marked apart
    from the vendor's fees, so that the sponsor compares fees with fees."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="line_items")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=12, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))])
    unit = models.CharField(max_length=40, blank=True, help_text="e.g. patient, site, batch, hour.")
    unit_price = money_field()
    pass_through = models.BooleanField(default=False, help_text="A third-party cost passed on at cost.")

    objects = ProposalPartQuerySet.as_manager()

    class Meta:
        ordering = ["proposal", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="proposal_line_quantity_positive",
                violation_error_message="The quantity must be more than zero.",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0),
                name="proposal_line_unit_price_not_negative",
                violation_error_message="The unit price cannot be negative.",
            ),
        ]

    def __str__(self):
        return self.description

    @property
    def line_total(self) -> Decimal:
        """quantity × unit price, rounded half-up to the cent (Decimal, never float)."""
        return (self.quantity * self.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)

    def history_owners(self) -> dict[str, set[int]]:
        return self.proposal.history_owners()

    def history_visible_to(self, user) -> bool:
        return self.proposal.history_visible_to(user)


class ProposedMilestone(HistoryMixin, BaseModel):
    """A payment milestone the vendor proposes: due on a date, or a number of days after the contract starts
    (exactly one of the two); on award it becomes a contract milestone with a date."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200)
    due_date = models.DateField(null=True, blank=True)
    due_offset_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days after the contract start (instead of a date)."
    )
    amount = money_field()

    objects = ProposalPartQuerySet.as_manager()

    class Meta:
        ordering = ["proposal", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(due_date__isnull=False) & Q(due_offset_days__isnull=True))
                | (Q(due_date__isnull=True) & Q(due_offset_days__isnull=False)),
                name="proposed_milestone_date_or_offset",
                violation_error_message="Give either a due date or a number of days after the start, not both.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="proposed_milestone_amount_not_negative",
                violation_error_message="A milestone amount cannot be negative.",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if (self.due_date is None) == (self.due_offset_days is None):
            raise ValidationError({"due_date": "Give either a due date or a number of days after the start, not both."})

    def history_owners(self) -> dict[str, set[int]]:
        return self.proposal.history_owners()

    def history_visible_to(self, user) -> bool:
        return self.proposal.history_visible_to(user)
