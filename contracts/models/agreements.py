"""Contracts between a sponsor and a vendor, and their payment milestones.

Built here as far as an award needs it; signatures, change orders and invoices come with the contracts
issue, which declares their services on these transitions.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from audit.tracking import HistoryMixin
from contracts.choices import ContractKind, ContractState, MilestoneState
from contracts.models.rfps import capped_text
from cro_cmo.models import BaseModel, VisibleQuerySet
from cro_cmo.money import currency_field, money_field
from cro_cmo.transitions import Transition


class ContractQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        """Both parties: the sponsor's people and the vendor's people (each side acts on its own steps)."""
        if user.sponsor_id is not None:
            return self.filter(sponsor_id=user.sponsor_id)
        if user.vendor_id is not None:
            return self.filter(vendor_id=user.vendor_id)
        return self.none()


class Contract(HistoryMixin, BaseModel):
    """An agreement between a sponsor and a vendor: an MSA, a work order under an MSA, a stand-alone
    agreement (what an award becomes without an MSA), a quality agreement or a CDA.

    States ``draft → pending_signature → active → completed | terminated``. ``number`` is generated per
    sponsor (``contracts.services.contract_number_next``); ``source_proposal`` is the accepted proposal
    an award created it from.
    """

    TRANSITIONS = {
        "send_for_signature": Transition(
            source={ContractState.DRAFT},
            target=ContractState.PENDING_SIGNATURE,
            event="contract_sent_for_signature",
            verb="sent for signature",
        ),
        "activate": Transition(
            source={ContractState.PENDING_SIGNATURE},
            target=ContractState.ACTIVE,
            event="contract_active",
            verb="activated",
        ),
        "complete": Transition(
            source={ContractState.ACTIVE}, target=ContractState.COMPLETED, event="contract_completed"
        ),
        "terminate": Transition(
            source={ContractState.PENDING_SIGNATURE, ContractState.ACTIVE},
            target=ContractState.TERMINATED,
            event="contract_terminated",
        ),
    }

    sponsor = models.ForeignKey("sponsors.Sponsor", on_delete=models.PROTECT, related_name="contracts")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="contracts")
    program = models.ForeignKey(
        "sponsors.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="contracts"
    )
    kind = models.CharField(max_length=20, choices=ContractKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="work_orders", verbose_name="parent MSA"
    )
    number = models.CharField(max_length=40, editable=False)
    sequence = models.PositiveIntegerField(editable=False, help_text="Running number within the sponsor.")
    title = models.CharField(max_length=200)
    value = money_field()
    currency = currency_field()
    start = models.DateField()
    end = models.DateField()
    state = models.CharField(max_length=20, choices=ContractState.choices, default=ContractState.DRAFT, editable=False)
    source_proposal = models.OneToOneField(
        "contracts.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="contract", editable=False
    )
    notes = capped_text(10_000)
    # The budget figures (SPEC §2), kept current by the services under a row lock on the contract, so
    # lists, checks and the over-budget rule read them without summing invoices per row:
    # budget = value + approved change-order deltas; invoiced = approved + paid invoices; paid = paid ones.
    budget = money_field(default=0, editable=False)
    invoiced = money_field(default=0, editable=False)
    paid = money_field(default=0, editable=False)
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ContractQuerySet.as_manager()
    detail_url_name = "contract-detail"

    class Meta:
        ordering = ["-start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sponsor", "number"],
                name="contract_number_unique_per_sponsor",
                violation_error_message="This sponsor already has a contract with this number.",
            ),
            models.UniqueConstraint(
                fields=["sponsor", "sequence"],
                name="contract_sequence_unique_per_sponsor",
                violation_error_message="This sponsor already has a contract with this running number.",
            ),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="contract_end_after_start",
                violation_error_message="The end must be after the start.",
            ),
            models.CheckConstraint(
                condition=(Q(kind=ContractKind.WORK_ORDER) & Q(parent__isnull=False))
                | (~Q(kind=ContractKind.WORK_ORDER) & Q(parent__isnull=True)),
                name="contract_work_order_has_parent_msa",
                violation_error_message="A work order sits under an MSA; other contracts have no parent.",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="contract_value_not_negative",
                violation_error_message="The value cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(budget__gte=0) & Q(invoiced__gte=0) & Q(paid__gte=0) & Q(paid__lte=F("invoiced")),
                name="contract_budget_figures_sane",
                violation_error_message="The budget cannot become negative.",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def save(self, *args, **kwargs):
        # A new contract's budget is its value; afterwards only approved change orders move it.
        if self._state.adding and not self.budget:
            self.budget = self.value
        super().save(*args, **kwargs)

    def clean(self):
        errors = {}
        if self.start and self.end and self.end <= self.start:
            errors["end"] = "The end must be after the start."
        if self.program_id and self.sponsor_id and self.program.sponsor_id != self.sponsor_id:
            errors["program"] = "This programme belongs to another sponsor."
        if self.kind == ContractKind.WORK_ORDER:
            parent = self.parent
            if parent is None:
                errors["parent"] = "A work order sits under an MSA: choose it."
            elif parent.kind != ContractKind.MSA or (parent.sponsor_id, parent.vendor_id) != (
                self.sponsor_id,
                self.vendor_id,
            ):
                errors["parent"] = "The parent must be an MSA between the same sponsor and vendor."
        elif self.parent_id is not None:
            errors["parent"] = "Only a work order sits under an MSA."
        if errors:
            raise ValidationError(errors)


class MilestoneQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        return self.filter(contract__in=Contract.objects.for_user(user, action))


class Milestone(HistoryMixin, BaseModel):
    """A deliverable of a contract with the amount payable on its acceptance.

    States ``planned → in_progress → submitted → accepted``; ``submitted → rejected → in_progress``;
    any state but accepted → ``removed`` by an approved change order.
    ``baseline_due_date`` keeps the date first agreed (an award or the contract); ``due_date`` moves with
    approved change orders. Overdue = due date passed, neither accepted nor removed.
    """

    TRANSITIONS = {
        "start": Transition(
            source={MilestoneState.PLANNED, MilestoneState.REJECTED},
            target=MilestoneState.IN_PROGRESS,
            event="milestone_started",
            verb="started",
        ),
        "submit": Transition(
            source={MilestoneState.IN_PROGRESS}, target=MilestoneState.SUBMITTED, event="milestone_submitted"
        ),
        "accept": Transition(
            source={MilestoneState.SUBMITTED}, target=MilestoneState.ACCEPTED, event="milestone_accepted"
        ),
        "reject": Transition(
            source={MilestoneState.SUBMITTED}, target=MilestoneState.REJECTED, event="milestone_rejected"
        ),
        # Only an approved change order removes a milestone (its approval notifies both parties).
        "remove": Transition(
            source={
                MilestoneState.PLANNED,
                MilestoneState.IN_PROGRESS,
                MilestoneState.SUBMITTED,
                MilestoneState.REJECTED,
            },
            target=MilestoneState.REMOVED,
            verb="removed",
        ),
    }

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200)
    baseline_due_date = models.DateField(editable=False)
    due_date = models.DateField()
    amount = money_field()
    state = models.CharField(
        max_length=16, choices=MilestoneState.choices, default=MilestoneState.PLANNED, editable=False
    )
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    # The sponsor's acceptance comment, or the reason it sent the milestone back.
    decision_comment = capped_text(5_000, editable=False)

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "due_date", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="milestone_amount_not_negative",
                violation_error_message="A milestone amount cannot be negative.",
            ),
        ]
        indexes = [
            # The due-soon and overdue scans read open milestones by due date.
            models.Index(fields=["due_date"], condition=~Q(state="accepted"), name="milestone_open_due_idx"),
        ]

    def __str__(self):
        return self.name

    def history_owners(self) -> dict[str, set[int]]:
        return {"sponsor": {self.contract.sponsor_id}, "vendor": {self.contract.vendor_id}}
