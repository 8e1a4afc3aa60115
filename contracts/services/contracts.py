"""Contracts made directly by a sponsor (an MSA, a work order under one, a quality agreement, a CDA, a
stand-alone agreement), their terms before signature, the transferred-activities register of a work
order, and the steps after signing: send for signature, complete, terminate.

Who acts on a contract (``contract_side``) is decided here for every contract service: the actor's
organisation is one of the two parties and the actor is a member or admin (viewers read only).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.context import audit_context
from contracts.choices import (
    ChangeOrderState,
    ContractKind,
    ContractState,
    Side,
    TransferredActivity,
)
from contracts.models import Contract, ContractActivity, Milestone
from contracts.services._common import PROGRAM_OF_OTHER_SPONSOR
from contracts.services.awards import contract_number_next
from cro_cmo.services import TransitionError, object_save
from cro_cmo.transitions import Notice, transition_apply
from vendors.choices import VendorKind

# --- Messages (tests assert these texts) -----------------------------------------------------------------

NOT_CONTRACT_PARTY = "Only a member or admin of one of the contract's parties can do this."
NOT_CONTRACT_SPONSOR = "Only a member or admin of the contract's sponsor can do this."
NOT_CONTRACT_VENDOR = "Only a member or admin of the contract's vendor can do this."
CONTRACT_CREATE_SPONSOR_ONLY = "Only a member or admin of a sponsor can create a contract."
END_NOT_AFTER_START = "The end must be after the start."
VENDOR_REQUIRED = "Choose the vendor."
KIND_UNKNOWN = "Choose the kind of contract."
KIND_BY_AWARD_ONLY = "Stand-alone agreements come from an award; choose another kind."
PARENT_REQUIRED = "A work order sits under an MSA: choose it."
PARENT_OTHER_PARTIES = "The parent must be an MSA between the same sponsor and vendor."
PARENT_NOT_IN_FORCE = "The parent MSA is {state}: choose an MSA that is still in force."
PARENT_ONLY_FOR_WORK_ORDERS = "Only a work order sits under an MSA."
QUALITY_AGREEMENT_NEEDS_CMO = "A quality agreement is made with a CMO or CDMO: {vendor} is a {kind}."
NUMBER_TAKEN = "This sponsor already has a contract with this number."
NUMBER_REQUIRED = "Give the contract a number."
MILESTONE_NAME_REQUIRED = "Name the milestone."
MILESTONE_DUE_REQUIRED = "Give the milestone's due date."
MILESTONE_AMOUNT_REQUIRED = "Give the amount payable on acceptance (0 or more)."
SIGNED_TERMS_ONLY_BY_CHANGE_ORDER = (
    "This contract has been signed: its terms ({fields}) change only by change order once it is active."
)
CONTRACT_CLOSED = "This contract is {state}: it can no longer be changed."
ACTIVITIES_ONLY_WORK_ORDERS = "The transferred-activities register belongs to work orders."
ACTIVITIES_SIGNED = (
    "This work order has been signed: the transferred activities are part of the signed terms and "
    "can no longer be changed here."
)
ACTIVITY_UNKNOWN = "Choose an activity from the list."
ACTIVITY_TWICE = "{activity} is listed twice."
COMPLETE_PENDING_CHANGE_ORDERS = "Decide or withdraw the pending change orders before completing the contract."
TERMINATE_REASON_REQUIRED = "Say why the contract is terminated (the other party is told)."

# The terms a signature covers (``contracts.services.signatures.signed_content``): they change freely
# until the first signature, then only by change order. ``program`` and ``notes`` are the sponsor's own
# bookkeeping, not terms: they stay editable while the contract runs.
SIGNED_FIELDS = ("number", "title", "parent", "value", "currency", "start", "end")
UNSIGNED_FIELDS = ("program", "notes")
CREATE_FIELDS = ("kind", "vendor", "program", "parent", "number", "title", "value", "currency", "start", "end", "notes")
# Kinds a sponsor creates by hand; a stand-alone agreement is what an award makes without an MSA.
DIRECT_KINDS = (ContractKind.MSA, ContractKind.WORK_ORDER, ContractKind.QUALITY_AGREEMENT, ContractKind.CDA)


# --- Who acts ---------------------------------------------------------------------------------------------


def contract_side(actor, contract: Contract) -> str:
    """The side ``actor`` acts for on ``contract`` ("sponsor" or "vendor"); PermissionDenied otherwise.

    The actor's organisation must be one of the parties and the actor a member or admin (a viewer reads
    only). Staff without an organisation act for neither side.
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(NOT_CONTRACT_PARTY)
    if actor.sponsor_id is not None and actor.sponsor_id == contract.sponsor_id:
        side, message = Side.SPONSOR, NOT_CONTRACT_SPONSOR
    elif actor.vendor_id is not None and actor.vendor_id == contract.vendor_id:
        side, message = Side.VENDOR, NOT_CONTRACT_VENDOR
    else:
        raise PermissionDenied(NOT_CONTRACT_PARTY)
    if not actor.can_act:
        raise PermissionDenied(message)
    return side


