"""Invoices: the vendor bills a contract (optionally one accepted milestone, at most once); the sponsor
approves — never beyond the budget unless a sponsor admin overrides with a reason — rejects with a
reason, or marks an approved invoice paid. The contract's ``invoiced`` and ``paid`` figures move with
each decision, under a row lock on the contract, so two approvals racing each other can never both pass
the budget.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.context import audit_context
from contracts.choices import LIVE_INVOICE_STATES, ContractState, MilestoneState, Side
from contracts.models import Contract, Invoice, Milestone
from contracts.services.contracts import (
    contract_alerts_recheck,
    lock_contract,
    money_text,
    other_side_notice,
    require_contract_sponsor,
    require_contract_vendor,
)
from cro_cmo.services import TransitionError
from cro_cmo.transitions import transition_apply, transition_refusal
from notifications.services import event_emit

# --- Messages (tests assert these texts) -----------------------------------------------------------------

INVOICE_CONTRACT_NOT_BILLABLE = "Invoices are accepted on an active or completed contract (this one is {state})."
INVOICE_NUMBER_REQUIRED = "Give the invoice number."
INVOICE_NUMBER_TAKEN = "Your organisation already has an invoice with this number."
INVOICE_ISSUED_REQUIRED = "Give the date of issue."
INVOICE_ISSUED_FUTURE = "The date of issue cannot be in the future."
INVOICE_AMOUNT_POSITIVE = "The amount must be more than zero."
INVOICE_WRONG_CURRENCY = "This contract is in {contract}: invoice it in {contract}, not {given}."
INVOICE_MILESTONE_OTHER_CONTRACT = "Choose a milestone of this contract."
INVOICE_MILESTONE_NOT_ACCEPTED = "Milestone “{name}” is {state}: it can be invoiced once the sponsor has accepted it."
INVOICE_MILESTONE_BILLED = "Milestone “{name}” has already been invoiced (invoice {number})."
INVOICE_OVER_MILESTONE = "An invoice for milestone “{name}” is at most its amount, {amount}."
INVOICE_OVER_BUDGET = (
    "Approving this invoice would take the invoiced total to {after}, beyond the budget of {budget}: "
    "a sponsor admin can approve it with a reason for the override (kept in the history)."
)
INVOICE_OVER_BUDGET_ADMIN = (
    "Approving this invoice would take the invoiced total to {after}, beyond the budget of {budget}: "
    "only a sponsor admin can approve it, with a reason."
)
INVOICE_OVERRIDE_ADMIN_ONLY = "Only a sponsor admin can approve an invoice beyond the budget."
INVOICE_OVERRIDE_NOT_NEEDED = "The invoice is within the budget: no override was needed, so none was recorded."
INVOICE_OVERRIDE_TOO_LONG = "Keep the override reason under {limit} characters."
INVOICE_REJECT_REASON_REQUIRED = "Say why the invoice is rejected: the vendor sees the reason."
REASON_TOO_LONG = "Keep the reason under {limit} characters."
INVOICE_MILESTONE_BILLED_MEANWHILE = "This milestone has already been invoiced."
OVERRIDE_HISTORY = "Over-budget override ({after} of a {budget} budget): {override}"
SUBMITTED_EVENT = "invoice_submitted"
TEXT_MAX = 2_000

BILLABLE_CONTRACT_STATES = (ContractState.ACTIVE, ContractState.COMPLETED)


def _milestone_problem(milestone: Milestone) -> str | None:
    if milestone.state != MilestoneState.ACCEPTED:
        return INVOICE_MILESTONE_NOT_ACCEPTED.format(name=milestone.name, state=milestone.get_state_display().lower())
    billed = Invoice.objects.filter(milestone=milestone, state__in=LIVE_INVOICE_STATES).first()
    if billed is not None:
        return INVOICE_MILESTONE_BILLED.format(name=milestone.name, number=billed.number)
    return None


@transaction.atomic
def invoice_submit(
    *,
    actor,
    contract: Contract,
    number: str,
    issued_on: datetime.date,
    amount: Decimal | str,
    currency: str,
    milestone: Milestone | None = None,
) -> Invoice:
    """The vendor bills an active or completed contract, optionally for one accepted milestone.

    1. The actor acts for the contract's vendor; the contract is active or completed (TransitionError).
    2. Validate, all problems at once (ValidationError, nothing written): a number, unique among the
       vendor's invoices; a date of issue not in the future; an amount above zero; the contract's
       currency. A milestone must be this contract's, accepted and not already billed (a submitted,
       approved or paid invoice names it), and the amount at most the milestone's (a partial invoice is
       allowed; the rest cannot be billed against the milestone later, since it is billed once).
    3. Save under a lock on the milestone (two invoices for it at once: the second is refused); the
       database constraints back the number and once-per-milestone rules, reported with the same messages.
    4. The sponsor is told.
    """
    require_contract_vendor(actor, contract)
    current = Contract.objects.select_related("sponsor", "vendor").get(pk=contract.pk)
    if current.state not in BILLABLE_CONTRACT_STATES:
        raise TransitionError(INVOICE_CONTRACT_NOT_BILLABLE.format(state=current.get_state_display().lower()))
    errors: dict[str, str] = {}
    number = str(number or "").strip()
    if not number:
        errors["number"] = INVOICE_NUMBER_REQUIRED
    elif Invoice.objects.filter(vendor_id=current.vendor_id, number=number).exists():
        errors["number"] = INVOICE_NUMBER_TAKEN
    if not isinstance(issued_on, datetime.date):
        errors["issued_on"] = INVOICE_ISSUED_REQUIRED
    elif issued_on > timezone.localdate():
        errors["issued_on"] = INVOICE_ISSUED_FUTURE
    try:
        amount = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0:
        errors["amount"] = INVOICE_AMOUNT_POSITIVE
    if currency != current.currency:
        errors["currency"] = INVOICE_WRONG_CURRENCY.format(contract=current.currency, given=currency or "no currency")
    if milestone is not None:
        locked = Milestone.objects.select_for_update(no_key=True).filter(pk=milestone.pk, contract=current).first()
        if locked is None:
            errors["milestone"] = INVOICE_MILESTONE_OTHER_CONTRACT
        else:
            milestone = locked
            problem = _milestone_problem(milestone)
            if problem:
                errors["milestone"] = problem
            elif "amount" not in errors and amount > milestone.amount:
                errors["amount"] = INVOICE_OVER_MILESTONE.format(
                    name=milestone.name, amount=money_text(milestone.amount, current.currency)
                )
    if errors:
        raise ValidationError(errors)
    invoice = Invoice(
        contract=current,
        vendor_id=current.vendor_id,
        milestone=milestone,
        number=number,
        issued_on=issued_on,
        amount=amount,
        currency=currency,
        submitted_by=actor,
    )
    try:
        with transaction.atomic(), audit_context(actor=actor):
            invoice.full_clean(validate_constraints=False)
            invoice.save()
    except IntegrityError as exc:
        # Another submission won a race the checks above could not see (the number, taken meanwhile).
        if "invoice_milestone_billed_once" in str(exc):
            raise ValidationError({"milestone": INVOICE_MILESTONE_BILLED_MEANWHILE}) from None
        raise ValidationError({"number": INVOICE_NUMBER_TAKEN}) from None
    event_emit(
        SUBMITTED_EVENT,
        title=f"Invoice {number} submitted: {current.number}",
        body=f"{money_text(amount, currency)}" + (f" for milestone “{milestone.name}”." if milestone else "."),
        url=current.get_absolute_url() or "",
        sponsor=current.sponsor,
        payload={"object": "contracts.invoice", "id": invoice.pk, "contract": current.pk},
    )
    return invoice


def _locked_invoice(invoice: Invoice, name: str) -> Invoice:
    current = Invoice.objects.select_for_update(no_key=True).get(pk=invoice.pk)
    if current.state not in Invoice.TRANSITIONS[name].source:
        raise TransitionError(transition_refusal(Invoice, name, current.state))
    return current


@transaction.atomic
def invoice_approve(*, actor, invoice: Invoice, override_reason: str = "") -> Invoice:
    """The sponsor approves a submitted invoice: it counts as invoiced.

    1. The actor acts for the contract's sponsor (a vendor never approves its own invoice).
    2. Lock the contract row (``select_for_update``), then the invoice; it must still be submitted. Under
       this lock a second approval on the same contract waits and then sees the first's figures.
    3. If ``invoiced + amount > budget``: refused (TransitionError) unless the actor is a sponsor **admin**
       giving ``override_reason`` (kept on the invoice and as the history's reason); a member giving one is
       refused (PermissionDenied). An override given where none is needed is not recorded (a warning in
       ``invoice.approval_warnings``).
    4. ``contract.invoiced += amount`` (history on the contract), transition → approved with
       ``approved_by``/``approved_at``; the vendor is told.
    """
    require_contract_sponsor(actor, invoice.contract)
    override_reason = (override_reason or "").strip()
    if len(override_reason) > TEXT_MAX:
        raise ValidationError({"override_reason": INVOICE_OVERRIDE_TOO_LONG.format(limit=TEXT_MAX)})
    contract = lock_contract(invoice.contract)
    current = _locked_invoice(invoice, "approve")
    after = contract.invoiced + current.amount
    words = {"after": money_text(after, contract.currency), "budget": money_text(contract.budget, contract.currency)}
    warnings, override, reason = [], "", ""
    if after > contract.budget:
        if not actor.is_org_admin:
            if override_reason:
                raise PermissionDenied(INVOICE_OVERRIDE_ADMIN_ONLY)
            raise TransitionError(INVOICE_OVER_BUDGET_ADMIN.format(**words))
        if not override_reason:
            raise TransitionError(INVOICE_OVER_BUDGET.format(**words))
        override = override_reason
        reason = OVERRIDE_HISTORY.format(**words, override=override)
    elif override_reason:
        warnings.append(INVOICE_OVERRIDE_NOT_NEEDED)
    with audit_context(actor=actor, reason=reason or f"Invoice {current.number} approved"):
        contract.invoiced = after
        contract.save(update_fields=["invoiced", "updated"])
    contract_alerts_recheck(contract)  # budget warning / exceeded / burn, at once after commit
    approved = transition_apply(
        current,
        "approve",
        actor=actor,
        reason=reason,
        values={"approved_by": actor, "approved_at": timezone.now(), "override_reason": override},
        notices=[
            other_side_notice(
                contract,
                Side.SPONSOR,
                title=f"Invoice approved: {current.number} ({contract.number})",
                body=money_text(current.amount, current.currency),
                invoice=current.pk,
            )
        ],
    )
    approved.approval_warnings = warnings
    return approved


@transaction.atomic
def invoice_reject(*, actor, invoice: Invoice, reason: str) -> Invoice:
    """The sponsor rejects a submitted invoice with a reason (a milestone it named becomes billable again).

    1. The actor acts for the contract's sponsor; a reason is required.
    2. Transition submitted → rejected with ``rejection_reason``; the vendor is told why.
    """
    require_contract_sponsor(actor, invoice.contract)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": INVOICE_REJECT_REASON_REQUIRED})
    if len(reason) > TEXT_MAX:
        raise ValidationError({"reason": REASON_TOO_LONG.format(limit=TEXT_MAX)})
    contract = invoice.contract
    return transition_apply(
        invoice,
        "reject",
        actor=actor,
        reason=reason,
        values={"rejection_reason": reason},
        notices=[
            other_side_notice(
                contract,
                Side.SPONSOR,
                title=f"Invoice rejected: {invoice.number} ({contract.number})",
                body=reason,
                invoice=invoice.pk,
            )
        ],
    )


@transaction.atomic
def invoice_mark_paid(*, actor, invoice: Invoice) -> Invoice:
    """The sponsor records that an approved invoice was paid.

    1. The actor acts for the contract's sponsor.
    2. Under the contract's row lock: the invoice is still approved; ``contract.paid += amount`` (history
       on the contract); transition → paid with ``paid_at``; the vendor is told.
    """
    require_contract_sponsor(actor, invoice.contract)
    contract = lock_contract(invoice.contract)
    current = _locked_invoice(invoice, "mark_paid")
    with audit_context(actor=actor, reason=f"Invoice {current.number} paid"):
        contract.paid = contract.paid + current.amount
        contract.save(update_fields=["paid", "updated"])
    return transition_apply(
        current,
        "mark_paid",
        actor=actor,
        values={"paid_at": timezone.now()},
        notices=[
            other_side_notice(
                contract,
                Side.SPONSOR,
                title=f"Invoice paid: {current.number} ({contract.number})",
                body=money_text(current.amount, current.currency),
                invoice=current.pk,
            )
        ],
    )
