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

# The package's public surface: every service and message, importable as before from contracts.services.
from contracts.services._common import (
    ANSWER_TEXT_REQUIRED,
    AWARD_NOT_CLOSED,
    CANCEL_REASON_REQUIRED,
    CERTIFICATE_EXPIRED,
    CURRENCY_REQUIRED,
    DEADLINE_PASSED,
    DECLINE_NOT_OPEN,
    DECLINE_REASON_REQUIRED,
    EVALUATE_NOT_CLOSED,
    INVITATION_DECLINED,
    INVITE_NONE,
    INVITE_NOT_OPEN,
    LINE_ITEM_FIELDS,
    LINE_ITEMS_SUM,
    MILESTONE_FIELDS,
    MILESTONES_REQUIRED,
    MILESTONES_SUM,
    NAIVE_DEADLINE,
    NOT_INVITED,
    NOT_SPONSOR_MEMBER,
    NOT_VENDOR_MEMBER,
    PROGRAM_OF_OTHER_SPONSOR,
    PROPOSAL_FIELDS,
    PROPOSAL_NOT_EDITABLE,
    PUBLISH_CUTOFF_PAST,
    PUBLISH_DEADLINE_PAST,
    PUBLISH_NEEDS_INVITEE,
    QUESTION_ANSWERED,
    QUESTION_TEXT_REQUIRED,
    QUESTIONS_CLOSED,
    RFP_NOT_OPEN,
    TOTAL_REQUIRED,
)
from contracts.services.awards import (
    contract_number_next,
    rfp_award,
)
from contracts.services.proposals import (
    proposal_missing,
    proposal_reject,
    proposal_save_draft,
    proposal_shortlist,
    proposal_submit,
    proposal_withdraw,
)
from contracts.services.questions import (
    invitation_decline,
    question_answer,
    question_ask,
)
from contracts.services.rfps import (
    RFP_EDITABLE_FIELDS,
    RFP_NOT_DRAFT,
    rfp_cancel,
    rfp_close,
    rfp_close_due,
    rfp_create,
    rfp_invite,
    rfp_publish,
    rfp_update,
)

__all__ = [
    "ANSWER_TEXT_REQUIRED",
    "AWARD_NOT_CLOSED",
    "CANCEL_REASON_REQUIRED",
    "CERTIFICATE_EXPIRED",
    "CURRENCY_REQUIRED",
    "DEADLINE_PASSED",
    "DECLINE_NOT_OPEN",
    "DECLINE_REASON_REQUIRED",
    "EVALUATE_NOT_CLOSED",
    "INVITATION_DECLINED",
    "INVITE_NONE",
    "INVITE_NOT_OPEN",
    "LINE_ITEMS_SUM",
    "LINE_ITEM_FIELDS",
    "MILESTONES_REQUIRED",
    "MILESTONES_SUM",
    "MILESTONE_FIELDS",
    "NAIVE_DEADLINE",
    "NOT_INVITED",
    "NOT_SPONSOR_MEMBER",
    "NOT_VENDOR_MEMBER",
    "PROGRAM_OF_OTHER_SPONSOR",
    "PROPOSAL_FIELDS",
    "PROPOSAL_NOT_EDITABLE",
    "PUBLISH_CUTOFF_PAST",
    "PUBLISH_DEADLINE_PAST",
    "PUBLISH_NEEDS_INVITEE",
    "QUESTIONS_CLOSED",
    "QUESTION_ANSWERED",
    "QUESTION_TEXT_REQUIRED",
    "RFP_EDITABLE_FIELDS",
    "RFP_NOT_DRAFT",
    "RFP_NOT_OPEN",
    "TOTAL_REQUIRED",
    "contract_number_next",
    "invitation_decline",
    "proposal_missing",
    "proposal_reject",
    "proposal_save_draft",
    "proposal_shortlist",
    "proposal_submit",
    "proposal_withdraw",
    "question_answer",
    "question_ask",
    "rfp_award",
    "rfp_cancel",
    "rfp_close",
    "rfp_close_due",
    "rfp_create",
    "rfp_invite",
    "rfp_publish",
    "rfp_update",
]
