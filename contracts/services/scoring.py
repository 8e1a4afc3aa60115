"""Scoring: each sponsor member keeps their own score sheet of a closed RFP's proposals.

A score is 0–10 with at most one decimal, per proposal, criterion and scorer (``ProposalScore``); the
comparison shows the average of all sheets and the weighted total (``contracts.comparison``).

Rules, in the order they are checked (tests assert the messages):
1. The actor is an admin or member of the RFP's sponsor (viewers read the scores, they do not score):
   PermissionDenied.
2. Scoring happens after bidding and before the decision: the RFP (read afresh and locked, as an award
   or a shortlisting does) is closed. Before: TransitionError ``SCORE_NOT_CLOSED``; once awarded the
   scores are the record of the decision and stay as they are (``SCORE_AWARDED``); a cancelled RFP has
   nothing to score (``SCORE_CANCELLED``).
3. The proposal is still in the running: submitted or shortlisted (``SCORE_PROPOSAL_NOT_OPEN``).
4. The criterion is one of the proposal's RFP's (ValidationError on ``criterion``).
5. The score is a number from 0 to 10 with at most one decimal (ValidationError on ``score``).
Saved through ``object_save``, so the history records who scored what, and every change of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from contracts.choices import ProposalState, RFPState
from contracts.models import RFP, Proposal, ProposalScore, RFPCriterion
from contracts.models.scoring import SCORE_MAX, SCORE_MIN
from contracts.services._common import _require_sponsor_side
from cro_cmo.services import TransitionError, object_delete, object_save

SCORE_NOT_CLOSED = "Proposals are scored once the RFP has closed: bidding is still open."
SCORE_AWARDED = (
    "This RFP has been awarded: its scores are kept as the record of the decision and can no longer be changed."
)
SCORE_CANCELLED = "This RFP was cancelled: there is nothing to score."
SCORE_PROPOSAL_NOT_OPEN = "Only a submitted or shortlisted proposal is scored; this one is {state}."
SCORE_CRITERION_OF_OTHER_RFP = "This criterion belongs to another RFP."
SCORE_RANGE = "A score is a number from 0 to 10 with at most one decimal, e.g. 7.5."
SCORE_REQUIRED = "Give a score from 0 to 10."

SCORABLE_PROPOSAL_STATES = (ProposalState.SUBMITTED, ProposalState.SHORTLISTED)
ONE_DECIMAL = Decimal("0.1")


def score_parse(value: Any) -> Decimal:
    """``"7.5"``, ``7``, ``Decimal("7.5")`` → ``Decimal("7.5")``; anything else (``"7.55"``, ``11``, ``"abc"``,
    ``NaN``, a float's binary noise) → ValidationError ``{"score": SCORE_RANGE}``."""
    if value is None or value == "":
        raise ValidationError({"score": SCORE_REQUIRED})
    if isinstance(value, bool):
        raise ValidationError({"score": SCORE_RANGE})
    try:
        # str() first: a float 7.1 is 7.0999…; its shortest text is what the person typed.
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"score": SCORE_RANGE}) from None
    if not number.is_finite() or not SCORE_MIN <= number <= SCORE_MAX or number != number.quantize(ONE_DECIMAL):
        raise ValidationError({"score": SCORE_RANGE})
    return number.quantize(ONE_DECIMAL)


def _require_scoring_open(actor, proposal: Proposal) -> RFP:
    """Rules 1–3: the sponsor's member or admin; the RFP (locked) closed; the proposal in the running."""
    rfp = proposal.rfp
    _require_sponsor_side(actor, rfp.sponsor_id)
    rfp = RFP.objects.select_for_update().get(pk=rfp.pk)
    if rfp.state == RFPState.AWARDED:
        raise TransitionError(SCORE_AWARDED)
    if rfp.state == RFPState.CANCELLED:
        raise TransitionError(SCORE_CANCELLED)
    if rfp.state != RFPState.CLOSED:
        raise TransitionError(SCORE_NOT_CLOSED)
    # Shortlisting and rejecting lock the RFP too: the state read now is the one that holds.
    state = Proposal.objects.filter(pk=proposal.pk).values_list("state", flat=True).first()
    if state not in SCORABLE_PROPOSAL_STATES:
        label = ProposalState(state).label.lower() if state else "gone"
        raise TransitionError(SCORE_PROPOSAL_NOT_OPEN.format(state=label))
    return rfp


