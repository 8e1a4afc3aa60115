"""Demo contracts: contracts in every state and kind, played through the services by the demo users.

Acme Pharma (alice) and Orbital CDMO (erin): an active MSA with two active work orders under it — drug
product supply at 85 % burn (CO-1 approved with erin's signature, CO-2 proposed by erin and pending, an
invoice awaiting alice, a milestone submitted late) and an analytical method transfer at 105 % burn (an
out-of-scope invoice approved with alice's override, a rejected invoice, the final report overdue) — and a
stability work order alice has signed that awaits erin's signature. Acme and Helix (dave): an active
quality agreement, a completed CDA, a terminated quality agreement and a draft MSA. The clinical-monitoring
contract the sourcing demo awarded to Northwind (carol) is signed by both and under way. Borealis (bob) and
Helix: an active CDA, which nobody at Acme sees.

Played at their own dates. Each step runs with the clock set to the day it would have happened
(``_Clock.on``: ``django.utils.timezone.now`` answers that day while the step runs), so the signatures,
decisions, invoices and history entries carry believable past dates and the burn chart climbs over
months instead of jumping today. Nothing is moved afterwards: milestones are created with due dates that
were in the future on the day they were agreed and have passed since (the overdue ones), and the
signatures therefore still match the contracts' content. Dates count from the day of the seed, so the
data stays alive.

Idempotent: each story is keyed by its contract's title within its sponsor; a story whose contract exists
is left alone (the awarded contract: once signed), so a second ``seed_demo`` changes nothing here.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.utils import timezone

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from contracts import demo as sourcing_demo
from contracts.choices import ContractKind, ContractState
from contracts.models import Contract, Milestone
from contracts.services.change_orders import change_order_approve, change_order_propose
from contracts.services.contracts import contract_complete, contract_create, contract_terminate
from contracts.services.invoices import invoice_approve, invoice_mark_paid, invoice_reject, invoice_submit
from contracts.services.milestones import milestone_accept, milestone_reject, milestone_start, milestone_submit
from contracts.services.signatures import contract_sign
from sponsors.models import Program


def D(value: str) -> Decimal:
    return Decimal(value)


class _Clock:
    """Days counted from the day of the seed, and the clock the services read while a step is played."""

    def __init__(self) -> None:
        self.today = timezone.localdate()
        self._ticks: dict[int, Iterator[int]] = {}

    def day(self, days: int) -> datetime.date:
        return self.today + datetime.timedelta(days=days)

    @contextmanager
    def on(self, days: int) -> Iterator[None]:
        """Play the block ``days`` from today (a past day: ``days`` < 0) from 09:00 local time: every
        ``timezone.now()`` in it — the services' timestamps, ``auto_now`` fields, the history's time — answers
        a moment of that day, one second later at each call (also across blocks of the same day) so the
        order of events is kept.

        Only for this demo: the services take "now" as the moment of the step, and a story of the past has
        no other way to have happened then. ``days`` ≥ 0 plays the block at the real time.
        """
        if days >= 0:
            yield
            return
        start = timezone.make_aware(datetime.datetime.combine(self.day(days), datetime.time(9)))
        ticks = self._ticks.setdefault(days, itertools.count())
        real_now = timezone.now
        timezone.now = lambda: start + datetime.timedelta(seconds=next(ticks))
        try:
            yield
        finally:
            timezone.now = real_now


class _Cast:
    """The demo users who act in the stories, the sponsors and vendors, and the programmes."""

    def __init__(self, sponsors: dict, vendors: dict, users: list[User]) -> None:
        self.sponsors, self.vendors = sponsors, vendors
        by_email = {user.email: user for user in users}
        self.alice, self.bob = by_email["alice@acme.test"], by_email["bob@borealis.test"]
        self.carol, self.dave = by_email["carol@northwind.test"], by_email["dave@helix.test"]
        self.erin = by_email["erin@orbital.test"]

    def program(self, sponsor_slug: str, code: str) -> Program:
        return Program.objects.get(sponsor=self.sponsors[sponsor_slug], code=code)


def _sign(user: User, contract: Contract) -> Contract:
    """``user`` signs with the demo password. ``request=None``: no client, so no lock-out counting."""
    return contract_sign(actor=user, contract=contract, password=DEMO_PASSWORD, request=None).contract


def _signed_by_both(clock: _Clock, contract: Contract, sponsor_user: User, vendor_user: User, on: tuple[int, int]):
    with clock.on(on[0]):
        contract = _sign(sponsor_user, contract)
    with clock.on(on[1]):
        contract = _sign(vendor_user, contract)
    return contract


def _milestones(contract: Contract) -> list[Milestone]:
    return list(contract.milestones.order_by("position", "id"))


def _delivered(clock, milestone, vendor_user, sponsor_user, *, start, submit, accept, comment="") -> Milestone:
    """The vendor starts and submits a milestone, the sponsor accepts it — each on its day."""
    with clock.on(start):
        milestone = milestone_start(actor=vendor_user, milestone=milestone)
    with clock.on(submit):
        milestone = milestone_submit(actor=vendor_user, milestone=milestone, comment="Evidence attached.")
    with clock.on(accept):
        milestone = milestone_accept(actor=sponsor_user, milestone=milestone, comment=comment)
    return milestone


def _billed(clock, contract, vendor_user, sponsor_user, *, number, amount, issued, approved, paid=None,
            milestone=None, override=""):  # fmt: skip
    """The vendor invoices (a milestone, or work outside them), the sponsor approves and perhaps pays."""
    with clock.on(issued):
        invoice = invoice_submit(
            actor=vendor_user, contract=contract, number=number, issued_on=clock.day(issued),
            amount=D(amount), currency=contract.currency, milestone=milestone,
        )  # fmt: skip
    with clock.on(approved):
        invoice = invoice_approve(actor=sponsor_user, invoice=invoice, override_reason=override)
    if paid is not None:
        with clock.on(paid):
            invoice = invoice_mark_paid(actor=sponsor_user, invoice=invoice)
    return invoice


# --- Acme ↔ Orbital: the MSA -------------------------------------------------------------------------------

ORBITAL_MSA_TITLE = "Master services agreement: CMC development and clinical supply"


def _orbital_msa(clock: _Clock, cast: _Cast) -> None:
    with clock.on(-420):
        msa = contract_create(
            actor=cast.alice,
            data={
                "kind": ContractKind.MSA, "vendor": cast.vendors["orbital-cdmo"], "title": ORBITAL_MSA_TITLE,
                "value": D("0"), "currency": "EUR", "start": clock.day(-410), "end": clock.day(1050),
                "notes": "Framework terms (quality, liability, IP, payment at 45 days); spend is committed by work orders.",
            },
        )  # fmt: skip
    _signed_by_both(clock, msa, cast.alice, cast.erin, on=(-415, -412))


def _orbital_msa_of(cast: _Cast) -> Contract:
    return Contract.objects.get(sponsor=cast.sponsors["acme-pharma"], title=ORBITAL_MSA_TITLE)


# --- Acme ↔ Orbital: a work order at 85 % burn, with change orders --------------------------------------------

SUPPLY_TITLE = "Drug product development and phase 2 supply of ACM-204 tablets"


def _orbital_supply(clock: _Clock, cast: _Cast) -> None:
    alice, erin = cast.alice, cast.erin
    with clock.on(-345):
        wo = contract_create(
            actor=alice,
            data={
                "kind": ContractKind.WORK_ORDER, "vendor": cast.vendors["orbital-cdmo"], "parent": _orbital_msa_of(cast),
                "program": cast.program("acme-pharma", "ACM-204"), "title": SUPPLY_TITLE,
                "value": D("600000.00"), "currency": "EUR", "start": clock.day(-330), "end": clock.day(120),
            },
            milestones=[
                {"name": "Formulation and process development report", "due_date": clock.day(-250), "amount": D("90000.00")},
                {"name": "Engineering batch manufactured", "due_date": clock.day(-190), "amount": D("110000.00")},
                {"name": "GMP clinical batch 1 released", "due_date": clock.day(-100), "amount": D("180000.00")},
                {"name": "GMP clinical batch 2 released", "due_date": clock.day(-40), "amount": D("124000.00")},
                {"name": "Clinical packaging and labelling of batch 2", "due_date": clock.day(-8), "amount": D("60000.00")},
                {"name": "6-month stability report, batch 1", "due_date": clock.day(60), "amount": D("36000.00")},
            ],
            activities=[
                {"activity": "manufacturing", "detail": "Formulation development, one engineering batch and two GMP "
                                                        "clinical batches of the 10 mg tablets at Cork."},
                {"activity": "qc_testing", "detail": "Release and ICH stability testing of each batch."},
                {"activity": "batch_certification", "detail": "EU certification by Orbital's Qualified Person."},
                {"activity": "packaging_labelling", "detail": "Bottling and clinical labels for the study (not the "
                                                              "IRT kit list, which Acme keeps)."},
            ],
        )  # fmt: skip
    wo = _signed_by_both(clock, wo, alice, erin, on=(-340, -338))
    development, engineering, batch1, batch2, packaging, stability = _milestones(wo)

    with clock.on(-335):
        development = milestone_start(actor=erin, milestone=development)
    with clock.on(-252):
        development = milestone_submit(actor=erin, milestone=development, comment="Report and batch records attached.")
    with clock.on(-248):
        development = milestone_accept(actor=alice, milestone=development, comment="Accepted; good robustness data.")
    _billed(clock, wo, erin, alice, number="ORB-24031", amount="90000.00", milestone=development,
            issued=-245, approved=-240, paid=-215)  # fmt: skip

    # CO-1, proposed by Acme and signed by Orbital: a second engineering batch, the stability report later.
    with clock.on(-230):
        co1 = change_order_propose(
            actor=alice, contract=wo,
            reason="A second engineering batch at full scale before GMP manufacture, as the scale-up review advised.",
            value_delta=D("40000.00"), new_end=clock.day(141),
            items=[
                {"action": "add", "name": "Second engineering batch (scale confirmation)",
                 "due_date": clock.day(-160), "amount": D("40000.00")},
                {"action": "change", "milestone": stability, "due_date": clock.day(81)},
            ],
        )  # fmt: skip
    with clock.on(-226):
        change_order_approve(actor=erin, change_order=co1, password=DEMO_PASSWORD, request=None)
    second_engineering = Milestone.objects.get(contract=wo, name="Second engineering batch (scale confirmation)")

    engineering = _delivered(clock, engineering, erin, alice, start=-228, submit=-192, accept=-188)
    _billed(clock, wo, erin, alice, number="ORB-24058", amount="110000.00", milestone=engineering,
            issued=-186, approved=-180, paid=-150)  # fmt: skip
    second_engineering = _delivered(clock, second_engineering, erin, alice, start=-187, submit=-162, accept=-158)
    _billed(clock, wo, erin, alice, number="ORB-24066", amount="40000.00", milestone=second_engineering,
            issued=-156, approved=-150, paid=-120)  # fmt: skip
    with clock.on(-150):
        milestone_start(actor=erin, milestone=stability)
    batch1 = _delivered(clock, batch1, erin, alice, start=-157, submit=-104, accept=-98,
                        comment="Released by the QP; certificate of analysis on file.")  # fmt: skip
    _billed(clock, wo, erin, alice, number="ORB-24097", amount="180000.00", milestone=batch1,
            issued=-96, approved=-90, paid=-60)  # fmt: skip

    # Batch 2: sent back once (the certificate lacked the dissolution results), then accepted; billed, unpaid.
    with clock.on(-97):
        batch2 = milestone_start(actor=erin, milestone=batch2)
    with clock.on(-45):
        batch2 = milestone_submit(actor=erin, milestone=batch2, comment="Batch 2 released; CoA attached.")
    with clock.on(-43):
        batch2 = milestone_reject(
            actor=alice, milestone=batch2, reason="The certificate of analysis lacks the dissolution results."
        )
    with clock.on(-42):
        batch2 = milestone_start(actor=erin, milestone=batch2)
    with clock.on(-36):
        batch2 = milestone_submit(actor=erin, milestone=batch2, comment="Complete CoA with dissolution attached.")
    with clock.on(-33):
        batch2 = milestone_accept(actor=alice, milestone=batch2)
    _billed(clock, wo, erin, alice, number="ORB-24131", amount="124000.00", milestone=batch2,
            issued=-30, approved=-25)  # fmt: skip

    # Packaging: submitted after its due date (overdue until alice accepts it).
    with clock.on(-34):
        packaging = milestone_start(actor=erin, milestone=packaging)
    with clock.on(-3):
        milestone_submit(actor=erin, milestone=packaging, comment="Labels approved by Acme's regulatory; kits packed.")

    # Awaiting alice: an invoice for pass-through materials, and CO-2 proposed by Orbital.
    with clock.on(-6):
        invoice_submit(
            actor=erin, contract=wo, number="ORB-24140", issued_on=clock.day(-6), amount=D("18200.00"),
            currency="EUR",
        )  # fmt: skip
    with clock.on(-4):
        change_order_propose(
            actor=erin, contract=wo,
            reason="The agency's scientific advice asks for a photostability study (ICH Q1B, option 2) of the tablets.",
            value_delta=D("18500.00"), new_end=clock.day(170),
            items=[{"action": "add", "name": "Photostability study report", "due_date": clock.day(110),
                    "amount": D("18500.00")}],
        )  # fmt: skip


# --- Acme ↔ Orbital: a work order at 105 % burn ----------------------------------------------------------------

METHOD_TRANSFER_TITLE = "Analytical method transfer for Acmezumab release testing"


def _orbital_method_transfer(clock: _Clock, cast: _Cast) -> None:
    alice, erin = cast.alice, cast.erin
    with clock.on(-225):
        wo = contract_create(
            actor=alice,
            data={
                "kind": ContractKind.WORK_ORDER, "vendor": cast.vendors["orbital-cdmo"], "parent": _orbital_msa_of(cast),
                "program": cast.program("acme-pharma", "ACM-101"), "title": METHOD_TRANSFER_TITLE,
                "value": D("200000.00"), "currency": "EUR", "start": clock.day(-215), "end": clock.day(45),
            },
            milestones=[
                {"name": "Method transfer protocol approved", "due_date": clock.day(-185), "amount": D("30000.00")},
                {"name": "Potency assay transferred", "due_date": clock.day(-120), "amount": D("70000.00")},
                {"name": "Purity and impurity methods transferred", "due_date": clock.day(-60), "amount": D("80000.00")},
                {"name": "Method transfer final report", "due_date": clock.day(-12), "amount": D("20000.00")},
            ],
            activities=[
                {"activity": "qc_testing", "detail": "Transfer and routine use of the cell-based potency assay and "
                                                     "the SEC and CE-SDS purity methods."},
            ],
        )  # fmt: skip
    wo = _signed_by_both(clock, wo, alice, erin, on=(-222, -220))
    protocol, potency, purity, report = _milestones(wo)

    protocol = _delivered(clock, protocol, erin, alice, start=-218, submit=-188, accept=-186)
    _billed(clock, wo, erin, alice, number="ORB-24071", amount="30000.00", milestone=protocol,
            issued=-185, approved=-180, paid=-150)  # fmt: skip
    potency = _delivered(clock, potency, erin, alice, start=-185, submit=-125, accept=-121)
    _billed(clock, wo, erin, alice, number="ORB-24102", amount="70000.00", milestone=potency,
            issued=-119, approved=-115, paid=-85)  # fmt: skip
    purity = _delivered(clock, purity, erin, alice, start=-120, submit=-70, accept=-62)
    _billed(clock, wo, erin, alice, number="ORB-24124", amount="80000.00", milestone=purity,
            issued=-60, approved=-55)  # fmt: skip

    with clock.on(-58):
        courier = invoice_submit(
            actor=erin, contract=wo, number="ORB-24126", issued_on=clock.day(-58), amount=D("4800.00"),
            currency="EUR",
        )  # fmt: skip
    with clock.on(-55):
        invoice_reject(
            actor=alice, invoice=courier, reason="Shipping is included in the milestone prices (work order, section 6)."
        )
    # Work outside the milestones, beyond the budget: alice (an admin) approves it with her reason.
    _billed(
        clock, wo, erin, alice, number="ORB-24128", amount="30000.00", issued=-50, approved=-45,
        override=("Two OOS investigations on the reference standard needed repeat potency runs outside the agreed "
                  "scope; Orbital's root-cause report is accepted. A change order will re-baseline the budget."),
    )  # fmt: skip
    # The final report was due twelve days ago and is still being written: overdue.
    with clock.on(-55):
        milestone_start(actor=erin, milestone=report)


# --- Acme ↔ Orbital: a work order awaiting erin's signature ----------------------------------------------------

STABILITY_TITLE = "Stability programme for the ACM-204 clinical batches (24 months)"


def _orbital_stability(clock: _Clock, cast: _Cast) -> None:
    with clock.on(-10):
        wo = contract_create(
            actor=cast.alice,
            data={
                "kind": ContractKind.WORK_ORDER, "vendor": cast.vendors["orbital-cdmo"], "parent": _orbital_msa_of(cast),
                "program": cast.program("acme-pharma", "ACM-204"), "title": STABILITY_TITLE,
                "value": D("145000.00"), "currency": "EUR", "start": clock.day(14), "end": clock.day(760),
            },
            milestones=[
                {"name": "Stability protocol approved", "due_date": clock.day(30), "amount": D("15000.00")},
                {"name": "6-month results", "due_date": clock.day(200), "amount": D("40000.00")},
                {"name": "12-month results", "due_date": clock.day(380), "amount": D("40000.00")},
                {"name": "24-month stability report", "due_date": clock.day(750), "amount": D("50000.00")},
            ],
            activities=[
                {"activity": "qc_testing", "detail": "ICH Q1A long-term (25 °C/60 % RH) and accelerated (40 °C/75 % "
                                                     "RH) studies of both clinical batches."},
            ],
        )  # fmt: skip
    with clock.on(-2):
        _sign(cast.alice, wo)  # sends it to Orbital: erin's signature is awaited


# --- Acme ↔ Helix ----------------------------------------------------------------------------------------------

HELIX_QUALITY_TITLE = "Quality agreement: clinical drug product manufacture"
HELIX_CDA_TITLE = "Mutual confidentiality agreement: ACM-310 formulation data"
HELIX_TERMINATED_TITLE = "Quality agreement: ACM-204 tablet packaging at the Leipzig site"
HELIX_DRAFT_TITLE = "Master services agreement: clinical and commercial drug product manufacture"


def _helix_contract(clock, cast, *, on: int, kind: str, title: str, start: int, end: int, currency="EUR", notes=""):
    with clock.on(on):
        return contract_create(
            actor=cast.alice,
            data={
                "kind": kind, "vendor": cast.vendors["helix-manufacturing"], "title": title, "value": D("0"),
                "currency": currency, "start": clock.day(start), "end": clock.day(end), "notes": notes,
            },
        )  # fmt: skip


def _helix_quality(clock: _Clock, cast: _Cast) -> None:
    qa = _helix_contract(
        clock, cast, on=-200, kind=ContractKind.QUALITY_AGREEMENT, title=HELIX_QUALITY_TITLE, start=-180, end=915
    )
    _signed_by_both(clock, qa, cast.alice, cast.dave, on=(-190, -185))


def _helix_cda(clock: _Clock, cast: _Cast) -> None:
    cda = _helix_contract(
        clock, cast, on=-545, kind=ContractKind.CDA, title=HELIX_CDA_TITLE, start=-540, end=-30, currency="USD"
    )
    cda = _signed_by_both(clock, cda, cast.alice, cast.dave, on=(-542, -541))
    with clock.on(-25):
        contract_complete(
            actor=cast.alice, contract=cda,
            reason="Term ended; the confidentiality obligations survive for five years (clause 9).",
        )  # fmt: skip


def _helix_terminated(clock: _Clock, cast: _Cast) -> None:
    qa = _helix_contract(
        clock, cast, on=-410, kind=ContractKind.QUALITY_AGREEMENT, title=HELIX_TERMINATED_TITLE, start=-400, end=330
    )
    qa = _signed_by_both(clock, qa, cast.alice, cast.dave, on=(-405, -402))
    with clock.on(-20):
        contract_terminate(
            actor=cast.alice, contract=qa,
            reason=("Helix closes its Leipzig packaging hall at the end of the quarter; the packaging of ACM-204 is "
                    "re-sourced (see the draft RFP for commercial packaging)."),
        )  # fmt: skip


def _helix_draft(clock: _Clock, cast: _Cast) -> None:
    _helix_contract(
        clock, cast, on=-6, kind=ContractKind.MSA, title=HELIX_DRAFT_TITLE, start=30, end=1125, currency="USD",
        notes="Liability cap (clause 14) still with Legal; send for signature once agreed.",
    )  # fmt: skip


# --- Acme ↔ Northwind: the contract the sourcing demo awarded ---------------------------------------------------


def _northwind_awarded(clock: _Clock, cast: _Cast) -> None:
    """Signed by both the day of the seed (the award was made that day too); carol starts the first milestone."""
    contract = Contract.objects.get(sponsor=cast.sponsors["acme-pharma"], title=sourcing_demo.AWARDED_TITLE)
    contract = _signed_by_both(clock, contract, cast.alice, cast.carol, on=(0, 0))
    milestone_start(actor=cast.carol, milestone=_milestones(contract)[0])


def _northwind_pending(sponsors: dict) -> bool:
    """The awarded contract exists, unsigned: its story has not been played yet."""
    return Contract.objects.filter(
        sponsor=sponsors["acme-pharma"], title=sourcing_demo.AWARDED_TITLE, state=ContractState.DRAFT,
        signatures__isnull=True,
    ).exists()  # fmt: skip


# --- Borealis ↔ Helix ------------------------------------------------------------------------------------------

BOREALIS_CDA_TITLE = "Mutual confidentiality agreement: BOR-01 AAV vector programme"


def _borealis_cda(clock: _Clock, cast: _Cast) -> None:
    with clock.on(-65):
        cda = contract_create(
            actor=cast.bob,
            data={
                "kind": ContractKind.CDA, "vendor": cast.vendors["helix-manufacturing"], "title": BOREALIS_CDA_TITLE,
                "program": cast.program("borealis-bio", "BOR-01"), "value": D("0"), "currency": "EUR",
                "start": clock.day(-60), "end": clock.day(670),
            },
        )  # fmt: skip
    _signed_by_both(clock, cda, cast.bob, cast.dave, on=(-62, -61))


# (sponsor slug, contract title, story) in the order they were made, so the running numbers follow the dates
# (and an MSA comes before its work orders).
STORIES: list[tuple[str, str, Callable[[_Clock, _Cast], None]]] = [
    ("acme-pharma", HELIX_CDA_TITLE, _helix_cda),  # day -545
    ("acme-pharma", ORBITAL_MSA_TITLE, _orbital_msa),  # -420
    ("acme-pharma", HELIX_TERMINATED_TITLE, _helix_terminated),  # -410
    ("acme-pharma", SUPPLY_TITLE, _orbital_supply),  # -345
    ("acme-pharma", METHOD_TRANSFER_TITLE, _orbital_method_transfer),  # -225
    ("acme-pharma", HELIX_QUALITY_TITLE, _helix_quality),  # -200
    ("acme-pharma", STABILITY_TITLE, _orbital_stability),  # -10
    ("acme-pharma", HELIX_DRAFT_TITLE, _helix_draft),  # -6
    ("borealis-bio", BOREALIS_CDA_TITLE, _borealis_cda),  # -65
]


def seed(sponsors: dict, vendors: dict, users: list[User]) -> None:
    """Play the stories whose contract does not exist yet (keyed by title within the sponsor). ``users`` are
    the demo users (``accounts.demo.seed``). Runs before the sourcing demo, whose award is made today."""
    clock, cast = _Clock(), _Cast(sponsors, vendors, users)
    for sponsor_slug, title, story in STORIES:
        if not Contract.objects.filter(sponsor=sponsors[sponsor_slug], title=title).exists():
            story(clock, cast)


def seed_awarded(sponsors: dict, vendors: dict, users: list[User]) -> list[Contract]:
    """After the sourcing demo: sign the contract it awarded if that is still unsigned; return every demo
    contract."""
    if _northwind_pending(sponsors):
        _northwind_awarded(_Clock(), _Cast(sponsors, vendors, users))
    titles = [title for _, title, _ in STORIES] + [sourcing_demo.AWARDED_TITLE]
    return list(Contract.objects.filter(sponsor__in=list(sponsors.values()), title__in=titles))
