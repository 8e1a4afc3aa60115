"""Milestones of a running contract: the vendor starts and submits them, the sponsor accepts (with a
comment) or rejects (with a reason: the vendor starts again). Overdue: see the section below (the one
definition).

Evidence files are Documents attached to the milestone by the documents service; submitting takes an
optional comment only.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from contracts.choices import CLOSED_MILESTONE_STATES, ContractState, Side
from contracts.models import Contract, Milestone
from contracts.services.contracts import (
    contract_alerts_recheck,
    other_side_notice,
    require_contract_sponsor,
    require_contract_vendor,
)
from cro_cmo.services import TransitionError
from cro_cmo.transitions import transition_apply

# --- Messages (tests assert these texts) -----------------------------------------------------------------

MILESTONE_CONTRACT_NOT_ACTIVE = "Milestones move only while the contract is active (this one is {state})."
MILESTONE_REJECT_REASON_REQUIRED = "Say why the milestone is rejected: the vendor sees the reason."
DECISION_TOO_LONG = "Keep it under {limit} characters."
DECISION_MAX = 5_000


def _require_active(milestone: Milestone) -> Contract:
    contract = Contract.objects.select_related("sponsor", "vendor").get(pk=milestone.contract_id)
    if contract.state != ContractState.ACTIVE:
        raise TransitionError(MILESTONE_CONTRACT_NOT_ACTIVE.format(state=contract.get_state_display().lower()))
    return contract


def _text(value: str, field: str) -> str:
    value = (value or "").strip()
    if len(value) > DECISION_MAX:
        raise ValidationError({field: DECISION_TOO_LONG.format(limit=DECISION_MAX)})
    return value


@transaction.atomic
def milestone_start(*, actor, milestone: Milestone) -> Milestone:
    """The vendor starts work on a milestone (again, after a rejection).

    1. The actor acts for the contract's vendor; the contract is active.
    2. Transition planned | rejected → in progress (compare-and-set: a concurrent step is refused).
    """
    require_contract_vendor(actor, milestone.contract)
    _require_active(milestone)
    return transition_apply(milestone, "start", actor=actor)


@transaction.atomic
def milestone_submit(*, actor, milestone: Milestone, comment: str = "") -> Milestone:
    """The vendor submits a milestone for acceptance (evidence: documents attached to it).

    1. The actor acts for the contract's vendor; the contract is active.
    2. Transition in progress → submitted, ``submitted_at`` = now; the comment is the history's reason.
    3. The sponsor is told.
    """
    require_contract_vendor(actor, milestone.contract)
    contract = _require_active(milestone)
    comment = _text(comment, "comment")
    contract_alerts_recheck(contract)  # delivered: no longer "due soon"
    return transition_apply(
        milestone,
        "submit",
        actor=actor,
        reason=comment,
        values={"submitted_at": timezone.now()},
        notices=[
            other_side_notice(
                contract,
                Side.VENDOR,
                title=f"Milestone submitted: {milestone.name} ({contract.number})",
                body=comment,
                milestone=milestone.pk,
            )
        ],
    )


@transaction.atomic
def milestone_accept(*, actor, milestone: Milestone, comment: str = "") -> Milestone:
    """The sponsor accepts a submitted milestone; its amount becomes billable.

    1. The actor acts for the contract's sponsor; the contract is active.
    2. Transition submitted → accepted with ``decided_at``, ``decided_by``, ``decision_comment``.
    3. The vendor is told.
    """
    require_contract_sponsor(actor, milestone.contract)
    contract = _require_active(milestone)
    comment = _text(comment, "comment")
    contract_alerts_recheck(contract)  # no longer overdue nor owed
    return transition_apply(
        milestone,
        "accept",
        actor=actor,
        reason=comment,
        values={"decided_at": timezone.now(), "decided_by": actor, "decision_comment": comment},
        notices=[
            other_side_notice(
                contract,
                Side.SPONSOR,
                title=f"Milestone accepted: {milestone.name} ({contract.number})",
                body=comment or "It can now be invoiced.",
                milestone=milestone.pk,
            )
        ],
    )


@transaction.atomic
def milestone_reject(*, actor, milestone: Milestone, reason: str) -> Milestone:
    """The sponsor sends a submitted milestone back with a reason; the vendor starts it again.

    1. The actor acts for the contract's sponsor; the contract is active; a reason is required.
    2. Transition submitted → rejected with ``decided_at``, ``decided_by``, ``decision_comment`` = reason.
    3. The vendor is told why.
    """
    require_contract_sponsor(actor, milestone.contract)
    reason = _text(reason, "reason")
    if not reason:
        raise ValidationError({"reason": MILESTONE_REJECT_REASON_REQUIRED})
    contract = _require_active(milestone)
    contract_alerts_recheck(contract)  # owed again
    return transition_apply(
        milestone,
        "reject",
        actor=actor,
        reason=reason,
        values={"decided_at": timezone.now(), "decided_by": actor, "decision_comment": reason},
        notices=[
            other_side_notice(
                contract,
                Side.SPONSOR,
                title=f"Milestone rejected: {milestone.name} ({contract.number})",
                body=reason,
                milestone=milestone.pk,
            )
        ],
    )


# --- Overdue ------------------------------------------------------------------------------------------------
#
# THE definition, used by the contracts list's flag and filter (page and API), the API's milestones and
# their ``overdue`` filter, the contract page and the alerts: a milestone is overdue when
#   1. its contract is active (a draft's or an unsigned contract's dates are not yet binding; a completed or
#      terminated contract's no longer run),
#   2. its due date has passed (before ``on``, default today), and
#   3. it is neither accepted nor removed (``CLOSED_MILESTONE_STATES``).
# Written three ways over the same constants, never elsewhere: ``is_overdue`` (values already read),
# ``overdue_q`` (a Q over milestones) and ``contract_overdue_q`` (a Q over contracts: has one).

OVERDUE_CONTRACT_STATES = frozenset({ContractState.ACTIVE})


def is_overdue(
    due_date: datetime.date, milestone_state: str, contract_state: str, on: datetime.date | None = None
) -> bool:
    """The rule on values already read (a row of a page, a milestone with its contract)."""
    return (
        contract_state in OVERDUE_CONTRACT_STATES
        and due_date < (on or timezone.localdate())
        and milestone_state not in CLOSED_MILESTONE_STATES
    )


def overdue_q(on: datetime.date | None = None) -> Q:
    """The rule as a filter on milestones (joins the contract for its state)."""
    return Q(contract__state__in=OVERDUE_CONTRACT_STATES, due_date__lt=on or timezone.localdate()) & ~Q(
        state__in=CLOSED_MILESTONE_STATES
    )


def contract_overdue_q(on: datetime.date | None = None) -> Q:
    """The rule as a filter on contracts: "has an overdue milestone". The contract's state is tested on its
    own row; the milestones by a correlated ``EXISTS`` with no join (the partial index
    ``milestone_open_due_idx`` or the contract foreign key serve it)."""
    late = Milestone.objects.filter(contract=OuterRef("pk"), due_date__lt=on or timezone.localdate()).exclude(
        state__in=CLOSED_MILESTONE_STATES
    )
    return Q(state__in=OVERDUE_CONTRACT_STATES) & Exists(late)


def milestone_is_overdue(milestone: Milestone, on: datetime.date | None = None) -> bool:
    """``is_overdue`` for one milestone (reads ``milestone.contract``: select it with the milestone)."""
    return is_overdue(milestone.due_date, milestone.state, milestone.contract.state, on)


def overdue(queryset: QuerySet[Milestone] | None = None, *, on: datetime.date | None = None) -> QuerySet[Milestone]:
    """The overdue milestones among ``queryset`` (default: all), by ``overdue_q``. One query; chain it after
    ``for_user``."""
    queryset = Milestone.objects.all() if queryset is None else queryset
    return queryset.filter(overdue_q(on))


def slippage_days(milestone: Milestone) -> int:
    """Days the current due date lies after the baseline (negative: earlier)."""
    return (milestone.due_date - milestone.baseline_due_date).days
