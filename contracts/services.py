"""Sourcing writes: RFPs, invitations, Q&A, proposals and the award that creates a contract.

Every sourcing rule lives here once; views, API actions and tasks parse input, call these and render.
- Bad input → ``django.core.exceptions.ValidationError`` with field messages (400 / form errors).
- A step the current state does not allow → ``cro_cmo.services.TransitionError`` (409).
- An actor on the wrong side (a vendor publishing, a sponsor submitting) → ``PermissionDenied``. Callers
  look objects up through ``for_user(user, "change")`` first, so an object out of reach is a 404 before
  any of this runs.
States change only through ``cro_cmo.transitions.transition_apply`` and the models' ``TRANSITIONS``.

No message, notice or event here may carry an RFP's budget ceiling, another vendor's identity or price.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from audit.context import audit_context
from audit.models import Action, history_record, serialise_value
from contracts.choices import (
    CONTRACT_NUMBER_PREFIX,
    LIVE_PROPOSAL_STATES,
    ContractKind,
    ContractState,
    InvitationState,
    ProposalState,
    RFPState,
)
from contracts.models import (
    RFP,
    Contract,
    Invitation,
    Milestone,
    Proposal,
    ProposalLineItem,
    ProposedMilestone,
    Question,
    RFPCriterion,
)
from contracts.models.proposals import ONE_LIVE_PROPOSAL
from cro_cmo.services import TransitionError, object_save
from cro_cmo.transitions import Notice, transition_apply
from notifications.services import event_emit
from sponsors.models import Program, Sponsor
from vendors.models import Certification, Vendor

# --- Messages (tests assert these texts) -----------------------------------------------------------------

NOT_SPONSOR_MEMBER = "Only a member or admin of the RFP's sponsor can do this."
NOT_VENDOR_MEMBER = "Only a member or admin of the vendor can do this."
PROGRAM_OF_OTHER_SPONSOR = "This programme belongs to another sponsor."
NAIVE_DEADLINE = "Give the moment with its time zone."
INVITE_NOT_OPEN = "Vendors can be invited only while the RFP is a draft or published."
INVITE_NONE = "Choose at least one vendor to invite."
PUBLISH_NEEDS_INVITEE = "Invite at least one vendor before publishing."
PUBLISH_DEADLINE_PAST = "The response deadline has passed: set one in the future before publishing."
PUBLISH_CUTOFF_PAST = "The Q&A cut-off has passed: move it to the future or clear it before publishing."
CANCEL_REASON_REQUIRED = "Say why the RFP is cancelled (invited vendors are told)."
RFP_NOT_OPEN = "This RFP is not open for proposals."
DEADLINE_PASSED = "The response deadline has passed: proposals can no longer be submitted, changed or withdrawn."
NOT_INVITED = "Your organisation is not invited to this RFP."
INVITATION_DECLINED = "Your organisation declined this invitation, so it cannot answer this RFP."
DECLINE_REASON_REQUIRED = "Say why you decline: the sponsor sees the reason."
DECLINE_NOT_OPEN = "Invitations can be declined only while the RFP is published."
QUESTIONS_CLOSED = "Questions are no longer accepted: the Q&A cut-off has passed."
QUESTION_TEXT_REQUIRED = "Write the question."
ANSWER_TEXT_REQUIRED = "Write the answer."
QUESTION_ANSWERED = "This question has already been answered."
PROPOSAL_NOT_EDITABLE = "Only a draft or submitted proposal can be changed."
TOTAL_REQUIRED = "Give the total price."
CURRENCY_REQUIRED = "Give the currency of the price."
MILESTONES_REQUIRED = "Add at least one milestone: their amounts must add up to the total price."
MILESTONES_SUM = "The milestone amounts add up to {sum} {currency}, not the total price of {total} {currency}."
LINE_ITEMS_SUM = "The line items add up to {sum} {currency}, not the total price of {total} {currency}."
EVALUATE_NOT_CLOSED = "Proposals are shortlisted, rejected or accepted once the RFP has closed."
AWARD_NOT_CLOSED = "An RFP is awarded once it has closed."
CERTIFICATE_EXPIRED = "{vendor}: its {certificate} certificate expired on {date}."

# Fields of a proposal a vendor edits (state and dates move only through transitions).
PROPOSAL_FIELDS = ("total_price", "currency", "timeline", "assumptions")
LINE_ITEM_FIELDS = ("description", "quantity", "unit", "unit_price", "pass_through")
MILESTONE_FIELDS = ("name", "due_date", "due_offset_days", "amount")


# --- Who acts ---------------------------------------------------------------------------------------------


def _require_sponsor_side(actor, sponsor_id: int) -> None:
    """An admin or member of this sponsor (viewers read only)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.sponsor_id != sponsor_id:
        raise PermissionDenied(NOT_SPONSOR_MEMBER)
    if not actor.can_act:
        raise PermissionDenied(NOT_SPONSOR_MEMBER)