def require_contract_sponsor(actor, contract: Contract) -> None:
    if contract_side(actor, contract) != Side.SPONSOR:
        raise PermissionDenied(NOT_CONTRACT_SPONSOR)


def require_contract_vendor(actor, contract: Contract) -> None:
    if contract_side(actor, contract) != Side.VENDOR:
        raise PermissionDenied(NOT_CONTRACT_VENDOR)


def other_side_notice(contract: Contract, side: str, *, title: str, body: str = "", **payload) -> Notice:
    """A notice for the party that is not ``side`` (the one who did not act)."""
    if side == Side.SPONSOR:
        return Notice(title=title, body=body, vendor=contract.vendor, payload=payload)
    return Notice(title=title, body=body, sponsor=contract.sponsor, payload=payload)


def both_sides_notice(contract: Contract, *, title: str, body: str = "", **payload) -> Notice:
    return Notice(title=title, body=body, sponsor=contract.sponsor, vendor=contract.vendor, payload=payload)


def contract_alert_rechecks_skipped():
    """``alerts.services.alert_rechecks_skipped`` (seed_demo runs every check itself afterwards)."""
    from alerts.services import alert_rechecks_skipped

    return alert_rechecks_skipped()


def contract_alerts_recheck(contract: Contract, *, vendor: bool = False) -> None:
    """Re-check this contract's alerts (milestones, budget, end) and its programme's cap once the caller's
    transaction commits — at once, not at the next beat; with ``vendor``, also its vendor's certificate alerts
    (whether a sponsor hears of them depends on having an active contract with the vendor)."""
    from alerts.services import alerts_recheck_on_commit

    alerts_recheck_on_commit(
        contract_ids=[contract.pk],
        program_ids=[contract.program_id] if contract.program_id else [],
        vendor_ids=[contract.vendor_id] if vendor else [],
    )


def money_text(amount: Decimal, currency: str) -> str:
    """``150,000.00 EUR``: amounts in messages are grouped, with their currency."""
    return f"{Decimal(amount):,.2f} {currency}"


def lock_contract(contract: Contract) -> Contract:
    """The contract row, read afresh and locked until the transaction ends (budget figures, signatures
    and change orders are decided under this lock). Call inside a transaction.

    ``FOR NO KEY UPDATE OF`` the contract only: two lockers take turns, but rows that merely reference
    the contract (a new invoice, signature or milestone) are not blocked — and the joined sponsor and
    vendor rows are not locked at all (a plain ``FOR UPDATE`` with ``select_related`` would lock them
    too, and deadlock against any transaction writing an event for that sponsor or vendor).
    """
    return (
        Contract.objects.select_for_update(no_key=True, of=("self",))
        .select_related("sponsor", "vendor")
        .get(pk=contract.pk)
    )


# --- Create and edit before signature ---------------------------------------------------------------------


def _validate_parties(errors: dict, contract: Contract) -> None:
    """Rules across records that the model's clean() states more loosely: the parent MSA of a work order,
    the vendor of a quality agreement, the programme's sponsor."""
    if contract.program_id and contract.program.sponsor_id != contract.sponsor_id:
        errors["program"] = PROGRAM_OF_OTHER_SPONSOR
    if contract.kind == ContractKind.WORK_ORDER:
        parent = contract.parent
        if parent is None:
            errors["parent"] = PARENT_REQUIRED
        elif parent.kind != ContractKind.MSA or (parent.sponsor_id, parent.vendor_id) != (
            contract.sponsor_id,
            contract.vendor_id,
        ):
            errors["parent"] = PARENT_OTHER_PARTIES
        elif parent.state in (ContractState.COMPLETED, ContractState.TERMINATED):
            errors["parent"] = PARENT_NOT_IN_FORCE.format(state=parent.get_state_display().lower())
    elif contract.parent_id is not None:
        errors["parent"] = PARENT_ONLY_FOR_WORK_ORDERS
    if contract.kind == ContractKind.QUALITY_AGREEMENT and contract.vendor.kind == VendorKind.CRO:
        errors["vendor"] = QUALITY_AGREEMENT_NEEDS_CMO.format(
            vendor=contract.vendor.name, kind=contract.vendor.get_kind_display()
        )
    if contract.start and contract.end and contract.end <= contract.start:
        errors["end"] = END_NOT_AFTER_START
    if contract.number is not None and not str(contract.number).strip():
        errors["number"] = NUMBER_REQUIRED
    elif (
        contract.number
        and Contract.objects.filter(sponsor_id=contract.sponsor_id, number=contract.number)
        .exclude(pk=contract.pk)
        .exists()
    ):
        errors["number"] = NUMBER_TAKEN


