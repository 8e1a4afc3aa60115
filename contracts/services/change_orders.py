"""Change orders: the only way a running contract's terms change.

Either party proposes one (a reason, a value delta, perhaps a new end date, milestone additions, changes
and removals); the other party approves it with an electronic signature — which applies all of it at
once under the contract's row lock, re-baselining the budget — or rejects it with a reason; the
proposer may withdraw it while it is proposed.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.context import audit_context
from contracts.choices import (
    LIVE_INVOICE_STATES,
    ChangeOrderItemAction,
    ChangeOrderState,
    ContractState,
    MilestoneState,
)
from contracts.models import ChangeOrder, ChangeOrderItem, Contract, Invoice, Milestone
from contracts.services.contracts import (
    contract_alerts_recheck,
    contract_side,
    lock_contract,
    money_text,
    other_side_notice,
)
from contracts.services.signatures import change_order_sha256, signature_create, signing_password_check
from cro_cmo.services import TransitionError, object_save
from cro_cmo.transitions import transition_apply, transition_refusal
from notifications.services import event_emit

# --- Messages (tests assert these texts) -----------------------------------------------------------------

CO_CONTRACT_NOT_ACTIVE = "Change orders are made on an active contract (this one is {state})."
CO_REASON_REQUIRED = "Say why the contract changes."
CO_EMPTY = "A change order changes something: the value, the end date or a milestone."
CO_DELTA_INVALID = "Give the change of value as an amount, e.g. 5000.00 or -2500.00."
CO_VALUE_NEGATIVE = "This change would make the contract's value negative ({after})."
CO_BELOW_INVOICED = "After this change the value ({after}) would be below what is already invoiced ({invoiced})."
CO_END_NOT_AFTER_START = "The new end must be after the start ({start})."
CO_ITEM_ACTION = "Say whether the item adds, changes or removes a milestone."
CO_ITEM_NAME = "Name the new milestone."
CO_ITEM_DUE = "Give the new milestone's due date."
CO_ITEM_AMOUNT = "Give the amount (0 or more)."
CO_ITEM_MILESTONE = "Choose a milestone of this contract."
CO_ITEM_MILESTONE_TWICE = "Milestone “{name}” is in more than one item."
CO_ITEM_MILESTONE_ACCEPTED = "Milestone “{name}” has been accepted: it can no longer be changed or removed."
CO_ITEM_MILESTONE_INVOICED = "Milestone “{name}” has been invoiced: it can no longer be changed or removed."
CO_ITEM_MILESTONE_REMOVED = "Milestone “{name}” has already been removed."
CO_ITEM_NOTHING_CHANGES = "Say what changes: the name, the due date or the amount."
CO_OWN_SIDE = "Your side proposed this change order: the other party approves or rejects it."
CO_WITHDRAW_OTHER_SIDE = "Only the side that proposed a change order can withdraw it."
CO_REJECT_REASON_REQUIRED = "Say why the change order is rejected: the other party sees the reason."
CO_NO_LONGER_APPLIES = "This change order can no longer be applied: {problems}"
PROPOSED_EVENT = "change_order_proposed"


def _require_active(contract: Contract) -> None:
    if contract.state != ContractState.ACTIVE:
        raise TransitionError(CO_CONTRACT_NOT_ACTIVE.format(state=contract.get_state_display().lower()))


def _milestone_problem(milestone: Milestone, billed: set[int]) -> str | None:
    """Why an item may not change or remove this milestone (None: it may)."""
    words = {"name": milestone.name}
    if milestone.pk in billed:
        return CO_ITEM_MILESTONE_INVOICED.format(**words)
    if milestone.state == MilestoneState.ACCEPTED:
        return CO_ITEM_MILESTONE_ACCEPTED.format(**words)
    if milestone.state == MilestoneState.REMOVED:
        return CO_ITEM_MILESTONE_REMOVED.format(**words)
    return None


def _billed(milestone_ids) -> set[int]:
    return set(
        Invoice.objects.filter(milestone_id__in=list(milestone_ids), state__in=LIVE_INVOICE_STATES).values_list(
            "milestone_id", flat=True
        )
    )


def _budget_problems(contract: Contract, delta: Decimal, new_end: datetime.date | None) -> dict[str, str]:
    errors = {}
    after = contract.budget + delta
    if after < 0:
        errors["value_delta"] = CO_VALUE_NEGATIVE.format(after=money_text(after, contract.currency))
    elif after < contract.invoiced:
        errors["value_delta"] = CO_BELOW_INVOICED.format(
            after=money_text(after, contract.currency), invoiced=money_text(contract.invoiced, contract.currency)
        )
    if new_end is not None and new_end <= contract.start:
        errors["new_end"] = CO_END_NOT_AFTER_START.format(start=contract.start.isoformat())
    return errors


def _parse_items(contract: Contract, items: Sequence[Mapping[str, Any]]) -> tuple[list[ChangeOrderItem], list[str]]:
    """Turn the item dicts into unsaved ``ChangeOrderItem`` rows; return them and the problems found.

    ``{"action": "add", "name", "due_date", "amount"}``; ``{"action": "change", "milestone", and any of
    "name", "due_date", "amount"}``; ``{"action": "remove", "milestone"}`` — a milestone is given as the
    object or its id and must be one of this contract's, not accepted, not invoiced, not removed, and
    named by one item at most.
    """
    wanted_ids = {getattr(item.get("milestone"), "pk", item.get("milestone")) for item in items}
    wanted_ids.discard(None)
    milestones = {m.pk: m for m in contract.milestones.filter(pk__in=[i for i in wanted_ids if str(i).isdigit()])}
    billed = _billed(milestones)
    rows, problems, seen = [], [], set()
    for position, item in enumerate(items):
        found = []
        action = item.get("action")
        name = str(item.get("name") or "").strip()
        due_date, amount = item.get("due_date"), item.get("amount")
        row = ChangeOrderItem(action=action, name=name, due_date=due_date)
        if amount not in (None, ""):
            try:
                row.amount = Decimal(amount)
            except (InvalidOperation, TypeError, ValueError):
                found.append(CO_ITEM_AMOUNT)
            else:
                if row.amount < 0:
                    found.append(CO_ITEM_AMOUNT)
        if due_date is not None and not isinstance(due_date, datetime.date):
            found.append(CO_ITEM_DUE)
        if action == ChangeOrderItemAction.ADD:
            if not name:
                found.append(CO_ITEM_NAME)
            if due_date is None:
                found.append(CO_ITEM_DUE)
            if amount in (None, ""):
                found.append(CO_ITEM_AMOUNT)
        elif action in (ChangeOrderItemAction.CHANGE, ChangeOrderItemAction.REMOVE):
            key = getattr(item.get("milestone"), "pk", item.get("milestone"))
            milestone = milestones.get(int(key)) if str(key).isdigit() else None
            if milestone is None:
                found.append(CO_ITEM_MILESTONE)
            elif milestone.pk in seen:
                found.append(CO_ITEM_MILESTONE_TWICE.format(name=milestone.name))
            else:
                seen.add(milestone.pk)
                row.milestone = milestone
                problem = _milestone_problem(milestone, billed)
                if problem:
                    found.append(problem)
            if action == ChangeOrderItemAction.CHANGE and not (name or due_date or amount not in (None, "")):
                found.append(CO_ITEM_NOTHING_CHANGES)
            if action == ChangeOrderItemAction.REMOVE:
                row.name, row.due_date, row.amount = "", None, None
        else:
            found.append(CO_ITEM_ACTION)
        problems.extend(f"Item {position + 1}: {problem}" for problem in dict.fromkeys(found))
        rows.append(row)
    return rows, problems


@transaction.atomic
def change_order_propose(
    *,
    actor,
    contract: Contract,
    reason: str,
    value_delta: Decimal | str | int = Decimal("0"),
    new_end: datetime.date | None = None,
    items: Sequence[Mapping[str, Any]] = (),
) -> ChangeOrder:
    """Propose a change to an active contract; the other party approves or rejects it.

    1. The actor is a member or admin of either party; the contract (locked) is active.
    2. A reason is required; something must change (value, end or a milestone). The value after the
       delta (budget + delta) is not negative and not below what is already invoiced; a new end is after
       the start. Items (``_parse_items``) add, change or remove milestones; a milestone that is accepted,
       invoiced or removed cannot be changed or removed. All problems are reported at once (ValidationError).
    3. Save the change order (next number within the contract, the proposer's side) and its items.
    4. The other party is told.
    """
    side = contract_side(actor, contract)
    current = lock_contract(contract)
    _require_active(current)
    errors: dict[str, Any] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = CO_REASON_REQUIRED
    try:
        delta = Decimal(value_delta if value_delta not in (None, "") else "0")
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"value_delta": CO_DELTA_INVALID}) from None
    if new_end is not None and new_end == current.end:
        new_end = None
    errors.update(_budget_problems(current, delta, new_end))
    rows, item_problems = _parse_items(current, items)
    if item_problems:
        errors["items"] = item_problems
    if not errors and delta == 0 and new_end is None and not rows:
        errors["__all__"] = CO_EMPTY
    if errors:
        raise ValidationError(errors)
    sequence = (current.change_orders.aggregate(last=Max("sequence"))["last"] or 0) + 1
    change_order = ChangeOrder(
        contract=current,
        sequence=sequence,
        proposed_by_side=side,
        proposed_by=actor,
        reason=reason,
        value_delta=delta,
        new_end=new_end,
    )
    object_save(actor=actor, instance=change_order, reason=reason)
    for row in rows:
        row.change_order = change_order
        row.full_clean()
        row.save()
    event_emit(
        PROPOSED_EVENT,
        title=f"Change order proposed: CO-{sequence} of {current.number}",
        body=reason,
        url=current.get_absolute_url() or "",
        payload={"object": "contracts.changeorder", "id": change_order.pk, "contract": current.pk},
        **({"vendor": current.vendor} if side == "sponsor" else {"sponsor": current.sponsor}),
    )
    return change_order


def _decider_side(actor, change_order: ChangeOrder) -> str:
    side = contract_side(actor, change_order.contract)
    if side == change_order.proposed_by_side:
        raise PermissionDenied(CO_OWN_SIDE)
    return side


def _require_proposed(change_order: ChangeOrder, name: str) -> None:
    state = ChangeOrder.objects.filter(pk=change_order.pk).values_list("state", flat=True).get()
    if state != ChangeOrderState.PROPOSED:
        raise TransitionError(transition_refusal(ChangeOrder, name, state))


def _apply(actor, contract: Contract, change_order: ChangeOrder, items: list[ChangeOrderItem]) -> None:
    """Apply the value delta, the new end and the milestone items to the locked contract, with history."""
    reason = f"Change order CO-{change_order.sequence}: {change_order.reason}"
    with audit_context(actor=actor, reason=reason):
        contract.budget = contract.budget + change_order.value_delta
        if change_order.new_end is not None:
            contract.end = change_order.new_end
        contract.save(update_fields=["budget", "end", "updated"])
        position = (contract.milestones.aggregate(last=Max("position"))["last"] or 0) + 1
        for item in items:
            if item.action == ChangeOrderItemAction.ADD:
                milestone = Milestone(
                    contract=contract,
                    position=position,
                    name=item.name,
                    baseline_due_date=item.due_date,
                    due_date=item.due_date,
                    amount=item.amount,
                )
                milestone.full_clean()
                milestone.save()
                position += 1
            elif item.action == ChangeOrderItemAction.CHANGE:
                milestone = item.milestone
                changed = []
                for field in ("name", "due_date", "amount"):
                    value = getattr(item, field)
                    if value not in (None, "") and value != getattr(milestone, field):
                        setattr(milestone, field, value)
                        changed.append(field)
                if changed:
                    # Only these columns: the state (and the baseline) stay as they are.
                    milestone.save(update_fields=[*changed, "updated"])
            else:
                transition_apply(item.milestone, "remove", actor=actor, reason=reason)


def change_order_approve(*, actor, change_order: ChangeOrder, password: str, request) -> ChangeOrder:
    """The other party approves a proposed change order with its electronic signature; all of it applies.

    1. The actor is a member or admin of the party that did not propose it (a vendor cannot approve its
       own: PermissionDenied); the change order is proposed and the contract active (TransitionError).
    2. The password is re-asked (``signing_password_check``; a wrong one counts toward the lock-out).
    3. In one transaction, under row locks on the contract, the change order and the milestones it names:
       check again — still proposed, contract active, budget + delta not negative nor below what is
       invoiced *now*, each named milestone still neither accepted, invoiced nor removed (else
       TransitionError naming the problems, nothing written).
    4. Apply: budget += delta, end = new end, milestones added (baseline = due date), changed (the
       baseline stays, the due date moves) or removed (state removed) — each recorded in its history with
       the change order as the reason.
    5. Store the signature ("change order approved as sponsor" / "accepted as vendor", SHA-256 of the
       change order's content) and transition → approved with ``budget_before``/``budget_after``; the
       proposer's side is told.
    The contract's own signatures no longer match its content afterwards (``signature_matches``): expected,
    and shown next to this change order's signature.
    """
    side = _decider_side(actor, change_order)
    _require_proposed(change_order, "approve")
    _require_active(Contract.objects.get(pk=change_order.contract_id))
    signing_password_check(actor=actor, password=password, request=request)
    with transaction.atomic():
        contract = lock_contract(change_order.contract)
        current = ChangeOrder.objects.select_for_update(no_key=True).get(pk=change_order.pk)
        if current.state != ChangeOrderState.PROPOSED:
            raise TransitionError(transition_refusal(ChangeOrder, "approve", current.state))
        _require_active(contract)
        items = list(current.items.order_by("id"))
        named = [item.milestone_id for item in items if item.milestone_id]
        locked = {m.pk: m for m in Milestone.objects.select_for_update(no_key=True).filter(pk__in=named)}
        billed = _billed(locked)
        problems = list(_budget_problems(contract, current.value_delta, current.new_end).values())
        for item in items:
            if item.action != ChangeOrderItemAction.ADD:
                item.milestone = locked[item.milestone_id]
                problem = _milestone_problem(item.milestone, billed)
                if problem:
                    problems.append(problem)
        if problems:
            raise TransitionError(CO_NO_LONGER_APPLIES.format(problems=" ".join(problems)))
        content_hash = change_order_sha256(current)
        budget_before = contract.budget
        _apply(actor, contract, current, items)
        contract_alerts_recheck(contract)  # budget, end and milestones moved: re-check them after commit
        signature_create(actor=actor, contract=contract, side=side, content_hash=content_hash, change_order=current)
        return transition_apply(
            current,
            "approve",
            actor=actor,
            reason=current.reason,
            values={
                "decided_by": actor,
                "decided_at": timezone.now(),
                "budget_before": budget_before,
                "budget_after": contract.budget,
            },
            notices=[
                other_side_notice(
                    contract,
                    side,
                    title=f"Change order approved: CO-{current.sequence} of {contract.number}",
                    body=f"Budget {money_text(budget_before, contract.currency)} → "
                    f"{money_text(contract.budget, contract.currency)}.",
                    change_order=current.pk,
                )
            ],
        )


@transaction.atomic
def change_order_reject(*, actor, change_order: ChangeOrder, reason: str) -> ChangeOrder:
    """The other party rejects a proposed change order with a reason; nothing of it applies.

    1. The actor is a member or admin of the party that did not propose it; a reason is required.
    2. Transition proposed → rejected with ``decided_by``, ``decided_at``, ``decision_reason``; the
       proposer's side is told why.
    """
    side = _decider_side(actor, change_order)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": CO_REJECT_REASON_REQUIRED})
    contract = change_order.contract
    return transition_apply(
        change_order,
        "reject",
        actor=actor,
        reason=reason,
        values={"decided_by": actor, "decided_at": timezone.now(), "decision_reason": reason},
        notices=[
            other_side_notice(
                contract,
                side,
                title=f"Change order rejected: CO-{change_order.sequence} of {contract.number}",
                body=reason,
                change_order=change_order.pk,
            )
        ],
    )


@transaction.atomic
def change_order_withdraw(*, actor, change_order: ChangeOrder, reason: str = "") -> ChangeOrder:
    """The proposing side withdraws its proposed change order.

    1. The actor is a member or admin of the side that proposed it (not necessarily the same person).
    2. Transition proposed → withdrawn (``decided_by``/``decided_at`` record who and when); the other
       party is told.
    """
    side = contract_side(actor, change_order.contract)
    if side != change_order.proposed_by_side:
        raise PermissionDenied(CO_WITHDRAW_OTHER_SIDE)
    reason = (reason or "").strip()
    contract = change_order.contract
    return transition_apply(
        change_order,
        "withdraw",
        actor=actor,
        reason=reason,
        values={"decided_by": actor, "decided_at": timezone.now(), "decision_reason": reason},
        notices=[
            other_side_notice(
                contract,
                side,
                title=f"Change order withdrawn: CO-{change_order.sequence} of {contract.number}",
                body=reason,
                change_order=change_order.pk,
            )
        ],
    )