def _require_vendor_side(actor, vendor_id: int) -> None:
    """An admin or member of this vendor (viewers read only)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.vendor_id != vendor_id:
        raise PermissionDenied(NOT_VENDOR_MEMBER)
    if not actor.can_act:
        raise PermissionDenied(NOT_VENDOR_MEMBER)


def _require_aware(errors: dict, field: str, value) -> None:
    if isinstance(value, datetime.datetime) and timezone.is_naive(value):
        errors[field] = NAIVE_DEADLINE


def _deadline_text(rfp: RFP) -> str:
    return f"{timezone.localtime(rfp.response_deadline):%d %b %Y %H:%M %Z}"


# --- RFPs --------------------------------------------------------------------------------------------------


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
    """Reasons to think twice before inviting these vendors, for the sponsor's eyes only.

    Today: an expired certificate. Hook for the sponsors app: once ``VendorQualification`` exists, add
    "not qualified" / "disqualified by you" warnings here (one query for all vendors).
    """
    today = timezone.localdate()
    expired = (
        Certification.objects.filter(vendor__in=vendors, expires_on__lt=today)
        .select_related("vendor")
        .order_by("vendor__name", "expires_on")
    )
    return [
        CERTIFICATE_EXPIRED.format(vendor=cert.vendor.name, certificate=cert.get_type_display(), date=cert.expires_on)
        for cert in expired
    ]


@transaction.atomic
def rfp_invite(*, actor, rfp: RFP, vendors: Iterable[Vendor]) -> tuple[list[Invitation], list[str]]:
    """Invite vendors to a draft or published RFP; return (new invitations, warnings for the sponsor).

    1. The actor acts for the RFP's sponsor; the RFP is a draft or published.
    2. Skip vendors already invited (inviting twice is harmless, not an error).
    3. Create the invitations; on a published RFP the new invitees are told at once (a draft's are
       told when it is published).
    4. Return warnings (expired certificates…) — inviting stays possible: the sponsor decides.
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


def _close(rfp: RFP, *, actor, reason: str = "") -> RFP:
    received = rfp.proposals.filter(state=ProposalState.SUBMITTED).count()
    notice = Notice(
        title=f"RFP closed: {rfp.title}",
        body=f"Bidding has ended with {received} proposal{'s' if received != 1 else ''}.",
        sponsor=rfp.sponsor,
        payload={"rfp": rfp.pk},
    )
    return transition_apply(
        rfp, "close", actor=actor, reason=reason, values={"closed_at": timezone.now()}, notices=[notice]
    )


