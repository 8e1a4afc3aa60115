"""The award: contract numbering, the MSA lookup and the contract an accepted proposal becomes."""

from __future__ import annotations

import datetime

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
from cro_cmo.services import TransitionError, object_save
from cro_cmo.transitions import Notice, transition_apply
from sponsors.models import Sponsor


def contract_number_next(sponsor: Sponsor, kind: str) -> tuple[int, str]:
    """The next running number of the sponsor's contracts and its display form (``WO-00012``).

    Locks the sponsor's row (call inside a transaction), so two awards at once get different numbers;
    the unique constraints on (sponsor, sequence) and (sponsor, number) back this up.
    """
    Sponsor.objects.select_for_update().filter(pk=sponsor.pk).first()
    last = Contract.objects.filter(sponsor=sponsor).aggregate(last=Max("sequence"))["last"] or 0
    return last + 1, f"{CONTRACT_NUMBER_PREFIX[kind]}-{last + 1:05d}"


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


@transaction.atomic
def rfp_award(*, actor, proposal: Proposal, reason: str = "") -> Contract:
    """Accept a proposal of a closed RFP and create its contract — all of it or nothing.

    1. The actor acts for the RFP's sponsor; the RFP is closed.
    2. Proposal → accepted (a draft, withdrawn or rejected one is refused: TransitionError).
    3. Every other submitted or shortlisted proposal → rejected; their vendors are told.
    4. RFP → awarded, ``awarded_at`` = now.
    5. Create the contract: a work order under the vendor's active MSA with this sponsor when there is
       one, else a stand-alone agreement; value and currency = the proposal's total; start = the RFP's
       desired start; end = its desired end, or the last milestone's date if later.
    6. Copy the proposed milestones (offsets → dates from the start).
    7. Tell the winning vendor.
    Any failure rolls back every step (one transaction).

    Hook for the sponsors app: refuse an unqualified or disqualified vendor here unless an explicit,
    recorded override (with a reason, by a sponsor admin) is given.
    """
    _require_sponsor_side(actor, proposal.rfp.sponsor_id)
    # Lock the RFP first: a second award of the same RFP waits here, then finds it awarded (instead of
    # two awards each accepting their proposal and rejecting the other's — a deadlock).
    rfp = RFP.objects.select_for_update().select_related("sponsor").get(pk=proposal.rfp_id)
    if rfp.state != RFPState.CLOSED:
        raise TransitionError(AWARD_NOT_CLOSED if rfp.state == RFPState.PUBLISHED else _rfp_refusal(rfp, "award"))
    now = timezone.now()
    winner = proposal.vendor
    transition_apply(
        proposal,
        "accept",
        actor=actor,
        reason=reason,
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
    return contract


def _rfp_refusal(rfp: RFP, name: str) -> str:
    from cro_cmo.transitions import transition_refusal

    return transition_refusal(RFP, name, rfp.state)


# --- Invitations and Q&A --------------------------------------------------------------------------------