def _save_contract(actor, contract: Contract, *, reason: str = "") -> Contract:
    """Validate the cross-record rules, then the model (fields, clean(), constraints), and save."""
    errors: dict[str, Any] = {}
    _validate_parties(errors, contract)
    if errors:
        raise ValidationError(errors)
    return object_save(actor=actor, instance=contract, reason=reason)


def _milestone_errors(position: int, entry: Mapping[str, Any]) -> list[str]:
    problems = []
    if not str(entry.get("name") or "").strip():
        problems.append(MILESTONE_NAME_REQUIRED)
    if not isinstance(entry.get("due_date"), datetime.date):
        problems.append(MILESTONE_DUE_REQUIRED)
    amount = entry.get("amount")
    if amount is None or Decimal(amount) < 0:
        problems.append(MILESTONE_AMOUNT_REQUIRED)
    return [f"Milestone {position + 1}: {problem}" for problem in problems]


def _milestones_replace(actor, contract: Contract, milestones: Sequence[Mapping[str, Any]]) -> list[Milestone]:
    """Replace the milestones of an unsigned contract (all still planned): baseline = due date."""
    errors = [problem for position, entry in enumerate(milestones) for problem in _milestone_errors(position, entry)]
    if errors:
        raise ValidationError({"milestones": errors})
    created = []
    with audit_context(actor=actor):
        for milestone in contract.milestones.all():
            milestone.delete()
        for position, entry in enumerate(milestones):
            due = entry["due_date"]
            milestone = Milestone(
                contract=contract,
                position=position,
                name=str(entry["name"]).strip(),
                baseline_due_date=due,
                due_date=due,
                amount=Decimal(entry["amount"]),
            )
            try:
                milestone.full_clean()
            except ValidationError as exc:
                raise ValidationError({"milestones": [f"Milestone {position + 1}: {' '.join(exc.messages)}"]}) from None
            milestone.save()
            created.append(milestone)
    return created


def _number_next_free(sponsor, kind: str) -> tuple[int, str]:
    """``contract_number_next`` (which skips numbers typed by hand): one rule for awards and direct creation."""
    return contract_number_next(sponsor, kind)


@transaction.atomic
def contract_create(
    *,
    actor,
    data: Mapping[str, Any],
    milestones: Sequence[Mapping[str, Any]] = (),
    activities: Sequence[Mapping[str, Any]] = (),
) -> Contract:
    """Create a draft contract of the actor's sponsor directly (not from an award).

    1. The actor is a member or admin of a sponsor; the sponsor is the actor's, never read from ``data``.
    2. ``data`` (``CREATE_FIELDS``): ``kind`` (MSA, work order, quality agreement, CDA), ``vendor``,
       ``program`` (optional, the sponsor's), ``parent`` (a work order's MSA: same sponsor and vendor,
       not completed or terminated), ``title``, ``value``, ``currency``, ``start``, ``end`` (after the
       start), ``notes``, ``number`` (optional: generated per sponsor as ``MSA-00001``, ``WO-00002`` …).
       A quality agreement is made with a CMO or CDMO only.
    3. Save (budget = value); add the ``milestones`` ({name, due_date, amount}; baseline = due date) and,
       for a work order, the transferred ``activities`` ({activity, detail}).
    Bad input raises ValidationError with field messages; nothing is written then (one transaction).
    """
    if actor is None or getattr(actor, "sponsor_id", None) is None or not actor.can_act:
        raise PermissionDenied(CONTRACT_CREATE_SPONSOR_ONLY)
    unknown = set(data) - set(CREATE_FIELDS)
    if unknown:
        raise ValueError(f"unknown contract fields: {sorted(unknown)}")
    kind = data.get("kind")
    errors: dict[str, Any] = {}
    if kind not in DIRECT_KINDS:
        errors["kind"] = KIND_BY_AWARD_ONLY if kind == ContractKind.STANDALONE else KIND_UNKNOWN
    if data.get("vendor") is None:
        errors["vendor"] = VENDOR_REQUIRED
    if errors:
        raise ValidationError(errors)
    sequence, number = _number_next_free(actor.sponsor, kind)
    given = str(data.get("number") or "").strip()
    contract = Contract(
        sponsor_id=actor.sponsor_id,
        vendor=data["vendor"],
        program=data.get("program"),
        kind=kind,
        parent=data.get("parent"),
        number=given or number,
        sequence=sequence,
        title=data.get("title", ""),
        value=data.get("value"),
        currency=data.get("currency", ""),
        start=data.get("start"),
        end=data.get("end"),
        notes=data.get("notes", ""),
    )
    _save_contract(actor, contract)
    if milestones:
        _milestones_replace(actor, contract, milestones)
    if activities:
        _activities_apply(actor, contract, activities)
    return contract


