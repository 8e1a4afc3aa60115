"""The award: the qualification gate, contract numbering, the MSA lookup and the contract an accepted
proposal becomes."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.context import audit_context
from contracts.choices import (
    CONTRACT_NUMBER_PREFIX,
    ContractKind,
    ContractState,
    ProposalState,
    RFPState,
)
from contracts.models import (
    RFP,
    Contract,
    Milestone,
    Proposal,
)
from contracts.services._common import (
    AWARD_NOT_CLOSED,
    _require_sponsor_side,
)
from contracts.services.proposals import (
    _rejection_notice,
)
from contracts.services.vendor_checks import VendorCheck, vendor_check
from cro_cmo.services import TransitionError, object_save
from cro_cmo.transitions import Notice, transition_apply, transition_refusal
from sponsors.models import Sponsor


def contract_number_next(sponsor: Sponsor, kind: str) -> tuple[int, str]:
    """The next running number of the sponsor's contracts and its display form (``WO-00012``).

    Locks the sponsor's row (call inside a transaction), so two awards at once get different numbers;
    the unique constraints on (sponsor, sequence) and (sponsor, number) back this up. Skips a number
    someone typed by hand for an earlier contract (numbers are editable before signature, so ``WO-00007``
    may exist before the seventh contract does).
    """
    Sponsor.objects.select_for_update().filter(pk=sponsor.pk).first()
    sequence = (Contract.objects.filter(sponsor=sponsor).aggregate(last=Max("sequence"))["last"] or 0) + 1
    taken = set(
        Contract.objects.filter(sponsor=sponsor, number__startswith=CONTRACT_NUMBER_PREFIX[kind]).values_list(
            "number", flat=True
        )
    )
    while f"{CONTRACT_NUMBER_PREFIX[kind]}-{sequence:05d}" in taken:
        sequence += 1
    return sequence, f"{CONTRACT_NUMBER_PREFIX[kind]}-{sequence:05d}"


def _active_msa(sponsor_id: int, vendor_id: int, on: datetime.date) -> Contract | None:
    return (
        Contract.objects.filter(
            sponsor_id=sponsor_id,
            vendor_id=vendor_id,
            kind=ContractKind.MSA,
            state=ContractState.ACTIVE,
            start__lte=on,
            end__gte=on,
        )
        .order_by("-start", "-id")
        .first()
    )


def _contract_milestones_create(contract: Contract, proposal: Proposal) -> list[Milestone]:
    """Copy the proposal's milestones; an offset becomes a date counted from the contract start."""
    created = []
    for position, proposed in enumerate(proposal.milestones.all()):
        due = proposed.due_date or contract.start + datetime.timedelta(days=proposed.due_offset_days)
        milestone = Milestone(
            contract=contract,
            position=position,
            name=proposed.name,
            baseline_due_date=due,
            due_date=due,
            amount=proposed.amount,
        )
        milestone.full_clean()
        milestone.save()
        created.append(milestone)
    return created


# --- The qualification gate (messages asserted by tests) ------------------------------------------------

AWARD_NEEDS_OVERRIDE = (
    "{vendor} is {phrase}: to award it anyway, a sponsor admin gives a reason for overriding the "
    "qualification check (it is kept in the history)."
)
AWARD_NEEDS_ADMIN = "A sponsor admin must award this vendor: {vendor} is {phrase}."
AWARD_OVERRIDE_ADMIN_ONLY = "Only a sponsor admin can override the qualification check: {vendor} is {phrase}."
AWARD_OVERRIDE_TOO_LONG = "Keep the override reason under {limit} characters."
AWARD_OVERRIDE_NOT_NEEDED = "{vendor} is {phrase}: no override was needed, so none was recorded."
OVERRIDE_REASON_MAX = 2_000
OVERRIDE_HISTORY = "Qualification override ({vendor} is {phrase}): {override}"


def award_gate(*, actor, proposal: Proposal, check: VendorCheck | None = None) -> str:
    """How the qualification gate treats ``actor`` awarding ``proposal``: "pass" (approved or conditionally
    approved), "override" (the actor, a sponsor admin, may award with a reason) or "admin" (a member:
    only an admin may award this vendor). For the confirmation page; ``rfp_award`` applies the same rule."""
    check = check or vendor_check(proposal.rfp.sponsor_id, proposal.vendor)
    if check.qualified:
        return "pass"
    return "override" if actor.is_org_admin else "admin"


def _gate(actor, proposal: Proposal, override_reason: str) -> tuple[VendorCheck, str]:
    """Refuse an award the sponsor's qualification does not allow; return the check and the override to
    record ("" when none is needed). Nothing is written here."""
    check = vendor_check(proposal.rfp.sponsor_id, proposal.vendor)
    words = {"vendor": proposal.vendor.name, "phrase": check.phrase}
    if check.qualified:
        return check, ""
    if not actor.is_org_admin:
        if override_reason:
            raise PermissionDenied(AWARD_OVERRIDE_ADMIN_ONLY.format(**words))
        raise TransitionError(AWARD_NEEDS_ADMIN.format(**words))
    if not override_reason:
        raise TransitionError(AWARD_NEEDS_OVERRIDE.format(**words))
    if len(override_reason) > OVERRIDE_REASON_MAX:
        raise ValidationError({"override_reason": AWARD_OVERRIDE_TOO_LONG.format(limit=OVERRIDE_REASON_MAX)})
    return check, override_reason