@transaction.atomic
def rfp_close(*, actor, rfp: RFP, reason: str = "") -> RFP:
    """Close a published RFP now (before its deadline: the sponsor ends bidding early).

    1. The actor acts for the RFP's sponsor.
    2. Transition published → closed, ``closed_at`` = now; the sponsor is told how many proposals came.
    Sealed proposals open to the sponsor from here on (``Proposal.objects.for_user``).
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


@transaction.atomic
def invitation_decline(*, actor, invitation: Invitation, reason: str) -> Invitation:
    """The invited vendor declines, with a reason the sponsor sees.

    1. The actor acts for the invited vendor; a reason is required; the RFP is published.
    2. Invitation invited → declined (a vendor that has responded withdraws its proposal instead);
       the sponsor is told.
    """
    _require_vendor_side(actor, invitation.vendor_id)
    if not (reason or "").strip():
        raise ValidationError({"decline_reason": DECLINE_REASON_REQUIRED})
    rfp = RFP.objects.select_for_update().select_related("sponsor").get(pk=invitation.rfp_id)
    if rfp.state != RFPState.PUBLISHED:
        raise TransitionError(DECLINE_NOT_OPEN)
    reason = Invitation._meta.get_field("decline_reason").clean(reason.strip(), invitation)  # length cap
    notice = Notice(
        title=f"Invitation declined: {rfp.title}",
        body=f"{invitation.vendor.name} declined: {reason}",
        sponsor=rfp.sponsor,
        payload={"rfp": rfp.pk},
    )
    return transition_apply(
        invitation,
        "decline",
        actor=actor,
        reason=reason,
        values={"decline_reason": reason, "responded_at": timezone.now()},
        notices=[notice],
    )


def _invitation_for(rfp: RFP, vendor_id: int) -> Invitation:
    invitation = Invitation.objects.filter(rfp=rfp, vendor_id=vendor_id).first()
    if invitation is None:
        raise PermissionDenied(NOT_INVITED)
    return invitation


@transaction.atomic
def question_ask(*, actor, rfp: RFP, text: str) -> Question:
    """An invited vendor asks a question about a published RFP, until the Q&A cut-off.

    1. The actor acts for a vendor invited to the RFP.
    2. The RFP is published and the cut-off (else the deadline) has not passed.
    3. Save the question; the sponsor is told (without the asker's name: the notice links the RFP).
    """
    if actor is None or actor.vendor_id is None:
        raise PermissionDenied(NOT_VENDOR_MEMBER)
    _require_vendor_side(actor, actor.vendor_id)
    rfp = RFP.objects.select_related("sponsor").get(pk=rfp.pk)  # the state as it is now, not as loaded
    _invitation_for(rfp, actor.vendor_id)
    if not (text or "").strip():
        raise ValidationError({"text": QUESTION_TEXT_REQUIRED})
    if rfp.state != RFPState.PUBLISHED or timezone.now() >= rfp.questions_until:
        raise TransitionError(QUESTIONS_CLOSED)
    question = Question(rfp=rfp, asked_by_vendor_id=actor.vendor_id, asked_by=actor, text=text.strip())
    object_save(actor=actor, instance=question)
    event_emit(
        "rfp_question",
        title=f"New question on RFP: {rfp.title}",
        body=question.text,
        sponsor=rfp.sponsor,
        url=rfp.get_absolute_url() or "",
        payload={"object": "contracts.question", "id": question.pk, "rfp": rfp.pk},
    )
    return question


@transaction.atomic
def question_answer(*, actor, question: Question, answer: str) -> Question:
    """The sponsor answers a question once; every invitee that has not declined is told (never who asked).

    1. The actor acts for the RFP's sponsor; an answer is required; the question is unanswered.
    2. Save the answer with who and when (a compare-and-set on ``answered_at``: two answers at once → one).
    3. One ``rfp_question_answered`` event per invitee (not declined).
    """
    rfp = question.rfp
    _require_sponsor_side(actor, rfp.sponsor_id)
    if not (answer or "").strip():
        raise ValidationError({"answer": ANSWER_TEXT_REQUIRED})
    answer = Question._meta.get_field("answer").clean(answer.strip(), question)  # length cap
    now = timezone.now()
    claimed = Question.objects.filter(pk=question.pk, answered_at__isnull=True).update(
        answer=answer, answered_at=now, answered_by=actor, updated=now
    )
    if claimed != 1:
        raise TransitionError(QUESTION_ANSWERED)
    # A queryset update fires no save signal: record the answer in history explicitly.
    changes = {"answer": [question.answer, answer], "answered_at": [None, serialise_value(now)]}
    with audit_context(actor=actor):
        history_record(question, Action.CHANGED, changes)
    question.refresh_from_db()
    question._history_snapshot = question.history_values()
    for invitation in rfp.invitations.exclude(state=InvitationState.DECLINED).select_related("vendor"):
        event_emit(
            "rfp_question_answered",
            title=f"Question answered on RFP: {rfp.title}",
            body=f"Q: {question.text}\n\nA: {question.answer}",
            vendor=invitation.vendor,
            url=rfp.get_absolute_url() or "",
            payload={"object": "contracts.question", "id": question.pk},
        )
    return question


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
