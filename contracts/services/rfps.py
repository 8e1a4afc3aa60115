"""RFPs: create, update, invite, publish, close (by hand and at the deadline), cancel."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.context import audit_context
from contracts.choices import (
    InvitationState,
    ProposalState,
    RFPState,
)
from contracts.models import (
    RFP,
    Invitation,
    RFPCriterion,
)
from contracts.services._common import (
    CANCEL_REASON_REQUIRED,
    INVITE_NONE,
    INVITE_NOT_OPEN,
    NOT_SPONSOR_MEMBER,
    PROGRAM_OF_OTHER_SPONSOR,
    PUBLISH_CUTOFF_PAST,
    PUBLISH_DEADLINE_PAST,
    PUBLISH_NEEDS_INVITEE,
    _deadline_text,
    _require_aware,
    _require_sponsor_side,
)
from contracts.services.vendor_checks import vendor_checks
from cro_cmo.services import TransitionError, object_save
from cro_cmo.transitions import Notice, transition_apply
from notifications.services import event_emit
from sponsors.models import Program
from vendors.models import Vendor


@transaction.atomic
def rfp_create(
    *,
    actor,
    program: Program,
    title: str,
    scope: str,
    desired_start: datetime.date,
    desired_end: datetime.date,
    response_deadline: datetime.datetime,
    qa_cutoff: datetime.datetime | None = None,
    budget_ceiling: Decimal | None = None,
    budget_currency: str = "",
    sealed: bool = False,
    categories: Iterable = (),
    criteria: Sequence[tuple[str, int]] = (),
) -> RFP:
    """Create a draft RFP for one of the actor's programmes.

    1. The actor acts for a sponsor; the sponsor is the actor's (never read from input), and the
       programme must be that sponsor's.
    2. Validate (dates, ceiling with currency, cut-off before the deadline, aware datetimes) and save.
    3. Add the evaluation criteria in the given order (name, weight); names unique within the RFP.
    """
    if actor is None or actor.sponsor_id is None:
        raise PermissionDenied(NOT_SPONSOR_MEMBER)
    _require_sponsor_side(actor, actor.sponsor_id)
    errors: dict[str, Any] = {}
    if program.sponsor_id != actor.sponsor_id:
        errors["program"] = PROGRAM_OF_OTHER_SPONSOR
    _require_aware(errors, "response_deadline", response_deadline)
    _require_aware(errors, "qa_cutoff", qa_cutoff)
    if errors:
        raise ValidationError(errors)
    rfp = RFP(
        sponsor_id=actor.sponsor_id,
        program=program,
        title=title,
        scope=scope,
        desired_start=desired_start,
        desired_end=desired_end,
        response_deadline=response_deadline,
        qa_cutoff=qa_cutoff,
        budget_ceiling=budget_ceiling,
        budget_currency=budget_currency,
        sealed=sealed,
        created_by=actor,
    )
    object_save(actor=actor, instance=rfp, m2m={"categories": list(categories)})
    criterion_errors = []
    with audit_context(actor=actor):
        for position, (name, weight) in enumerate(criteria):
            criterion = RFPCriterion(rfp=rfp, name=name, weight=weight, position=position)
            try:
                criterion.full_clean()
            except ValidationError as exc:
                criterion_errors.append(f"Criterion {position + 1}: {' '.join(exc.messages)}")
                continue
            criterion.save()
    if criterion_errors:
        raise ValidationError({"criteria": criterion_errors})
    return rfp


RFP_NOT_DRAFT = "Only a draft RFP can be edited: once published, invitees rely on what they were sent."
RFP_EDITABLE_FIELDS = (
    "program", "title", "scope", "desired_start", "desired_end", "response_deadline", "qa_cutoff",
    "budget_ceiling", "budget_currency", "sealed",
)  # fmt: skip


@transaction.atomic
def rfp_update(
    *,
    actor,
    rfp: RFP,
    data: Mapping[str, Any],
    categories: Iterable | None = None,
    criteria: Sequence[tuple[str, int]] | None = None,
) -> RFP:
    """Change a draft RFP (a published one is fixed: invitees answer what they were sent).

    1. The actor acts for the RFP's sponsor; the RFP (read afresh, locked) is a draft.
    2. Apply ``data`` (``RFP_EDITABLE_FIELDS``), validate as ``rfp_create`` does, save with history.
    3. ``categories`` / ``criteria``, when given, replace the current ones.
    """
    _require_sponsor_side(actor, rfp.sponsor_id)
    unknown = set(data) - set(RFP_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"unknown RFP fields: {sorted(unknown)}")
    current = RFP.objects.select_for_update().get(pk=rfp.pk)
    if current.state != RFPState.DRAFT:
        raise TransitionError(RFP_NOT_DRAFT)
    errors: dict[str, Any] = {}
    program = data.get("program", current.program)
    if program.sponsor_id != current.sponsor_id:
        errors["program"] = PROGRAM_OF_OTHER_SPONSOR
    _require_aware(errors, "response_deadline", data.get("response_deadline"))
    _require_aware(errors, "qa_cutoff", data.get("qa_cutoff"))
    if errors:
        raise ValidationError(errors)
    for name, value in data.items():
        setattr(current, name, value)
    m2m = {"categories": list(categories)} if categories is not None else None
    object_save(actor=actor, instance=current, m2m=m2m)
    if criteria is not None:
        criterion_errors = []
        with audit_context(actor=actor):
            current.criteria.all().delete()
            for position, (name, weight) in enumerate(criteria):
                criterion = RFPCriterion(rfp=current, name=name, weight=weight, position=position)
                try:
                    criterion.full_clean()
                except ValidationError as exc:
                    criterion_errors.append(f"Criterion {position + 1}: {' '.join(exc.messages)}")
                    continue
                criterion.save()
        if criterion_errors:
            raise ValidationError({"criteria": criterion_errors})
    return current


def _vendor_warnings(rfp: RFP, vendors: Sequence[Vendor]) -> list[str]:
    """Reasons to think twice before inviting these vendors, for the sponsor's eyes only (two queries).

    Per vendor, by name: the sponsor has not qualified it (no record, not qualified, still in
    qualification) or has disqualified it — with the record's note when short — then each expired
    certificate. Approved and conditionally approved vendors raise no qualification warning.
    """
    checks = vendor_checks(rfp.sponsor_id, vendors)
    ordered = sorted(checks.values(), key=lambda check: (check.vendor.name.casefold(), check.vendor.pk))
    return [warning for check in ordered for warning in check.invite_warnings()]


@transaction.atomic
def rfp_invite(*, actor, rfp: RFP, vendors: Iterable[Vendor]) -> tuple[list[Invitation], list[str]]:
    """Invite vendors to a draft or published RFP; return (new invitations, warnings for the sponsor).

    1. The actor acts for the RFP's sponsor; the RFP is a draft or published.
    2. Skip vendors already invited (inviting twice is harmless, not an error).
    3. Create the invitations; on a published RFP the new invitees are told at once (a draft's are
       told when it is published).
    4. Return warnings (a vendor the sponsor has not qualified, still qualifies or has disqualified; an
       expired certificate) — inviting stays possible: the sponsor decides.
    """
    _require_sponsor_side(actor, rfp.sponsor_id)
    vendors = list({vendor.pk: vendor for vendor in vendors}.values())
    if not vendors:
        raise ValidationError({"vendors": INVITE_NONE})
    rfp = RFP.objects.select_for_update().get(pk=rfp.pk)  # publishing waits for us, so nobody is left untold
    if rfp.state not in (RFPState.DRAFT, RFPState.PUBLISHED):
        raise TransitionError(INVITE_NOT_OPEN)
    already = set(rfp.invitations.filter(vendor__in=vendors).values_list("vendor_id", flat=True))
    created = []
    with audit_context(actor=actor):
        for vendor in vendors:
            if vendor.pk in already:
                continue
            created.append(Invitation.objects.create(rfp=rfp, vendor=vendor, invited_by=actor))
            if rfp.state == RFPState.PUBLISHED:
                _emit_invitation(rfp, vendor)
    return created, _vendor_warnings(rfp, vendors)


def _invitation_notice(rfp: RFP, vendor: Vendor) -> Notice:
    return Notice(
        title=f"Invitation to RFP: {rfp.title}",
        body=f"{rfp.sponsor.name} invites you to submit a proposal by {_deadline_text(rfp)}.",
        vendor=vendor,
        payload={"rfp": rfp.pk},
    )


def _emit_invitation(rfp: RFP, vendor: Vendor) -> None:
    notice = _invitation_notice(rfp, vendor)
    event_emit(
        RFP.TRANSITIONS["publish"].event,
        title=notice.title,
        body=notice.body,
        url=rfp.get_absolute_url() or "",
        vendor=vendor,
        payload={"object": "contracts.rfp", "id": rfp.pk, **notice.payload},
    )


@transaction.atomic
def rfp_publish(*, actor, rfp: RFP) -> RFP:
    """Publish a draft RFP: invitees see it and are told.

    1. The actor acts for the RFP's sponsor.
    2. The RFP needs at least one invitee, a response deadline in the future and, if it has one, a Q&A
       cut-off in the future (ValidationError naming the field).
    3. Transition draft → published (compare-and-set), ``published_at`` = now, one invitation event per
       invited vendor.
    """
    _require_sponsor_side(actor, rfp.sponsor_id)
    now = timezone.now()
    errors = {}
    if not rfp.invitations.exists():
        errors["invitations"] = PUBLISH_NEEDS_INVITEE
    if rfp.response_deadline <= now:
        errors["response_deadline"] = PUBLISH_DEADLINE_PAST
    if rfp.qa_cutoff is not None and rfp.qa_cutoff <= now:
        errors["qa_cutoff"] = PUBLISH_CUTOFF_PAST
    # A non-draft RFP is refused by the transition itself (409 "This RFP is closed: …"), not as bad input.
    if errors and rfp.state == RFPState.DRAFT:
        raise ValidationError(errors)
    invitees = [inv.vendor for inv in rfp.invitations.select_related("vendor")]
    return transition_apply(
        rfp,
        "publish",
        actor=actor,
        values={"published_at": now},
        notices=[_invitation_notice(rfp, vendor) for vendor in invitees],
    )


def _bidding_ended_notice(rfp: RFP, vendor: Vendor, *, by_deadline: bool) -> Notice:
    """For an invitee that responded: bidding is over, a decision will follow. Nothing about the others
    (neither how many answered nor who), nor anything sponsor-only such as the budget ceiling."""
    how = "The response deadline has passed" if by_deadline else f"{rfp.sponsor.name} has closed bidding"
    return Notice(
        title=f"Bidding has ended: {rfp.title}",
        body=f"{how}: your proposal is being evaluated. You will be told of the decision.",
        vendor=vendor,
        payload={"rfp": rfp.pk},
    )


def _close(rfp: RFP, *, actor, reason: str = "") -> RFP:
    received = rfp.proposals.filter(state=ProposalState.SUBMITTED).count()
    notice = Notice(
        title=f"RFP closed: {rfp.title}",
        body=f"Bidding has ended with {received} proposal{'s' if received != 1 else ''}.",
        sponsor=rfp.sponsor,
        payload={"rfp": rfp.pk},
    )
    responded = rfp.invitations.filter(state=InvitationState.RESPONDED).select_related("vendor")
    notices = [notice, *(_bidding_ended_notice(rfp, inv.vendor, by_deadline=actor is None) for inv in responded)]
    now = timezone.now()
    values = {"closed_at": now}
    if rfp.sealed:
        # The bid opening is recorded with the close that causes it: who (nobody = the deadline) and when.
        values |= {"opened_at": now, "opened_by": actor}
    return transition_apply(rfp, "close", actor=actor, reason=reason, values=values, notices=notices)


@transaction.atomic
def rfp_close(*, actor, rfp: RFP, reason: str = "") -> RFP:
    """Close a published RFP now (before its deadline: the sponsor ends bidding early).

    1. The actor acts for the RFP's sponsor.
    2. Transition published → closed, ``closed_at`` = now; the sponsor is told how many proposals came,
       each invitee that responded that bidding has ended (no count, no names).
    Sealed proposals open to the sponsor from here on (``Proposal.objects.for_user``); the opening is
    recorded on the RFP (``opened_at``, ``opened_by``) and in its history.
    """
    _require_sponsor_side(actor, rfp.sponsor_id)
    return _close(rfp, actor=actor, reason=reason)


def rfp_close_due(*, now: datetime.datetime | None = None) -> int:
    """Close every published RFP whose response deadline has passed; return how many this call closed.

    For the scheduled check (and ``run_checks``). Idempotent and safe to run twice at once:
    1. Read the due ids (the partial index ``rfp_published_deadline_idx`` makes this cheap).
    2. Close each through the transition helper, each in its own transaction: the compare-and-set
       lets exactly one of two concurrent scans close an RFP; the other skips it.
    """
    now = now or timezone.now()
    due = RFP.objects.filter(state=RFPState.PUBLISHED, response_deadline__lte=now).order_by("response_deadline")
    closed = 0
    for rfp in due.select_related("sponsor"):
        try:
            with transaction.atomic():
                _close(rfp, actor=None, reason="Response deadline passed.")
        except TransitionError:
            continue  # closed (or cancelled) meanwhile by a person or another scan
        closed += 1
    return closed


@transaction.atomic
def rfp_cancel(*, actor, rfp: RFP, reason: str) -> RFP:
    """Cancel a draft or published RFP, with a reason.

    1. The actor acts for the RFP's sponsor; a reason is required (it is recorded and sent).
    2. Transition → cancelled; if the RFP had been published, each invitee that has not declined is told.
    """
    _require_sponsor_side(actor, rfp.sponsor_id)
    if not (reason or "").strip():
        raise ValidationError({"reason": CANCEL_REASON_REQUIRED})
    notices = []
    if rfp.state == RFPState.PUBLISHED:
        invited = rfp.invitations.exclude(state=InvitationState.DECLINED).select_related("vendor")
        notices = [
            Notice(title=f"RFP cancelled: {rfp.title}", body=reason.strip(), vendor=inv.vendor) for inv in invited
        ]
    return transition_apply(rfp, "cancel", actor=actor, reason=reason.strip(), notices=notices)
