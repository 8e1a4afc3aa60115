"""Running a contract: signatures, transferred activities, change orders and invoices.

All four belong to a contract and are seen by both of its parties (and nobody else); what each side may
do with them is the services' rule (``contracts.services``): a vendor never approves its own change
order or invoice, a sponsor never submits an invoice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from audit.tracking import HistoryMixin
from contracts.choices import (
    LIVE_INVOICE_STATES,
    ChangeOrderItemAction,
    ChangeOrderState,
    InvoiceState,
    Side,
    SignatureMeaning,
    TransferredActivity,
)
from contracts.models.agreements import Contract, Milestone
from contracts.models.rfps import capped_text
from cro_cmo.models import BaseModel, VisibleQuerySet
from cro_cmo.money import currency_field, money_field
from cro_cmo.transitions import Transition


class OfContractQuerySet(VisibleQuerySet):
    """Records of a contract: both parties see them; each side's change rights are the services' business."""

    def visible_to(self, user, action):
        return self.filter(contract__in=Contract.objects.for_user(user, action))


class _OfContract:
    def history_owners(self) -> dict[str, set[int]]:
        return {"sponsor": {self.contract.sponsor_id}, "vendor": {self.contract.vendor_id}}


class Signature(_OfContract, BaseModel):
    """An electronic signature (21 CFR Part 11 §11.50, §11.200): the signer re-entered their password; the
    printed name, the moment, the meaning and a SHA-256 of the signed content are kept with it.

    Signs either the contract itself (``change_order`` empty) or a change order's approval. Immutable: a
    later change of the content does not alter the signature; the page compares its hash with the
    content's current hash and says whether it still matches.
    """

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="signatures")
    change_order = models.ForeignKey(
        "contracts.ChangeOrder", null=True, blank=True, on_delete=models.PROTECT, related_name="signatures"
    )
    side = models.CharField(max_length=10, choices=Side.choices)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(max_length=200)
    meaning = models.CharField(max_length=40, choices=SignatureMeaning.choices)
    signed_at = models.DateTimeField()
    content_sha256 = models.CharField("SHA-256 of the signed content", max_length=64)

    objects = OfContractQuerySet.as_manager()

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "side"],
                condition=Q(change_order__isnull=True),
                name="signature_once_per_contract_side",
                violation_error_message="This party has already signed the contract.",
            ),
            models.UniqueConstraint(
                fields=["change_order", "side"],
                condition=Q(change_order__isnull=False),
                name="signature_once_per_change_order_side",
                violation_error_message="This party has already signed the change order.",
            ),
        ]

    def __str__(self):
        return f"{self.printed_name}: {self.get_meaning_display()} at {self.signed_at:%Y-%m-%d %H:%M %Z}"


class ContractActivity(_OfContract, HistoryMixin, BaseModel):
    """One entry of a work order's transferred-activities register (ICH E6(R3)): an activity from the
    controlled list, transferred to the vendor, with free-text detail. Unlisted activities stay with the
    sponsor."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="activities")
    activity = models.CharField(max_length=40, choices=TransferredActivity.choices)
    detail = capped_text(2_000)

    objects = OfContractQuerySet.as_manager()

    class Meta:
        verbose_name = "transferred activity"
        verbose_name_plural = "transferred activities"
        ordering = ["contract", "activity"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "activity"],
                name="activity_once_per_contract",
                violation_error_message="This activity is already in the register.",
            ),
        ]

    def __str__(self):
        return self.get_activity_display()


