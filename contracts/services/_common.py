"""What every sourcing service shares: the messages (tests assert these texts) and who may act."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from contracts.models import (
    RFP,
)

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
