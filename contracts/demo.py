"""Demo sourcing: a living pipeline of RFPs in every state, built through the services with the demo users.

Acme Pharma (alice) has a draft, a sealed RFP still open (erin has submitted, dave has a draft, a question
answered), a closed RFP awaiting award (three sealed proposals, one over the ceiling, scored by alice and
frank), a clinical-monitoring RFP awarded to Northwind (carol) that became a contract with milestones, and
a cancelled RFP. Borealis Bio (bob) has its own open RFP, which nobody at Acme sees.

Idempotent: each story is keyed by its RFP's title within its sponsor; a story whose RFP exists is left
alone, so a second ``seed_demo`` changes nothing here. Everything goes through the services, so the
history, the notifications and the rules are the real ones — which is also why stories that need a past
deadline publish with a future one first and then move the deadline back (see ``_bidding_ended``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from accounts.models import User
from contracts.models import RFP, Proposal, RFPCriterion
from contracts.services.awards import rfp_award
from contracts.services.proposals import proposal_reject, proposal_save_draft, proposal_shortlist, proposal_submit
from contracts.services.questions import question_answer, question_ask
from contracts.services.rfps import rfp_cancel, rfp_close, rfp_create, rfp_invite, rfp_publish
from contracts.services.scoring import score_save
from sponsors.models import Program
from vendors.models import ServiceCategory

CRITERIA = [("Price", 40), ("Timeline", 20), ("Experience", 20), ("Quality and compliance", 20)]
NEW_YORK = ZoneInfo("America/New_York")
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def D(value: str) -> Decimal:
    return Decimal(value)


@dataclass
class Bid:
    """A vendor's proposal: total, line items (description, quantity, unit, unit price, pass-through) and
    milestones (name, days after the start, amount). Line items and milestones add up to the total."""

    vendor: str
    total: str
    currency: str
    timeline: str
    lines: list[tuple[str, str, str, str, bool]] = field(default_factory=list)
    milestones: list[tuple[str, int, str]] = field(default_factory=list)
    assumptions: str = ""

    def data(self) -> dict:
        return {
            "total_price": D(self.total), "currency": self.currency, "timeline": self.timeline,
            "assumptions": self.assumptions,
        }  # fmt: skip

    def line_items(self) -> list[dict]:
        return [
            {"description": d, "quantity": D(q), "unit": u, "unit_price": D(p), "pass_through": pt}
            for d, q, u, p, pt in self.lines
        ]

    def milestone_rows(self) -> list[dict]:
        return [{"name": n, "due_offset_days": days, "amount": D(a)} for n, days, a in self.milestones]


def _moment(days: int, hour: int, zone: ZoneInfo) -> datetime.datetime:
    """``days`` from today at ``hour`` o'clock in ``zone`` (an aware datetime, as the services require)."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone)