@transaction.atomic
def contract_update(
    *,
    actor,
    contract: Contract,
    data: Mapping[str, Any],
    milestones: Sequence[Mapping[str, Any]] | None = None,
) -> Contract:
    """Change a contract's terms before anyone signs it, or its bookkeeping fields at any time it runs.

    1. The actor acts for the contract's sponsor; the contract (read afresh, locked) is not completed or
       terminated (TransitionError).
    2. ``data`` keys: the signed terms (``SIGNED_FIELDS``: number, title, parent, value, currency, start,
       end) and ``UNSIGNED_FIELDS`` (program, notes). A change to a signed term (or ``milestones`` given)
       once either party has signed, or once the contract is active, is refused (TransitionError): the
       signatures cover the terms, so they change only by change order.
    3. Validate as ``contract_create`` does and save with history; a new value is also the budget (no
       change order can exist before the contract is active).
    4. ``milestones``, when given, replace the current ones (all still planned before signature).
    """
    require_contract_sponsor(actor, contract)
    unknown = set(data) - set(SIGNED_FIELDS) - set(UNSIGNED_FIELDS)
    if unknown:
        raise ValueError(f"unknown contract fields: {sorted(unknown)}")
    current = lock_contract(contract)
    if current.state in (ContractState.COMPLETED, ContractState.TERMINATED):
        raise TransitionError(CONTRACT_CLOSED.format(state=current.get_state_display().lower()))
    changed_terms = [
        name for name in SIGNED_FIELDS if name in data and _differs(getattr(current, name), data[name], name)
    ]
    if milestones is not None:
        changed_terms.append("milestones")
    if changed_terms and (current.state == ContractState.ACTIVE or current.signatures.exists()):
        raise TransitionError(SIGNED_TERMS_ONLY_BY_CHANGE_ORDER.format(fields=", ".join(changed_terms)))
    for name, value in data.items():
        if name == "number":
            value = str(value or "").strip()
        setattr(current, name, value)
    if "value" in data:
        current.budget = current.value
    _save_contract(actor, current)
    if milestones is not None:
        _milestones_replace(actor, current, milestones)
    return current


def _differs(old, new, name: str) -> bool:
    if name == "number":
        return str(old) != str(new or "").strip()
    if name == "value" and old is not None and new is not None:
        return Decimal(old) != Decimal(new)
    if name == "parent":
        return getattr(old, "pk", old) != getattr(new, "pk", new)
    return old != new


# --- The transferred-activities register (work orders) -----------------------------------------------------


def _activities_apply(actor, contract: Contract, entries: Sequence[Mapping[str, Any]]) -> list[ContractActivity]:
    """Make the register equal to ``entries``: keep, update the detail of, add and remove entries (each
    recorded in history as such)."""
    if contract.kind != ContractKind.WORK_ORDER:
        raise ValidationError({"activities": ACTIVITIES_ONLY_WORK_ORDERS})
    labels = dict(TransferredActivity.choices)
    errors, wanted = [], {}
    for position, entry in enumerate(entries):
        code = entry.get("activity")
        if code not in labels:
            errors.append(f"Activity {position + 1}: {ACTIVITY_UNKNOWN}")
        elif code in wanted:
            errors.append(f"Activity {position + 1}: {ACTIVITY_TWICE.format(activity=labels[code])}")
        else:
            wanted[code] = str(entry.get("detail") or "").strip()
    if errors:
        raise ValidationError({"activities": errors})
    existing = {row.activity: row for row in contract.activities.all()}
    with audit_context(actor=actor):
        for code, row in existing.items():
            if code not in wanted:
                row.delete()
        for code, detail in wanted.items():
            row = existing.get(code) or ContractActivity(contract=contract, activity=code)
            if row.pk and row.detail == detail:
                continue
            row.detail = detail
            try:
                row.full_clean()
            except ValidationError as exc:
                raise ValidationError({"activities": [f"{labels[code]}: {' '.join(exc.messages)}"]}) from None
            row.save()
    return list(contract.activities.all())