class ChangeOrder(_OfContract, HistoryMixin, BaseModel):
    """An amendment proposed by one party and approved (with a signature) or rejected by the other.

    Approval applies the value delta, the new end date and the milestone items at once, re-baselining
    the budget (``contracts.services.change_order_approve``). ``budget_before``/``budget_after`` record
    the amendment history: original → each change order → current.
    """

    TRANSITIONS = {
        "approve": Transition(
            source={ChangeOrderState.PROPOSED}, target=ChangeOrderState.APPROVED, event="change_order_approved"
        ),
        "reject": Transition(
            source={ChangeOrderState.PROPOSED}, target=ChangeOrderState.REJECTED, event="change_order_rejected"
        ),
        "withdraw": Transition(
            source={ChangeOrderState.PROPOSED}, target=ChangeOrderState.WITHDRAWN, event="change_order_withdrawn"
        ),
    }

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="change_orders")
    sequence = models.PositiveIntegerField(editable=False, help_text="Running number within the contract.")
    proposed_by_side = models.CharField(max_length=10, choices=Side.choices, editable=False)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    reason = capped_text(5_000, blank=False)
    value_delta = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    new_end = models.DateField(null=True, blank=True, help_text="Empty: the end date does not change.")
    state = models.CharField(
        max_length=12, choices=ChangeOrderState.choices, default=ChangeOrderState.PROPOSED, editable=False
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decision_reason = capped_text(5_000, editable=False)
    budget_before = money_field(null=True, blank=True, editable=False)
    budget_after = money_field(null=True, blank=True, editable=False)

    objects = OfContractQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "sequence"],
                name="change_order_sequence_unique_per_contract",
                violation_error_message="This contract already has a change order with this number.",
            ),
        ]

    def __str__(self):
        return f"CO-{self.sequence} of {self.contract.number}"


class ChangeOrderItem(BaseModel):
    """One milestone change a change order makes: add a milestone, change one, or remove one."""

    change_order = models.ForeignKey(ChangeOrder, on_delete=models.CASCADE, related_name="items")
    action = models.CharField(max_length=10, choices=ChangeOrderItemAction.choices)
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.SET_NULL, related_name="change_items"
    )
    name = models.CharField(max_length=200, blank=True)
    due_date = models.DateField(null=True, blank=True)
    amount = money_field(null=True, blank=True)

    class Meta:
        ordering = ["change_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action=ChangeOrderItemAction.ADD) | Q(milestone__isnull=False),
                name="change_item_names_its_milestone",
                violation_error_message="Say which milestone changes or goes.",
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()}: {self.name or self.milestone}"


class Invoice(_OfContract, HistoryMixin, BaseModel):
    """A vendor's bill on a contract, optionally for one accepted milestone (billed at most once).

    States ``submitted → approved → paid``, ``submitted → rejected``. The number is unique per vendor;
    the currency is the contract's. Approval beyond the budget needs a sponsor admin's override with a
    reason, decided under a row lock on the contract so two approvals can never both pass the limit.
    """

    TRANSITIONS = {
        "approve": Transition(source={InvoiceState.SUBMITTED}, target=InvoiceState.APPROVED, event="invoice_approved"),
        "reject": Transition(source={InvoiceState.SUBMITTED}, target=InvoiceState.REJECTED, event="invoice_rejected"),
        "mark_paid": Transition(
            source={InvoiceState.APPROVED}, target=InvoiceState.PAID, event="invoice_paid", verb="marked paid"
        ),
    }

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="invoices")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="invoices", editable=False)
    milestone = models.ForeignKey(Milestone, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=40)
    issued_on = models.DateField()
    amount = money_field()
    currency = currency_field()
    state = models.CharField(
        max_length=12, choices=InvoiceState.choices, default=InvoiceState.SUBMITTED, editable=False
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    paid_at = models.DateTimeField(null=True, blank=True, editable=False)
    rejection_reason = capped_text(2_000, editable=False)
    override_reason = capped_text(2_000, editable=False)

    objects = OfContractQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "number"],
                name="invoice_number_unique_per_vendor",
                violation_error_message="Your organisation already has an invoice with this number.",
            ),
            models.UniqueConstraint(
                fields=["milestone"],
                condition=Q(state__in=LIVE_INVOICE_STATES),
                name="invoice_milestone_billed_once",
                violation_error_message="This milestone has already been invoiced.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="invoice_amount_positive",
                violation_error_message="An invoice amount is more than zero.",
            ),
        ]
        indexes = [models.Index(fields=["contract", "state"], name="invoice_contract_state_idx")]

    def __str__(self):
        return f"Invoice {self.number}"