def _day(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def _bidder(vendor, users: dict[str, User]) -> User:
    """Who answers for ``vendor``: its demo user (carol, dave, erin), else its bid desk (made with the other
    demo users by ``accounts.demo.seed`` for the vendors ``bid_desk_vendors`` names)."""
    for user in users.values():
        if user.vendor_id == vendor.pk and user.can_act:
            return user
    raise LookupError(f"No demo user acts for {vendor.slug}: add it to bid_desk_vendors().")


def _other_cros(vendors: dict) -> list:
    """The directory's other CROs that bid on the clinical-monitoring RFP (generated vendors; none when
    seed_demo runs with --vendors 0)."""
    return [v for v in vendors.values() if v.kind == "cro" and v.slug != "northwind-clinical"][:2]


def bid_desk_vendors(vendors: dict) -> list[str]:
    """The vendors that act in these stories without a named demo user: each gets a bid desk
    (``bids@<slug>.test``, ``accounts.demo.seed``)."""
    return ["lyon-aseptic", *(v.slug for v in _other_cros(vendors))]


def _propose(bid: Bid, rfp: RFP, vendors: dict, users: dict, *, submit: bool = True) -> Proposal:
    actor = _bidder(vendors[bid.vendor], users)
    proposal = proposal_save_draft(
        actor=actor, rfp=rfp, data=bid.data(), line_items=bid.line_items(), milestones=bid.milestone_rows()
    )
    return proposal_submit(actor=actor, proposal=proposal) if submit else proposal


def _bidding_ended(rfp: RFP) -> RFP:
    """End bidding now: the deadline moves from the future it was published with to this moment.

    Publishing refuses a past deadline, and a proposal is accepted only before the deadline, so a story
    whose bidding is over publishes with a future deadline, takes its proposals, and then moves the
    deadline back with a queryset update (the Q&A cut-off with it, which may not be after the deadline)
    — to now, so that every proposal was submitted before it. The close that follows is the real
    ``rfp_close``, with its notices and the opening of sealed bids.
    """
    now = timezone.now()
    RFP.objects.filter(pk=rfp.pk).update(
        response_deadline=now, qa_cutoff=min(rfp.qa_cutoff, now) if rfp.qa_cutoff else None
    )
    rfp.refresh_from_db()
    return rfp


def _categories(*codes: str) -> list[ServiceCategory]:
    return list(ServiceCategory.objects.filter(code__in=codes))


def _create(actor, sponsor, program_code: str, title: str, **kwargs) -> RFP:
    program = Program.objects.get(sponsor=sponsor, code=program_code)
    return rfp_create(actor=actor, program=program, title=title, criteria=CRITERIA, **kwargs)


def _score(actor, proposal: Proposal, sheet: list[str], comments: dict[str, str] | None = None) -> None:
    criteria = list(RFPCriterion.objects.filter(rfp_id=proposal.rfp_id).order_by("position"))
    for criterion, score in zip(criteria, sheet, strict=True):
        score_save(
            actor=actor, proposal=proposal, criterion=criterion, score=score,
            comment=(comments or {}).get(criterion.name, ""),
        )  # fmt: skip


# --- Acme: a draft ---------------------------------------------------------------------------------------

DRAFT_TITLE = "Commercial packaging and serialisation of GLP-1 tablets"


def _acme_draft(alice, acme, vendors, users) -> None:
    rfp = _create(
        alice, acme, "ACM-204", DRAFT_TITLE,
        scope=("Primary and secondary packaging of the oral GLP-1 agonist (ACM-204) for the phase 2b supply and "
               "launch readiness: blister packs of 28 tablets, cartons with EU FMD and US DSCSA serialisation, "
               "aggregation to case level, and storage at 15–25 °C until shipment. Expected volume: 1.2 million "
               "packs a year from 2027."),
        categories=_categories("packaging"),
        desired_start=_day(120), desired_end=_day(485),
        response_deadline=_moment(45, 17, NEW_YORK),
        budget_ceiling=D("2400000"), budget_currency="USD",
    )  # fmt: skip
    # Invited while still a draft: the vendors hear of it only once it is published.
    rfp_invite(actor=alice, rfp=rfp, vendors=[vendors["bavaria-oral-solids"], vendors["helix-manufacturing"]])


# --- Acme: a sealed RFP still open -------------------------------------------------------------------------

OPEN_SEALED_TITLE = "Sterile fill-finish: Acmezumab 400 mg vials for the phase 3 study"


def _acme_open_sealed(alice, acme, vendors, users) -> None:
    rfp = _create(
        alice, acme, "ACM-101", OPEN_SEALED_TITLE,
        scope=("Aseptic fill-finish of Acmezumab drug substance (25 mg/mL) into 20R vials at 16 mL, three GMP "
               "batches of about 10,000 vials each for the ACM-101-301 phase 3 study, after technology transfer "
               "and one engineering run. Includes release testing, 12 months of ICH stability on one batch, and "
               "storage at 2–8 °C until shipment. Vials, stoppers and seals are bought by the vendor and passed "
               "through at cost."),
        categories=_categories("finished-dosage-forms", "quality-control"),
        desired_start=_day(60), desired_end=_day(330),
        response_deadline=_moment(12, 17, NEW_YORK), qa_cutoff=_moment(7, 17, NEW_YORK),
        budget_ceiling=D("1200000"), budget_currency="EUR", sealed=True,
    )  # fmt: skip
    invitees = ["helix-manufacturing", "orbital-cdmo", "lyon-aseptic"]
    rfp_invite(actor=alice, rfp=rfp, vendors=[vendors[slug] for slug in invitees])
    rfp = rfp_publish(actor=alice, rfp=rfp)

    dave = _bidder(vendors["helix-manufacturing"], users)
    question = question_ask(
        actor=dave, rfp=rfp,
        text="Is lyophilisation in scope, or is the drug product filled as a ready-to-use solution?",
    )  # fmt: skip
    question_answer(
        actor=alice, question=question,
        answer=("Liquid fill only: the drug product is a ready-to-use solution. Lyophilisation is not in scope "
                "for this RFP."),
    )  # fmt: skip
    _propose(
        Bid(
            vendor="orbital-cdmo", total="1064500.00", currency="EUR",
            timeline="Technology transfer in weeks 1–6, engineering run in week 10, GMP batches in weeks 18, 26 and 34.",
            assumptions="Drug substance delivered frozen to Cork at least four weeks before each batch.",
            lines=[
                ("Technology transfer and engineering run", "1", "project", "145000", False),
                ("GMP fill-finish batch, about 10,000 vials", "3", "batch", "238000", False),
                ("Release testing and certificate of analysis", "3", "batch", "38500", False),
                ("20R vials, stoppers and seals", "30000", "set", "3.00", True),
            ],
            milestones=[
                ("Technology transfer complete", 45, "145000.00"),
                ("Batch 1 released", 150, "354500.00"),
                ("Batch 2 released", 210, "282500.00"),
                ("Batch 3 released, stability started", 270, "282500.00"),
            ],
        ),
        rfp, vendors, users,
    )  # fmt: skip
    # Dave's proposal is a draft: a price and a first milestone, the rest still to come.
    proposal_save_draft(
        actor=dave, rfp=rfp,
        data={"total_price": D("985000.00"), "currency": "EUR", "timeline": "Three batches within 30 weeks."},
        milestones=[{"name": "Technology transfer complete", "due_offset_days": 40, "amount": D("120000.00")}],
    )  # fmt: skip


# --- Acme: closed, awaiting award --------------------------------------------------------------------------

AWAITING_AWARD_TITLE = "Prefilled-syringe fill of LAI-310 suspension for the phase 1 study"


def _acme_awaiting_award(alice, acme, vendors, users) -> None:
    rfp = _create(
        alice, acme, "ACM-310", AWAITING_AWARD_TITLE,
        scope=("Aseptic fill of the long-acting injectable aripiprazole-like suspension (ACM-310) into 2.25 mL "
               "prefilled syringes: media fill, three GMP batches of about 4,000 syringes, release testing "
               "including particle size and resuspendability, and labelling for the first-in-human study in "
               "Switzerland. Syringe components are passed through at cost."),
        categories=_categories("finished-dosage-forms", "packaging"),
        desired_start=_day(21), desired_end=_day(240),
        response_deadline=_moment(10, 17, NEW_YORK),
        budget_ceiling=D("950000"), budget_currency="CHF", sealed=True,
    )  # fmt: skip
    bids = [
        Bid(
            vendor="helix-manufacturing", total="812400.00", currency="CHF",
            timeline="Media fill in week 6; batches 1–3 released by weeks 17, 24 and 30.",
            lines=[
                ("Technology transfer and media fill", "1", "project", "96000", False),
                ("GMP suspension fill, about 4,000 syringes", "3", "batch", "178000", False),
                ("Release testing incl. particle size and resuspendability", "3", "batch", "31800", False),
                ("Prefilled-syringe components", "12000", "set", "7.25", True),
            ],
            milestones=[
                ("Media fill passed", 40, "96000.00"), ("Batch 1 released", 120, "272000.00"),
                ("Batch 2 released", 165, "222200.00"), ("Batch 3 released", 210, "222200.00"),
            ],
        ),
        Bid(
            vendor="orbital-cdmo", total="889400.00", currency="CHF",
            timeline="Process development first (8 weeks), then batches every seven weeks.",
            lines=[
                ("Process development and transfer", "1", "project", "140000", False),
                ("GMP suspension fill", "3", "batch", "196000", False),
                ("QC release testing", "3", "batch", "27000", False),
                ("Syringes and plunger stoppers", "12000", "set", "6.70", True),
            ],
            milestones=[
                ("Process transferred", 60, "140000.00"), ("Batch 1 released", 150, "249800.00"),
                ("Batch 2 released", 200, "249800.00"), ("Batch 3 released", 250, "249800.00"),
            ],
        ),
        Bid(
            vendor="lyon-aseptic", total="1018000.00", currency="CHF",
            timeline="Two engineering runs, then three batches; all released within 34 weeks.",
            assumptions="Price includes a dedicated isolator line for the campaign.",
            lines=[
                ("Technology transfer and engineering run", "2", "run", "85000", False),
                ("GMP suspension fill on a dedicated isolator line", "3", "batch", "215000", False),
                ("Release and 6-month stability testing", "3", "batch", "41000", False),
                ("Syringe components", "12800", "set", "6.25", True),
            ],
            milestones=[
                ("Engineering runs complete", 50, "170000.00"), ("Batch 1 released", 140, "300000.00"),
                ("Batch 2 released", 190, "274000.00"), ("Batch 3 released", 240, "274000.00"),
            ],
        ),
    ]  # fmt: skip
    rfp_invite(actor=alice, rfp=rfp, vendors=[vendors[bid.vendor] for bid in bids])
    rfp = rfp_publish(actor=alice, rfp=rfp)
    proposals = {bid.vendor: _propose(bid, rfp, vendors, users) for bid in bids}
    rfp = _bidding_ended(rfp)
    rfp_close(actor=alice, rfp=rfp, reason="Response deadline passed.")

    # Alice and Frank each keep a score sheet (0–10 per criterion); the comparison shows the average.
    frank = users.get("frank@acme.test")
    sheets = {
        "helix-manufacturing": (["8.5", "7.0", "8.0", "6.5"], ["8.0", "7.5", "8.0", "7.0"]),
        "orbital-cdmo": (["7.5", "6.5", "6.0", "7.5"], ["7.0", "6.0", "6.5", "7.0"]),
        "lyon-aseptic": (["5.0", "8.0", "8.5", "8.0"], ["5.5", "8.0", "8.0", "8.5"]),
    }
    comments = {
        "helix-manufacturing": {"Quality and compliance": "Conditional approval: line-clearance CAPA to verify."},
        "lyon-aseptic": {"Price": "Over our ceiling by CHF 68,000."},
    }
    for slug, (alice_sheet, frank_sheet) in sheets.items():
        _score(alice, proposals[slug], alice_sheet, comments.get(slug))
        if frank is not None:
            _score(frank, proposals[slug], frank_sheet)
    for slug in ("helix-manufacturing", "lyon-aseptic"):
        proposal_shortlist(actor=alice, proposal=proposals[slug], reason="Best scores after the first review.")


# --- Acme: awarded into a contract -------------------------------------------------------------------------

AWARDED_TITLE = "Clinical monitoring for the ACM-101-301 phase 3 NSCLC study"


def _acme_awarded(alice, acme, vendors, users) -> None:
    rfp = _create(
        alice, acme, "ACM-101", AWARDED_TITLE,
        scope=("On-site and risk-based remote monitoring of 60 sites in the US, Germany, Spain and Poland for "
               "the ACM-101-301 study (720 patients, 24 months of treatment and follow-up): monitoring plan, "
               "about 1,440 monitoring visits, central data review, and project management. Investigator "
               "meetings are booked by the CRO and passed through at cost."),
        categories=_categories("clinical-trials", "project-management"),
        desired_start=_day(14), desired_end=_day(744),
        response_deadline=_moment(10, 17, NEW_YORK), qa_cutoff=_moment(5, 17, NEW_YORK),
        budget_ceiling=D("4800000"), budget_currency="USD",
    )  # fmt: skip
    bids = [
        Bid(
            vendor="northwind-clinical", total="4326000.00", currency="USD",
            timeline="Monitoring plan in month 1; first patient in month 3; database lock in month 24.",
            lines=[
                ("On-site monitoring visit", "1440", "visit", "2150", False),
                ("Remote monitoring and central data review", "24", "month", "28500", False),
                ("Project management", "24", "month", "14000", False),
                ("Investigator meetings: venue and travel", "1", "lot", "210000", True),
            ],
            milestones=[
                ("Monitoring plan approved", 30, "432600.00"), ("First patient in", 90, "865200.00"),
                ("50% of patients enrolled", 300, "1081500.00"), ("Last patient last visit", 630, "1081500.00"),
                ("Database lock", 720, "865200.00"),
            ],
        ),
    ]  # fmt: skip
    others = _other_cros(vendors)
    if others:
        bids.append(
            Bid(
                vendor=others[0].slug, total="3980000.00", currency="USD",
                timeline="Start-up in 10 weeks; monitoring every 6 weeks per site.",
                lines=[
                    ("On-site monitoring visit", "1440", "visit", "1950", False),
                    ("Remote monitoring and central data review", "24", "month", "26000", False),
                    ("Project management", "24", "month", "13000", False),
                    ("Investigator meetings: venue and travel", "1", "lot", "236000", True),
                ],
                milestones=[
                    ("Monitoring plan approved", 30, "398000.00"), ("First patient in", 90, "796000.00"),
                    ("50% of patients enrolled", 300, "995000.00"), ("Last patient last visit", 630, "995000.00"),
                    ("Database lock", 720, "796000.00"),
                ],
            )
        )  # fmt: skip
    if len(others) > 1:
        bids.append(
            Bid(
                vendor=others[1].slug, total="5150000.00", currency="USD",
                timeline="Monitoring by a dedicated oncology team from month 2.",
                milestones=[
                    ("First patient in", 90, "1030000.00"), ("Enrolment complete", 360, "2060000.00"),
                    ("Database lock", 720, "2060000.00"),
                ],
            )
        )  # fmt: skip
    rfp_invite(actor=alice, rfp=rfp, vendors=[vendors[bid.vendor] for bid in bids])
    rfp = rfp_publish(actor=alice, rfp=rfp)
    carol = _bidder(vendors["northwind-clinical"], users)
    question = question_ask(
        actor=carol, rfp=rfp, text="Are the 60 sites already selected, or is site feasibility part of the scope?"
    )
    question_answer(
        actor=alice, question=question,
        answer="The sites are selected and contracted by Acme; feasibility is not in scope.",
    )  # fmt: skip
    proposals = [_propose(bid, rfp, vendors, users) for bid in bids]
    rfp = _bidding_ended(rfp)
    rfp_close(actor=alice, rfp=rfp, reason="Response deadline passed.")
    sheets = (["7.0", "8.5", "9.0", "8.5"], ["8.5", "7.0", "6.0", "7.0"])  # Northwind, then the cheaper CRO
    for proposal, sheet in zip(proposals, sheets, strict=False):
        _score(alice, proposal, sheet)
    if len(proposals) > 2:
        proposal_reject(actor=alice, proposal=proposals[2], reason="Over budget, and no oncology monitoring in Europe.")
    # Northwind is approved in Acme's qualifications (sponsors/demo.py): no override of the gate needed.
    rfp_award(
        actor=alice, proposal=proposals[0],
        reason="Best oncology monitoring experience at a price within budget; MSA in force.",
    )  # fmt: skip


# --- Acme: cancelled ---------------------------------------------------------------------------------------

CANCELLED_TITLE = "PK bioanalysis for the ACM-204 phase 2 study"


def _acme_cancelled(alice, acme, vendors, users) -> None:
    rfp = _create(
        alice, acme, "ACM-204", CANCELLED_TITLE,
        scope=("Validated LC-MS/MS bioanalysis of about 6,000 plasma samples for the pharmacokinetics of the oral "
               "GLP-1 agonist, with sample storage at −80 °C and a bioanalytical report per cohort."),
        categories=_categories("quality-control"),
        desired_start=_day(40), desired_end=_day(400),
        response_deadline=_moment(20, 17, NEW_YORK),
        budget_ceiling=D("380000"), budget_currency="USD",
    )  # fmt: skip
    rfp_invite(actor=alice, rfp=rfp, vendors=[vendors["orbital-cdmo"], vendors["northwind-clinical"]])
    rfp = rfp_publish(actor=alice, rfp=rfp)
    rfp_cancel(
        actor=alice, rfp=rfp,
        reason="The bioanalysis moves to the central laboratory already contracted for the programme.",
    )  # fmt: skip


# --- Borealis: its own open RFP ----------------------------------------------------------------------------

BOREALIS_TITLE = "AAV vector drug product fill-finish for the BOR-01 phase 1/2 study"


def _borealis_open(bob, borealis, vendors, users) -> None:
    rfp = _create(
        bob, borealis, "BOR-01", BOREALIS_TITLE,
        scope=("Fill-finish of the AAV8 gene therapy vector into 2R vials at 0.5 mL under aseptic conditions, "
               "two batches of about 800 vials, release testing and storage at ≤ −60 °C. Subretinal dosing: "
               "particulate limits are tighter than the pharmacopoeia's."),
        categories=_categories("finished-dosage-forms"),
        desired_start=_day(75), desired_end=_day(260),
        response_deadline=_moment(18, 16, STOCKHOLM),
        budget_ceiling=D("650000"), budget_currency="EUR", sealed=True,
    )  # fmt: skip
    rfp_invite(actor=bob, rfp=rfp, vendors=[vendors["lyon-aseptic"], vendors["helix-manufacturing"]])
    rfp_publish(actor=bob, rfp=rfp)


STORIES = [
    ("acme-pharma", "alice@acme.test", DRAFT_TITLE, _acme_draft),
    ("acme-pharma", "alice@acme.test", OPEN_SEALED_TITLE, _acme_open_sealed),
    ("acme-pharma", "alice@acme.test", AWAITING_AWARD_TITLE, _acme_awaiting_award),
    ("acme-pharma", "alice@acme.test", AWARDED_TITLE, _acme_awarded),
    ("acme-pharma", "alice@acme.test", CANCELLED_TITLE, _acme_cancelled),
    ("borealis-bio", "bob@borealis.test", BOREALIS_TITLE, _borealis_open),
]


def seed(sponsors: dict, vendors: dict, users) -> list[RFP]:
    """Write the stories whose RFP does not exist yet (keyed by title within the sponsor); return every
    demo RFP. ``users`` are the demo users (``accounts.demo.seed``): the stories' actors."""
    by_email = {user.email: user for user in users}
    for sponsor_slug, actor_email, title, story in STORIES:
        sponsor = sponsors[sponsor_slug]
        if RFP.objects.filter(sponsor=sponsor, title=title).exists():
            continue
        story(by_email[actor_email], sponsor, vendors, by_email)
    return list(
        RFP.objects.filter(
            sponsor__in=[sponsors[slug] for slug, *_ in STORIES], title__in=[title for _, _, title, _ in STORIES]
        )
    )