@transaction.atomic
def rfp_award(*, actor, proposal: Proposal, reason: str = "", override_reason: str = "") -> Contract:
    """Accept a proposal of a closed RFP and create its contract — all of it or nothing.

    1. The actor acts for the RFP's sponsor; the RFP is closed; the proposal is submitted or shortlisted
       (a draft, withdrawn or rejected one is refused: TransitionError).
    2. The qualification gate: the sponsor's qualification of the vendor must be approved or
       conditionally approved. Otherwise (no record, not qualified, in qualification, disqualified) the
       award is refused (TransitionError, naming the status) unless a sponsor **admin** gives
       ``override_reason``; a member giving one is refused (PermissionDenied). The override is kept on
       the proposal (``award_override_reason``, ``award_override_by``) and as the reason of its
       acceptance in the history.
    3. Proposal → accepted. Every other submitted or shortlisted proposal → rejected; their vendors are
       told (no other vendor's name or price, no ceiling).
    4. RFP → awarded, ``awarded_at`` = now.
    5. Create the contract: a work order under the vendor's active MSA with this sponsor when there is
       one, else a stand-alone agreement; value and currency = the proposal's total; start = the RFP's
       desired start; end = its desired end, or the last milestone's date if later.
    6. Copy the proposed milestones (offsets → dates from the start).
    7. Tell the winning vendor.
    Any failure rolls back every step (one transaction).

    Returns the contract; ``contract.award_warnings`` lists what the sponsor should know and did not block
    the award: a conditional approval and its note, expired certificates, an override given but not needed.
    """
    _require_sponsor_side(actor, proposal.rfp.sponsor_id)
    # Lock the RFP first: a second award of the same RFP waits here, then finds it awarded (instead of
    # two awards each accepting their proposal and rejecting the other's — a deadlock).
    rfp = RFP.objects.select_for_update().select_related("sponsor").get(pk=proposal.rfp_id)
    if rfp.state != RFPState.CLOSED:
        raise TransitionError(AWARD_NOT_CLOSED if rfp.state == RFPState.PUBLISHED else _rfp_refusal(rfp, "award"))
    if proposal.state not in Proposal.TRANSITIONS["accept"].source:
        # Before the gate: a withdrawn or draft proposal is out whatever the vendor's qualification.
        raise TransitionError(transition_refusal(Proposal, "accept", proposal.state))
    override_reason = (override_reason or "").strip()
    check, override = _gate(actor, proposal, override_reason)
    warnings = [w for w in [check.condition_warning(), *check.certificate_warnings()] if w]
    if override_reason and not override:
        warnings.append(AWARD_OVERRIDE_NOT_NEEDED.format(vendor=proposal.vendor.name, phrase=check.phrase))
    now = timezone.now()
    winner = proposal.vendor
    accept_reason = reason.strip()
    values = {}
    if override:
        record = OVERRIDE_HISTORY.format(vendor=winner.name, phrase=check.phrase, override=override)
        accept_reason = f"{accept_reason} · {record}" if accept_reason else record
        values = {"award_override_reason": override, "award_override_by": actor}
    transition_apply(
        proposal,
        "accept",
        actor=actor,
        reason=accept_reason,
        values=values,
        notices=[
            Notice(
                title=f"Your proposal was accepted: {rfp.title}",
                body="A contract is being prepared.",
                vendor=winner,
                payload={"rfp": rfp.pk},
            )
        ],
    )
    others = rfp.proposals.filter(state__in=[ProposalState.SUBMITTED, ProposalState.SHORTLISTED]).exclude(
        pk=proposal.pk
    )
    for other in others.select_related("vendor"):
        transition_apply(
            other,
            "reject",
            actor=actor,
            reason="Another proposal was accepted.",
            notices=[_rejection_notice(other)],
        )
    transition_apply(rfp, "award", actor=actor, reason=reason, values={"awarded_at": now})

    start = rfp.desired_start
    proposed = list(proposal.milestones.all())
    dates = [m.due_date or start + datetime.timedelta(days=m.due_offset_days) for m in proposed]
    end = max([rfp.desired_end, *dates])
    msa = _active_msa(rfp.sponsor_id, winner.pk, timezone.localdate())
    kind = ContractKind.WORK_ORDER if msa else ContractKind.STANDALONE
    sequence, number = contract_number_next(rfp.sponsor, kind)
    contract = Contract(
        sponsor_id=rfp.sponsor_id,
        vendor=winner,
        program_id=rfp.program_id,
        kind=kind,
        parent=msa,
        number=number,
        sequence=sequence,
        title=rfp.title,
        value=proposal.total_price,
        currency=proposal.currency,
        start=start,
        end=end,
        source_proposal=proposal,
    )
    object_save(actor=actor, instance=contract, reason=f"Award of RFP {rfp.pk}")
    with audit_context(actor=actor, reason=f"Award of RFP {rfp.pk}"):
        _contract_milestones_create(contract, proposal)
    contract.award_warnings = warnings
    return contract


def award_contract_kind(proposal: Proposal) -> tuple[str, Contract | None]:
    """What an award of ``proposal`` would create today: (kind, parent MSA or None) — for the confirmation."""
    msa = _active_msa(proposal.rfp.sponsor_id, proposal.vendor_id, timezone.localdate())
    return (ContractKind.WORK_ORDER if msa else ContractKind.STANDALONE), msa


def _rfp_refusal(rfp: RFP, name: str) -> str:
    return transition_refusal(RFP, name, rfp.state)


# --- Invitations and Q&A --------------------------------------------------------------------------------