def _require_criterion(proposal: Proposal, criterion: RFPCriterion) -> None:
    if criterion.rfp_id != proposal.rfp_id:
        raise ValidationError({"criterion": SCORE_CRITERION_OF_OTHER_RFP})


def _write(actor, proposal: Proposal, criterion: RFPCriterion, score: Decimal, comment: str) -> ProposalScore:
    row = ProposalScore.objects.filter(proposal=proposal, criterion=criterion, scorer=actor).first()
    if row is None:
        row = ProposalScore(proposal=proposal, criterion=criterion, scorer=actor)
    row.score, row.comment = score, comment or ""
    return object_save(actor=actor, instance=row)


@transaction.atomic
def score_save(*, actor, proposal: Proposal, criterion: RFPCriterion, score, comment: str = "") -> ProposalScore:
    """Set the actor's own score of ``proposal`` against ``criterion`` (created or changed in place)."""
    _require_scoring_open(actor, proposal)
    _require_criterion(proposal, criterion)
    value = score_parse(score)
    return _write(actor, proposal, criterion, value, comment)


def sheet_field(prefix: str, criterion_id: int) -> str:
    """The name under which ``scores_save`` reports an error of one criterion's row (``score_12``)."""
    return f"{prefix}_{criterion_id}"


@transaction.atomic
def scores_save(*, actor, proposal: Proposal, sheet: Mapping[int, tuple[Any, str]]) -> tuple[list[ProposalScore], int]:
    """The actor's whole score sheet of one proposal, all or nothing: ``{criterion_id: (score, comment)}``.

    A blank score (None or "") clears the actor's score of that criterion, if there was one. Errors of
    every row are collected first (``score_<criterion id>``, ``comment_<criterion id>``), so nothing is
    written when any row is wrong. Returns the saved rows and the number of cleared ones.
    """
    _require_scoring_open(actor, proposal)
    criteria = {c.pk: c for c in RFPCriterion.objects.filter(rfp_id=proposal.rfp_id)}
    errors: dict[str, list[str]] = {}
    rows: list[tuple[RFPCriterion, Decimal | None, str]] = []
    for criterion_id, (score, comment) in sheet.items():
        criterion = criteria.get(int(criterion_id))
        if criterion is None:
            errors.setdefault("criterion", [SCORE_CRITERION_OF_OTHER_RFP])
            continue
        comment = comment or ""
        if score is None or score == "":
            if comment.strip():
                errors[sheet_field("score", criterion.pk)] = [f"{criterion.name}: {SCORE_REQUIRED}"]
            rows.append((criterion, None, ""))
            continue
        try:
            value = score_parse(score)
        except ValidationError:
            errors[sheet_field("score", criterion.pk)] = [f"{criterion.name}: {SCORE_RANGE}"]
            continue
        rows.append((criterion, value, comment))
    if errors:
        raise ValidationError(errors)

    saved, cleared = [], 0
    mine = {s.criterion_id: s for s in ProposalScore.objects.filter(proposal=proposal, scorer=actor)}
    for criterion, value, comment in rows:
        if value is None:
            if criterion.pk in mine:
                object_delete(actor=actor, instance=mine[criterion.pk], reason="Score cleared.")
                cleared += 1
            continue
        try:
            saved.append(_write(actor, proposal, criterion, value, comment))
        except ValidationError as exc:  # the comment too long, say: name the row, keep all-or-nothing
            raise ValidationError(
                {
                    sheet_field(name if name != "__all__" else "score", criterion.pk): [
                        f"{criterion.name}: {m}" for m in ms
                    ]
                    for name, ms in exc.message_dict.items()
                }
            ) from None
    return saved, cleared