@transaction.atomic
def contract_activities_set(
    *, actor, contract: Contract, entries: Sequence[Mapping[str, Any]]
) -> list[ContractActivity]:
    """Set a work order's register of transferred activities (ICH E6(R3)); return it.

    1. The actor acts for the contract's sponsor (the sponsor transfers its activities); the contract is
       a work order, not completed or terminated.
    2. The register is part of the signed terms: once either party has signed (or the work order is
       active) it is refused (TransitionError) — change orders carry milestone changes only, so a
       different register needs a new agreement.
    3. ``entries`` — ``{"activity": <TransferredActivity>, "detail": free text}`` — replace the register:
       each activity at most once, from the controlled list. What is not listed stays with the sponsor.
    """
    require_contract_sponsor(actor, contract)
    current = lock_contract(contract)
    if current.kind != ContractKind.WORK_ORDER:
        raise ValidationError({"activities": ACTIVITIES_ONLY_WORK_ORDERS})
    if current.state in (ContractState.COMPLETED, ContractState.TERMINATED):
        raise TransitionError(CONTRACT_CLOSED.format(state=current.get_state_display().lower()))
    if current.state == ContractState.ACTIVE or current.signatures.exists():
        raise TransitionError(ACTIVITIES_SIGNED)
    return _activities_apply(actor, current, entries)


# --- States -------------------------------------------------------------------------------------------------


@transaction.atomic
def contract_send_for_signature(*, actor, contract: Contract) -> Contract:
    """Send a draft for signature: its terms are final unless nobody has signed yet.

    1. The actor acts for the contract's sponsor.
    2. The contract still passes its rules (a work order's MSA may have ended since it was drafted).
    3. Transition draft → pending signature; the vendor is told its signature is awaited.
    """
    require_contract_sponsor(actor, contract)
    current = lock_contract(contract)
    if current.state == ContractState.DRAFT:
        errors: dict[str, Any] = {}
        _validate_parties(errors, current)
        if errors:
            raise ValidationError(errors)
    contract_alerts_recheck(current)  # its budget now counts toward the programme's cap
    return transition_apply(
        current,
        "send_for_signature",
        actor=actor,
        notices=[
            other_side_notice(
                current,
                Side.SPONSOR,
                title=f"Contract to sign: {current.number} {current.title}",
                body=f"{current.sponsor.name} sent this contract for signature.",
            )
        ],
    )


@transaction.atomic
def contract_complete(*, actor, contract: Contract, reason: str = "") -> Contract:
    """Mark an active contract completed (the vendor may still invoice accepted milestones afterwards).

    1. The actor acts for the contract's sponsor.
    2. No change order is still proposed (decide or withdraw it first: TransitionError).
    3. Transition active → completed; the vendor is told.
    """
    require_contract_sponsor(actor, contract)
    current = lock_contract(contract)
    if current.state == ContractState.ACTIVE and current.change_orders.filter(state=ChangeOrderState.PROPOSED).exists():
        raise TransitionError(COMPLETE_PENDING_CHANGE_ORDERS)
    contract_alerts_recheck(current, vendor=True)  # a completed contract's alerts resolve
    return transition_apply(
        current,
        "complete",
        actor=actor,
        reason=(reason or "").strip(),
        notices=[
            other_side_notice(current, Side.SPONSOR, title=f"Contract completed: {current.number} {current.title}")
        ],
    )


@transaction.atomic
def contract_terminate(*, actor, contract: Contract, reason: str) -> Contract:
    """Terminate a contract pending signature or active, with a reason.

    1. The actor acts for the contract's sponsor; a reason is required (recorded and sent to the vendor).
    2. Transition → terminated. Proposed change orders stay as they are but can no longer be approved;
       submitted invoices can still be decided (work done before the termination is owed).
    """
    require_contract_sponsor(actor, contract)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": TERMINATE_REASON_REQUIRED})
    current = lock_contract(contract)
    contract_alerts_recheck(current, vendor=True)  # a terminated contract's alerts resolve; its cap share goes
    return transition_apply(
        current,
        "terminate",
        actor=actor,
        reason=reason,
        notices=[
            other_side_notice(
                current, Side.SPONSOR, title=f"Contract terminated: {current.number} {current.title}", body=reason
            )
        ],
    )
