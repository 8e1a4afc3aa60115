"""Invitations declined and the RFP's questions and answers."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.context import audit_context
from audit.models import Action, history_record, serialise_value
from contracts.choices import (
    InvitationState,
    RFPState,
)
from contracts.models import (
    RFP,
    Invitation,
    Question,
)
from contracts.services._common import (
    ANSWER_TEXT_REQUIRED,
    DECLINE_NOT_OPEN,
    DECLINE_REASON_REQUIRED,
    NOT_INVITED,
    NOT_VENDOR_MEMBER,
    QUESTION_ANSWERED,
    QUESTION_TEXT_REQUIRED,
    QUESTIONS_CLOSED,
    _require_sponsor_side,
    _require_vendor_side,
)
from cro_cmo.services import TransitionError, object_save
from cro_cmo.transitions import Notice, transition_apply
from notifications.services import event_emit


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
