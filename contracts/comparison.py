"""The comparison of an RFP's proposals, as plain data for the page, the XLSX export and the API.

``rfp_comparison(rfp, user)`` reads everything in a constant number of queries, whatever the number of
proposals, milestones, line items, scores and certificates (one query per kind of row, rows grouped in
Python), and decides here, once, what the renderings show:

- prices keep their own currency and are never summed or compared across currencies: the best
  (lowest) price is marked only when every competing proposal is in the same currency;
- "over ceiling" compares with the RFP's budget ceiling only in the ceiling's currency; a proposal in
  another currency is "not comparable", never converted;
- per criterion: the average of every scorer's score, the number of scorers and the user's own score;
  the weighted total is ``sum(average × weight) / sum(weights)`` on the 0–10 scale, given once every
  criterion has at least one score (a half-scored proposal would otherwise look better or worse);
- the finish is the latest milestone's due date (a milestone "N days after the start" counts from the
  RFP's desired start);
- "best" marks go to the proposals still in the running (submitted, shortlisted, accepted), and only
  when there are two or more of them to compare; ties are all marked.

Sponsor side only: callers look the RFP up with ``sponsor_rfps(user)`` (a vendor, who may read the RFP
itself, gets a 404 for its comparison). A sealed RFP still taking proposals shows nothing but the date
it opens (``sealed_until``): ``Proposal.objects.for_user`` hides its proposals anyway.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Prefetch
from django.utils import timezone

from contracts.choices import SPONSOR_VISIBLE_PROPOSAL_STATES, ContractState, ProposalState, RFPState
from contracts.models import RFP, Contract, Proposal, ProposalLineItem, ProposalScore, ProposedMilestone
from cro_cmo.models import VIEW
from sponsors.choices import QualificationStatus
from sponsors.models import VendorQualification
from vendors.choices import CertificateStatus
from vendors.models import Certification

TWO_PLACES = Decimal("0.01")
# Proposals that still compete: "best" marks are given among these (a rejected one is out of the race).
COMPETING_STATES = (ProposalState.SUBMITTED, ProposalState.SHORTLISTED, ProposalState.ACCEPTED)
CEILING_OVER, CEILING_WITHIN, CEILING_NOT_COMPARABLE = "over", "within", "not_comparable"
CEILING_LABELS = {
    CEILING_OVER: "Over ceiling",
    CEILING_WITHIN: "Within ceiling",
    CEILING_NOT_COMPARABLE: "Other currency than the ceiling: not compared",
}
NOT_QUALIFIED_LABEL = "Not qualified (no record)"


def sponsor_rfps(user, action: str = VIEW):
    """The RFPs whose comparison ``user`` may open: its sponsor's (platform staff: all). A vendor's people,
    who read the RFPs they are invited to, get none (their comparison is the sponsor's alone)."""
    if user.is_authenticated and (user.is_superuser or user.sponsor_id is not None):
        return RFP.objects.for_user(user, action)
    return RFP.objects.none()


def _round(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


@dataclass
class CriterionScore:
    criterion_id: int
    name: str
    weight: int
    average: Decimal | None
    count: int
    mine: Decimal | None
    my_comment: str
    best: bool = False


@dataclass
class MilestoneRow:
    name: str
    due_date: datetime.date | None
    due_offset_days: int | None
    amount: Decimal


@dataclass
class CertificateRow:
    type: str
    type_label: str
    authority: str
    authority_label: str
    number: str
    expires_on: datetime.date | None
    status: str
    status_label: str


@dataclass
class ContractCount:
    state: str
    label: str
    count: int


@dataclass
class ProposalColumn:
    id: int
    vendor_id: int
    vendor_name: str
    vendor_slug: str
    vendor_url: str
    state: str
    state_label: str
    competing: bool
    total_price: Decimal
    currency: str
    ceiling_check: str  # "over" / "within" / "not_comparable", or "" when the RFP has no ceiling
    timeline: str
    submitted_at: datetime.datetime | None
    finish_date: datetime.date | None
    milestones: list[MilestoneRow]
    fees_total: Decimal
    pass_through_total: Decimal
    line_item_count: int
    scores: list[CriterionScore]
    scored_criteria: int
    weighted_total: Decimal | None
    certificates: list[CertificateRow]
    qualification_status: str  # a QualificationStatus value, or "" when the sponsor has no record
    qualification_label: str
    contracts: list[ContractCount]
    past_awards: int
    best_price: bool = False
    highest_price: bool = False
    best_finish: bool = False
    best_total: bool = False

    @property
    def ceiling_label(self) -> str:
        return CEILING_LABELS.get(self.ceiling_check, "")

    @property
    def contract_total(self) -> int:
        return sum(c.count for c in self.contracts)


@dataclass
class ScoreEntry:
    """One row of one scorer's sheet (the XLSX "Scores" sheet)."""

    scorer: str
    vendor_name: str
    proposal_id: int
    criterion: str
    weight: int
    score: Decimal
    comment: str
    updated: datetime.datetime


@dataclass
class Comparison:
    rfp: RFP
    sealed_until: datetime.datetime | None  # set while a sealed RFP takes proposals: nothing else is shown
    criteria: list = field(default_factory=list)
    proposals: list[ProposalColumn] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)
    common_currency: str = ""  # the one currency of the competing proposals; "" when mixed or none
    scorable: bool = False  # the RFP is closed: its proposals take scores
    score_entries: list[ScoreEntry] = field(default_factory=list)

    @property
    def mixed_currencies(self) -> bool:
        return len(self.currencies) > 1

    @property
    def weight_total(self) -> int:
        return sum(c.weight for c in self.criteria)

    @property
    def criterion_rows(self) -> list[tuple]:
        """(criterion, [its CriterionScore in each proposal's column]): the table's rows, one per criterion."""
        return [(criterion, [c.scores[i] for c in self.proposals]) for i, criterion in enumerate(self.criteria)]


def _finish(rfp: RFP, milestones: list[ProposedMilestone]) -> datetime.date | None:
    dates = [
        m.due_date if m.due_date is not None else rfp.desired_start + datetime.timedelta(days=m.due_offset_days)
        for m in milestones
        if m.due_date is not None or m.due_offset_days is not None
    ]
    return max(dates) if dates else None


def _ceiling_check(rfp: RFP, proposal: Proposal) -> str:
    if rfp.budget_ceiling is None:
        return ""
    if proposal.currency != rfp.budget_currency:
        return CEILING_NOT_COMPARABLE
    return CEILING_OVER if proposal.total_price > rfp.budget_ceiling else CEILING_WITHIN


def _certificates(vendor, today: datetime.date) -> list[CertificateRow]:
    rows = []
    for cert in vendor.certifications.all():
        status = cert.status_on(today)
        rows.append(
            CertificateRow(
                type=cert.type,
                type_label=cert.get_type_display(),
                authority=cert.authority,
                authority_label=cert.authority_short or cert.get_authority_display(),
                number=cert.number,
                expires_on=cert.expires_on,
                status=status,
                status_label=CertificateStatus(status).label,
            )
        )
    return rows


def _scores(criteria, proposal_scores: list[ProposalScore], user) -> tuple[list[CriterionScore], Decimal | None, int]:
    by_criterion: dict[int, list[ProposalScore]] = defaultdict(list)
    for score in proposal_scores:
        by_criterion[score.criterion_id].append(score)
    rows, weighted, scored = [], Decimal("0"), 0
    for criterion in criteria:
        given = by_criterion.get(criterion.pk, [])
        average = _round(sum((s.score for s in given), Decimal("0")) / len(given)) if given else None
        mine = next((s for s in given if s.scorer_id == user.pk), None)
        rows.append(
            CriterionScore(
                criterion_id=criterion.pk,
                name=criterion.name,
                weight=criterion.weight,
                average=average,
                count=len(given),
                mine=mine.score if mine else None,
                my_comment=mine.comment if mine else "",
            )
        )
        if average is not None:
            scored += 1
            weighted += average * criterion.weight
    weights = sum(c.weight for c in criteria)
    total = _round(weighted / weights) if criteria and scored == len(criteria) else None
    return rows, total, scored


def _mark_best(columns: list[ProposalColumn], value, attr: str, lowest: bool) -> None:
    """Mark ``attr`` on the competing columns whose ``value(column)`` is the best (ties: all of them)."""
    candidates = [(value(c), c) for c in columns if c.competing]
    candidates = [(v, c) for v, c in candidates if v is not None]
    if len(candidates) < 2:
        return
    best = min(v for v, _ in candidates) if lowest else max(v for v, _ in candidates)
    if all(v == best for v, _ in candidates):
        return  # nothing stands out
    for v, column in candidates:
        if v == best:
            setattr(column, attr, True)


def _mark_best_scores(columns: list[ProposalColumn], criteria) -> None:
    for index, _ in enumerate(criteria):
        candidates = [c.scores[index] for c in columns if c.competing and c.scores[index].average is not None]
        if len(candidates) < 2:
            continue
        best = max(s.average for s in candidates)
        if all(s.average == best for s in candidates):
            continue
        for s in candidates:
            s.best = s.average == best


def _proposals(rfp: RFP, user):
    today = timezone.localdate()
    certificates = Certification.objects.order_by("type", "-expires_on", "pk")
    return (
        Proposal.objects.for_user(user)
        .filter(rfp=rfp, state__in=SPONSOR_VISIBLE_PROPOSAL_STATES)
        .select_related("vendor")
        .prefetch_related(
            Prefetch("milestones", queryset=ProposedMilestone.objects.order_by("position", "id")),
            Prefetch("line_items", queryset=ProposalLineItem.objects.order_by("position", "id")),
            Prefetch("scores", queryset=ProposalScore.objects.select_related("scorer").order_by("scorer_id", "pk")),
            Prefetch("vendor__certifications", queryset=certificates),
        )
        .order_by("vendor__name", "pk")
    ), today


def rfp_comparison(rfp: RFP, user) -> Comparison:
    """Everything the comparison shows for ``rfp`` to ``user`` (one of the sponsor's people)."""
    if rfp.sealed and rfp.state in (RFPState.DRAFT, RFPState.PUBLISHED):
        return Comparison(rfp=rfp, sealed_until=rfp.response_deadline)
    criteria = list(rfp.criteria.order_by("position", "id"))
    queryset, today = _proposals(rfp, user)
    proposals = list(queryset)
    vendor_ids = {p.vendor_id for p in proposals}

    qualifications = dict(
        VendorQualification.objects.filter(sponsor_id=rfp.sponsor_id, vendor_id__in=vendor_ids).values_list(
            "vendor_id", "status"
        )
    )
    contract_rows = (
        Contract.objects.filter(sponsor_id=rfp.sponsor_id, vendor_id__in=vendor_ids)
        .values("vendor_id", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    contracts: dict[int, Counter] = defaultdict(Counter)
    for row in contract_rows:
        contracts[row["vendor_id"]][row["state"]] = row["n"]
    awards = dict(
        Proposal.objects.filter(rfp__sponsor_id=rfp.sponsor_id, vendor_id__in=vendor_ids, state=ProposalState.ACCEPTED)
        .exclude(rfp_id=rfp.pk)
        .values("vendor_id")
        .annotate(n=Count("rfp_id", distinct=True))
        .order_by()
        .values_list("vendor_id", "n")
    )

    columns, entries = [], []
    for proposal in proposals:
        milestones = list(proposal.milestones.all())
        items = list(proposal.line_items.all())
        proposal_scores = list(proposal.scores.all())
        scores, total, scored = _scores(criteria, proposal_scores, user)
        status = qualifications.get(proposal.vendor_id, "")
        vendor = proposal.vendor
        columns.append(
            ProposalColumn(
                id=proposal.pk,
                vendor_id=vendor.pk,
                vendor_name=vendor.name,
                vendor_slug=vendor.slug,
                vendor_url=vendor.get_absolute_url(),
                state=proposal.state,
                state_label=proposal.get_state_display(),
                competing=proposal.state in COMPETING_STATES,
                total_price=proposal.total_price,
                currency=proposal.currency,
                ceiling_check=_ceiling_check(rfp, proposal),
                timeline=proposal.timeline,
                submitted_at=proposal.submitted_at,
                finish_date=_finish(rfp, milestones),
                milestones=[MilestoneRow(m.name, m.due_date, m.due_offset_days, m.amount) for m in milestones],
                fees_total=sum((i.line_total for i in items if not i.pass_through), Decimal("0.00")),
                pass_through_total=sum((i.line_total for i in items if i.pass_through), Decimal("0.00")),
                line_item_count=len(items),
                scores=scores,
                scored_criteria=scored,
                weighted_total=total,
                certificates=_certificates(vendor, today),
                qualification_status=status,
                qualification_label=QualificationStatus(status).label if status else NOT_QUALIFIED_LABEL,
                contracts=[
                    ContractCount(state, ContractState(state).label, n)
                    for state, n in sorted(
                        contracts[vendor.pk].items(), key=lambda kv: list(ContractState).index(kv[0])
                    )
                ],
                past_awards=awards.get(vendor.pk, 0),
            )
        )
        names = {c.pk: c for c in criteria}
        for score in proposal_scores:
            criterion = names[score.criterion_id]
            entries.append(
                ScoreEntry(
                    scorer=str(score.scorer),
                    vendor_name=vendor.name,
                    proposal_id=proposal.pk,
                    criterion=criterion.name,
                    weight=criterion.weight,
                    score=score.score,
                    comment=score.comment,
                    updated=score.updated,
                )
            )

    competing_currencies = sorted({c.currency for c in columns if c.competing})
    common = competing_currencies[0] if len(competing_currencies) == 1 else ""
    if common:
        _mark_best(columns, lambda c: c.total_price, "best_price", lowest=True)
        _mark_best(columns, lambda c: c.total_price, "highest_price", lowest=False)
    _mark_best(columns, lambda c: c.finish_date, "best_finish", lowest=True)
    _mark_best(columns, lambda c: c.weighted_total, "best_total", lowest=False)
    _mark_best_scores(columns, criteria)
    entries.sort(key=lambda e: (e.scorer, e.vendor_name, e.criterion))
    return Comparison(
        rfp=rfp,
        sealed_until=None,
        criteria=criteria,
        proposals=columns,
        currencies=sorted({c.currency for c in columns}),
        common_currency=common,
        scorable=rfp.state == RFPState.CLOSED,
        score_entries=entries,
    )
