"""Proposals: drafts with their line items and milestones, submit, withdraw, shortlist, reject."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from audit.context import audit_context
from contracts.choices import (
    LIVE_PROPOSAL_STATES,
    InvitationState,
    ProposalState,
    RFPState,
)
from contracts.models import (
    RFP,
    Invitation,
    Proposal,
    ProposalLineItem,
    ProposedMilestone,
)
from contracts.models.proposals import ONE_LIVE_PROPOSAL
from contracts.services._common import (
    CURRENCY_REQUIRED,
    DEADLINE_PASSED,
    EVALUATE_NOT_CLOSED,
    INVITATION_DECLINED,
    LINE_ITEM_FIELDS,
    LINE_ITEMS_SUM,
    MILESTONE_FIELDS,
    MILESTONES_REQUIRED,
    MILESTONES_SUM,
    NOT_VENDOR_MEMBER,
    PROPOSAL_FIELDS,
    PROPOSAL_NOT_EDITABLE,
    RFP_NOT_OPEN,
    TOTAL_REQUIRED,
    _require_sponsor_side,
    _require_vendor_side,
)
from contracts.services.questions import (
    _invitation_for,
)
from cro_cmo.services import TransitionError
from cro_cmo.transitions import Notice, transition_apply

# --- Proposals ---------------------------------------------------------------------------------------------


def _require_open_for(rfp: RFP, vendor_id: int) -> Invitation:
    """The RFP takes proposals from this vendor now: published, before the deadline, invited, not declined.

    Locks the RFP row until the caller's transaction ends, so closing (by hand or by the deadline scan)
    waits for a proposal being submitted, and no proposal slips in after the RFP has closed.
    """
    rfp = RFP.objects.select_for_update().get(pk=rfp.pk)
    invitation = _invitation_for(rfp, vendor_id)
    if rfp.state != RFPState.PUBLISHED:
        raise TransitionError(RFP_NOT_OPEN)
    if timezone.now() >= rfp.response_deadline:
        raise TransitionError(DEADLINE_PASSED)
    if invitation.state == InvitationState.DECLINED:
        raise TransitionError(INVITATION_DECLINED)
    return invitation


def _build_parts(model, rows: Sequence[Mapping[str, Any]], fields: Sequence[str], label: str) -> tuple[list, list]:
    """Unsaved line items or milestones from input rows, and their errors as "Line 2: …" messages."""
    objects, errors = [], []
    for position, row in enumerate(rows):
        unknown = set(row) - set(fields)
        if unknown:
            raise ValueError(f"unknown {model.__name__} fields: {sorted(unknown)}")
        obj = model(position=position, **row)
        try:
            obj.full_clean(exclude=["proposal"])
        except ValidationError as exc:
            detail = "; ".join(
                f"{name.replace('_', ' ')}: {' '.join(messages)}" if name != "__all__" else " ".join(messages)
                for name, messages in exc.message_dict.items()
            )
            errors.append(f"{label} {position + 1}: {detail}")
        objects.append(obj)
    return objects, errors


def _amount(value: Decimal) -> str:
    """Grouped, two decimals whatever the database returned (SQLite's SUM drops trailing zeros)."""
    return f"{value:,.2f}"


def _proposal_completeness_errors(proposal: Proposal) -> dict[str, str]:
    """What a proposal lacks to be submitted. Two sums, two decisions:

    - the milestones must add up to the total price (the issue's rule: they are what gets paid);
    - line items are optional (a vendor may quote a total only), but when given they must add up to the
      total too — otherwise the comparison would show a price and a breakdown that disagree.
    """
    errors: dict[str, str] = {}
    if proposal.total_price is None:
        errors["total_price"] = TOTAL_REQUIRED
    if not proposal.currency:
        errors["currency"] = CURRENCY_REQUIRED
    if errors:
        return errors
    total, currency = proposal.total_price, proposal.currency
    milestone_sum = proposal.milestones.aggregate(total=Sum("amount"))["total"]
    if milestone_sum is None:
        errors["milestones"] = MILESTONES_REQUIRED
    elif milestone_sum != total:
        errors["milestones"] = MILESTONES_SUM.format(
            sum=_amount(milestone_sum), total=_amount(total), currency=currency
        )
    items = list(proposal.line_items.all())
    if items:
        item_sum = sum((item.line_total for item in items), Decimal("0"))
        if item_sum != total:
            errors["line_items"] = LINE_ITEMS_SUM.format(sum=_amount(item_sum), total=_amount(total), currency=currency)
    return errors


def _save_parts(proposal: Proposal, objects: list) -> None:
    for obj in objects:
        obj.proposal = proposal
        obj.save()


@transaction.atomic
def proposal_save_draft(
    *,
    actor,
    rfp: RFP | None = None,
    proposal: Proposal | None = None,
    data: Mapping[str, Any] | None = None,
    line_items: Sequence[Mapping[str, Any]] | None = None,
    milestones: Sequence[Mapping[str, Any]] | None = None,
) -> Proposal:
    """Create or change the actor's vendor's proposal for an RFP, until the deadline.

    1. A new proposal (``rfp`` given) belongs to the actor's vendor; a given one must be theirs.
    2. The RFP takes proposals from this vendor (published, before the deadline, invited, not declined).
    3. Only a draft or a submitted proposal changes; a submitted one is revised in place and must stay
       complete (the submit checks run again).
    4. Apply ``data`` (total price, currency, timeline, assumptions) and validate.
    5. ``line_items`` / ``milestones``, when given, replace the current ones (validated row by row:
       "Line 2: quantity: …").
    6. Save; a second live proposal of the vendor for the RFP — found by validation, or by the database
       constraint when two requests race — is a ValidationError, never a 500.
    """
    data = dict(data or {})
    unknown = set(data) - set(PROPOSAL_FIELDS)
    if unknown:
        raise ValueError(f"unknown proposal fields: {sorted(unknown)}")
    if proposal is None:
        if rfp is None or actor is None or actor.vendor_id is None:
            raise PermissionDenied(NOT_VENDOR_MEMBER)
        proposal = Proposal(rfp=rfp, vendor_id=actor.vendor_id, created_by=actor)
    _require_vendor_side(actor, proposal.vendor_id)
    _require_open_for(proposal.rfp, proposal.vendor_id)
    if proposal.state not in (ProposalState.DRAFT, ProposalState.SUBMITTED):
        raise TransitionError(PROPOSAL_NOT_EDITABLE)
    for name, value in data.items():
        setattr(proposal, name, value)

    errors: dict[str, Any] = {}
    try:
        proposal.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    new_items, item_errors = _build_parts(ProposalLineItem, line_items or [], LINE_ITEM_FIELDS, "Line")
    new_milestones, milestone_errors = _build_parts(ProposedMilestone, milestones or [], MILESTONE_FIELDS, "Milestone")
    if item_errors:
        errors["line_items"] = item_errors
    if milestone_errors:
        errors["milestones"] = milestone_errors
    if errors:
        raise ValidationError(errors)

    with audit_context(actor=actor):
        try:
            # A savepoint: the race's IntegrityError must not break the caller's transaction.
            with transaction.atomic():
                proposal.save()
        except IntegrityError:
            # Another request created the vendor's live proposal between our validation and this insert.
            live = Proposal.objects.filter(
                rfp_id=proposal.rfp_id, vendor_id=proposal.vendor_id, state__in=LIVE_PROPOSAL_STATES
            )
            if live.exclude(pk=proposal.pk).exists():
                raise ValidationError(ONE_LIVE_PROPOSAL) from None
            raise
        if line_items is not None:
            proposal.line_items.all().delete()
            _save_parts(proposal, new_items)
        if milestones is not None:
            proposal.milestones.all().delete()
            _save_parts(proposal, new_milestones)
    if proposal.state == ProposalState.SUBMITTED:
        incomplete = _proposal_completeness_errors(proposal)
        if incomplete:
            raise ValidationError(incomplete)  # rolls back the revision: the submitted version stands
    return proposal


def proposal_missing(proposal: Proposal) -> dict[str, str]:
    """What a saved proposal still lacks to be submitted (field → message; empty when it is ready).

    The same checks as ``proposal_submit``, for pages that tell the vendor right after saving a draft
    (a draft may be incomplete, so saving it never refuses on these grounds).
    """
    return _proposal_completeness_errors(proposal)


@transaction.atomic
def proposal_submit(*, actor, proposal: Proposal) -> Proposal:
    """Submit a draft proposal before the deadline.

    1. The actor acts for the proposal's vendor; the RFP takes proposals from it (published, before the
       deadline, invited, not declined).
    2. The proposal is complete: total price and currency, milestones that add up to the total, line
       items (if any) that add up to the total (ValidationError per field otherwise).
    3. Proposal draft → submitted, ``submitted_at`` = now; the sponsor is told who responded (never the
       price: for a sealed RFP the content opens only at closing).
    4. The invitation → responded, ``responded_at`` = now.
    """
    _require_vendor_side(actor, proposal.vendor_id)
    rfp = proposal.rfp
    invitation = _require_open_for(rfp, proposal.vendor_id)
    if proposal.state == ProposalState.DRAFT:
        incomplete = _proposal_completeness_errors(proposal)
        if incomplete:
            raise ValidationError(incomplete)
    now = timezone.now()
    notice = Notice(
        title=f"Proposal received: {rfp.title}",
        body=f"{proposal.vendor.name} submitted a proposal."
        + (" Sealed: its content opens when the RFP closes." if rfp.sealed else ""),
        sponsor=rfp.sponsor,
        payload={"rfp": rfp.pk},
    )
    transition_apply(proposal, "submit", actor=actor, values={"submitted_at": now}, notices=[notice])
    if invitation.state == InvitationState.INVITED:
        transition_apply(invitation, "respond", actor=actor, values={"responded_at": now})
    return proposal


@transaction.atomic
def proposal_withdraw(*, actor, proposal: Proposal, reason: str = "") -> Proposal:
    """The vendor withdraws its draft or submitted proposal before the deadline.

    1. The actor acts for the proposal's vendor; the RFP is published and the deadline has not passed.
    2. Proposal → withdrawn. If it had been submitted, the sponsor is told and the invitation is open
       again (responded → invited): the vendor may still submit a new proposal before the deadline.
    """
    _require_vendor_side(actor, proposal.vendor_id)
    rfp = RFP.objects.select_for_update().select_related("sponsor").get(pk=proposal.rfp_id)
    if rfp.state != RFPState.PUBLISHED:
        raise TransitionError(RFP_NOT_OPEN)
    if timezone.now() >= rfp.response_deadline:
        raise TransitionError(DEADLINE_PASSED)
    was_submitted = proposal.state == ProposalState.SUBMITTED
    notices = []
    if was_submitted:
        notices = [
            Notice(
                title=f"Proposal withdrawn: {rfp.title}",
                body=f"{proposal.vendor.name} withdrew its proposal.",
                sponsor=rfp.sponsor,
                payload={"rfp": rfp.pk},
            )
        ]
    transition_apply(proposal, "withdraw", actor=actor, reason=reason, notices=notices)
    if was_submitted:
        invitation = Invitation.objects.get(rfp=rfp, vendor_id=proposal.vendor_id)
        if invitation.state == InvitationState.RESPONDED:
            transition_apply(invitation, "reopen", actor=actor, reason="Proposal withdrawn.")
    return proposal


def _require_evaluation(actor, proposal: Proposal) -> RFP:
    """The RFP's sponsor acts, and the RFP (read afresh and locked, as an award does) has closed."""
    _require_sponsor_side(actor, proposal.rfp.sponsor_id)
    rfp = RFP.objects.select_for_update().get(pk=proposal.rfp_id)
    if rfp.state != RFPState.CLOSED:
        raise TransitionError(EVALUATE_NOT_CLOSED)
    return rfp


@transaction.atomic
def proposal_shortlist(*, actor, proposal: Proposal, reason: str = "") -> Proposal:
    """The sponsor shortlists a submitted proposal of a closed RFP (the vendor is not told: no decision yet)."""
    _require_evaluation(actor, proposal)
    return transition_apply(proposal, "shortlist", actor=actor, reason=reason)


def _rejection_notice(proposal: Proposal) -> Notice:
    return Notice(
        title=f"Your proposal was not accepted: {proposal.rfp.title}",
        body=f"{proposal.rfp.sponsor.name} has decided not to go ahead with your proposal.",
        vendor=proposal.vendor,
        payload={"rfp": proposal.rfp_id},
    )


@transaction.atomic
def proposal_reject(*, actor, proposal: Proposal, reason: str = "") -> Proposal:
    """The sponsor rejects a submitted or shortlisted proposal of a closed RFP; the vendor is told."""
    _require_evaluation(actor, proposal)
    return transition_apply(proposal, "reject", actor=actor, reason=reason, notices=[_rejection_notice(proposal)])
