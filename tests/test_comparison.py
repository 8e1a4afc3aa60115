"""The comparison of an RFP's proposals and the sponsor's score sheets: the scoring rules and their messages,
averages and weighted totals over several scorers, the currency rules (never summed, the ceiling compared in
its own currency only), sealed RFPs, who gets 404 or no form, the XLSX export, the API — and a page and an
API answer whose number of queries does not grow with the number of proposals."""

import io
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import HistoryEntry
from contracts import services
from contracts.comparison import rfp_comparison
from contracts.models import RFP, ProposalScore
from contracts.services._common import NOT_SPONSOR_MEMBER
from contracts.services.scoring import (
    SCORE_AWARDED,
    SCORE_CANCELLED,
    SCORE_CRITERION_OF_OTHER_RFP,
    SCORE_NOT_CLOSED,
    SCORE_RANGE,
    SCORE_REQUIRED,
    score_save,
    scores_save,
)
from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.services import TransitionError
from sponsors.models import VendorQualification
from tests.factories import (
    ContractFactory,
    ProposalFactory,
    ProposalLineItemFactory,
    ProposedMilestoneFactory,
    RFPCriterionFactory,
    RFPFactory,
    UserFactory,
    VendorFactory,
)
from vendors.models import Certification

pytestmark = pytest.mark.django_db

CEILING = Decimal("424242.00")
CEILING_TEXTS = ("424242", "424,242", "424 242")
CRITERIA = [("Price", 40), ("Timeline", 20), ("Quality", 40)]


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _propose(user, rfp, total, currency="EUR", finish_days=100, line_items=None, timeline="Six months."):
    total = Decimal(total)
    half = (total / 2).quantize(Decimal("0.01"))
    milestones = [
        {"name": "Kick-off", "due_offset_days": 0, "amount": half},
        {"name": "Final report", "due_offset_days": finish_days, "amount": total - half},
    ]
    proposal = services.proposal_save_draft(
        actor=user, rfp=rfp, milestones=milestones, line_items=line_items,
        data={"total_price": total, "currency": currency, "timeline": timeline},
    )  # fmt: skip
    services.proposal_submit(actor=user, proposal=proposal)
    proposal.refresh_from_db()
    return proposal


def closed_rfp(personas, offers, ceiling=CEILING, sealed=True, close=True):
    """Sponsor A's RFP with the criteria Price 40, Timeline 20, Quality 40, the ``offers`` (vendor, its user,
    total, currency, finish in days) submitted, then closed by sponsor A's admin."""
    p = personas
    rfp = RFPFactory(
        program=p.program_a, title="Compare QZC", sealed=sealed, budget_ceiling=ceiling,
        budget_currency="EUR" if ceiling is not None else "",
    )  # fmt: skip
    criteria = [RFPCriterionFactory(rfp=rfp, name=n, weight=w, position=i) for i, (n, w) in enumerate(CRITERIA)]
    services.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp, vendors=[offer[0] for offer in offers])
    services.rfp_publish(actor=p.sponsor_a_admin, rfp=rfp)
    proposals = [_propose(user, rfp, total, currency, days) for _, user, total, currency, days in offers]
    if close:
        services.rfp_close(actor=p.sponsor_a_admin, rfp=rfp)
    rfp.refresh_from_db()
    return SimpleNamespace(rfp=rfp, criteria=criteria, proposals=proposals)


@pytest.fixture
def member(personas):
    """A second scorer: a member of sponsor A."""
    return UserFactory(email="a-member@a.test", full_name="Mia Member", sponsor=personas.sponsor_a, role=Role.MEMBER)


@pytest.fixture
def closed(personas):
    """Vendor X offers 100,000 EUR finishing in 100 days, vendor Y 500,000 EUR (over the ceiling) in 60."""
    p = personas
    return closed_rfp(
        p,
        [
            (p.vendor_x, p.vendor_x_admin, "100000.00", "EUR", 100),
            (p.vendor_y, p.vendor_y_admin, "500000.00", "EUR", 60),
        ],
    )


def _refusal(exc_info) -> str:
    exc = exc_info.value
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


# --- The service's rules ----------------------------------------------------------------------------------


def test_scoring_refusals_each_with_its_message(personas, closed, member):
    p, (price, *_), (x, y) = personas, closed.criteria, closed.proposals
    for actor in (p.sponsor_a_viewer, p.sponsor_b_admin, p.vendor_x_admin):
        with pytest.raises(PermissionDenied) as refused:
            score_save(actor=actor, proposal=x, criterion=price, score="7")
        assert str(refused.value) == NOT_SPONSOR_MEMBER
    other = RFPCriterionFactory(rfp=RFPFactory(program=p.program_a), name="Elsewhere")
    with pytest.raises(ValidationError) as refused:
        score_save(actor=member, proposal=x, criterion=other, score="7")
    assert refused.value.message_dict == {"criterion": [SCORE_CRITERION_OF_OTHER_RFP]}
    for bad in ("10.5", "-1", "7.55", "abc", "NaN", "Infinity", 11, True, " "):
        with pytest.raises(ValidationError) as refused:
            score_save(actor=member, proposal=x, criterion=price, score=bad)
        assert refused.value.message_dict["score"] in ([SCORE_RANGE], [SCORE_REQUIRED]), bad
    with pytest.raises(ValidationError) as refused:
        score_save(actor=member, proposal=x, criterion=price, score=None)
    assert refused.value.message_dict == {"score": [SCORE_REQUIRED]}
    assert not ProposalScore.objects.exists()

    services.proposal_reject(actor=p.sponsor_a_admin, proposal=y, reason="Too dear.")
    with pytest.raises(TransitionError) as refused:
        score_save(actor=member, proposal=y, criterion=price, score="5")
    assert str(refused.value) == "Only a submitted or shortlisted proposal is scored; this one is rejected."

    # The edges are allowed: 0, 10, one decimal, a number rather than a string.
    for good, stored in (("0", "0.0"), ("10", "10.0"), ("9.9", "9.9"), (7.1, "7.1")):
        assert score_save(actor=member, proposal=x, criterion=price, score=good).score == Decimal(stored)
    assert ProposalScore.objects.count() == 1  # one row per scorer, changed in place


def test_scores_wait_for_closing_and_are_fixed_after_award_or_cancel(client, personas, member):
    p = personas
    open_rfp = closed_rfp(p, [(p.vendor_x, p.vendor_x_admin, "100000.00", "EUR", 100)], sealed=False, close=False)
    with pytest.raises(TransitionError) as refused:
        score_save(actor=member, proposal=open_rfp.proposals[0], criterion=open_rfp.criteria[0], score="6")
    assert str(refused.value) == SCORE_NOT_CLOSED
    services.rfp_close(actor=p.sponsor_a_admin, rfp=open_rfp.rfp)
    score_save(actor=member, proposal=open_rfp.proposals[0], criterion=open_rfp.criteria[0], score="6")
    for state, message in (("awarded", SCORE_AWARDED), ("cancelled", SCORE_CANCELLED)):
        RFP.objects.filter(pk=open_rfp.rfp.pk).update(state=state)
        with pytest.raises(TransitionError) as refused:
            score_save(actor=member, proposal=open_rfp.proposals[0], criterion=open_rfp.criteria[0], score="9")
        assert str(refused.value) == message
        html = login(client, member).get(reverse("rfp-compare", args=[open_rfp.rfp.pk])).content.decode()
        assert 'data-testid="score-sheet"' not in html and "6.00" in html
        assert ("scores are kept as they were" if state == "awarded" else "its proposals are not scored") in html
    assert ProposalScore.objects.get().score == Decimal("6.0")  # unchanged


def test_each_scorer_keeps_their_own_sheet_and_history_records_changes(personas, closed, member):
    p, price, x = personas, closed.criteria[0], closed.proposals[0]
    mine = score_save(actor=member, proposal=x, criterion=price, score="7.5", comment="Fair.")
    score_save(actor=p.sponsor_a_admin, proposal=x, criterion=price, score="9")
    again = score_save(actor=member, proposal=x, criterion=price, score="8", comment="Better on a second read.")
    assert again.pk == mine.pk and again.score == Decimal("8.0")
    assert sorted(ProposalScore.objects.values_list("scorer__email", "score")) == [
        ("a-admin@a.test", Decimal("9.0")), ("a-member@a.test", Decimal("8.0")),
    ]  # fmt: skip
    entries = HistoryEntry.objects.for_object(mine).order_by("pk")
    assert [e.actor_id for e in entries] == [member.pk, member.pk]
    assert len(entries) == 2  # created, then changed


def test_a_whole_sheet_is_saved_all_or_nothing(personas, closed, member):
    price, timeline, quality = closed.criteria
    x = closed.proposals[0]
    scores_save(actor=member, proposal=x, sheet={price.pk: ("6", ""), timeline.pk: ("7", "")})
    with pytest.raises(ValidationError) as refused:
        scores_save(
            actor=member, proposal=x,
            sheet={price.pk: ("9", "ok"), timeline.pk: ("12", ""), quality.pk: ("", "a comment but no score")},
        )  # fmt: skip
    assert refused.value.message_dict == {
        f"score_{timeline.pk}": [f"Timeline: {SCORE_RANGE}"],
        f"score_{quality.pk}": [f"Quality: {SCORE_REQUIRED}"],
    }
    # Nothing of the refused sheet was written: the first row still has its old value.
    assert dict(ProposalScore.objects.values_list("criterion__name", "score")) == {
        "Price": Decimal("6.0"), "Timeline": Decimal("7.0"),
    }  # fmt: skip
    # A comment too long for a row that comes after good rows: still nothing written.
    with pytest.raises(ValidationError) as refused:
        scores_save(actor=member, proposal=x, sheet={price.pk: ("1", ""), timeline.pk: ("2", "x" * 2001)})
    assert list(refused.value.message_dict) == [f"comment_{timeline.pk}"]
    assert ProposalScore.objects.get(criterion=price).score == Decimal("6.0")
    # A blank score clears one's own score of that criterion.
    saved, cleared = scores_save(actor=member, proposal=x, sheet={price.pk: ("", ""), quality.pk: ("8.5", "")})
    assert cleared == 1 and [s.criterion for s in saved] == [quality]
    assert dict(ProposalScore.objects.values_list("criterion__name", "score")) == {
        "Timeline": Decimal("7.0"), "Quality": Decimal("8.5"),
    }  # fmt: skip


# --- What the comparison computes ------------------------------------------------------------------------


def test_averages_and_weighted_totals_with_two_scorers(personas, closed, member):
    p = personas
    price, timeline, quality = closed.criteria
    x, y = closed.proposals
    sheets = {
        (member, x): {price.pk: ("8", ""), timeline.pk: ("6", ""), quality.pk: ("7", "")},
        (p.sponsor_a_admin, x): {price.pk: ("9", ""), timeline.pk: ("5", ""), quality.pk: ("8", "")},
        (member, y): {price.pk: ("4", ""), timeline.pk: ("9", "")},  # quality not scored: no total yet
    }
    for (scorer, proposal), sheet in sheets.items():
        scores_save(actor=scorer, proposal=proposal, sheet=sheet)

    data = rfp_comparison(closed.rfp, member)
    cx, cy = {c.id: c for c in data.proposals}[x.pk], {c.id: c for c in data.proposals}[y.pk]
    assert [(s.name, s.average, s.count, s.mine) for s in cx.scores] == [
        ("Price", Decimal("8.50"), 2, Decimal("8.0")),
        ("Timeline", Decimal("5.50"), 2, Decimal("6.0")),
        ("Quality", Decimal("7.50"), 2, Decimal("7.0")),
    ]
    # (8.5×40 + 5.5×20 + 7.5×40) / 100 = 7.5
    assert cx.weighted_total == Decimal("7.50") and cx.scored_criteria == 3
    assert cy.weighted_total is None and cy.scored_criteria == 2
    # Differences: X the best price (the cheaper) and price score, Y the earliest finish and timeline score.
    assert (cx.best_price, cy.best_price, cy.highest_price) == (True, False, True)
    assert (cx.best_finish, cy.best_finish) == (False, True)
    assert [s.best for s in cx.scores] == [True, False, False] and [s.best for s in cy.scores] == [False, True, False]
    assert not cx.best_total  # the only complete total: nothing to compare it with
    # The admin sees the same averages and their own scores.
    admin_view = {c.id: c for c in rfp_comparison(closed.rfp, p.sponsor_a_admin).proposals}[x.pk]
    assert [s.mine for s in admin_view.scores] == [Decimal("9.0"), Decimal("5.0"), Decimal("8.0")]
    assert [s.average for s in admin_view.scores] == [s.average for s in cx.scores]


def test_currencies_are_never_summed_and_the_ceiling_compares_in_its_currency(client, personas, member):
    p = personas
    vendor_z = VendorFactory(name="Vendor Z", slug="vendor-z")
    z_admin = UserFactory(email="z-admin@z.test", vendor=vendor_z, role=Role.ADMIN)
    mixed = closed_rfp(p, [
        (p.vendor_x, p.vendor_x_admin, "100000.00", "EUR", 100),
        (p.vendor_y, p.vendor_y_admin, "500000.00", "EUR", 90),
        (vendor_z, z_admin, "90000.00", "USD", 80),
    ])  # fmt: skip
    data = rfp_comparison(mixed.rfp, member)
    by_vendor = {c.vendor_name: c for c in data.proposals}
    assert data.mixed_currencies and data.currencies == ["EUR", "USD"] and data.common_currency == ""
    assert not any(c.best_price or c.highest_price for c in data.proposals)  # never compared across currencies
    assert {n: c.ceiling_check for n, c in by_vendor.items()} == {
        "Vendor X": "within", "Vendor Y": "over", "Vendor Z": "not_comparable",
    }  # fmt: skip
    html = login(client, member).get(reverse("rfp-compare", args=[mixed.rfp.pk])).content.decode()
    assert "Prices are in different currencies (EUR, USD)" in html
    assert "USD\u00a090,000.00" in html and "EUR\u00a0100,000.00" in html
    for total in ("190,000", "600,000", "690,000"):  # no sum in any currency, nor across them
        assert total not in html
    assert "Over ceiling" in html and "Ceiling in another currency: not compared" in html
    assert "Best price" not in html

    # No ceiling at all: no ceiling marks; one currency: the cheapest and the dearest are marked.
    same = closed_rfp(p, [(p.vendor_x, p.vendor_x_admin, "100000.00", "EUR", 100),
                          (p.vendor_y, p.vendor_y_admin, "200000.00", "EUR", 90)], ceiling=None)  # fmt: skip
    data = rfp_comparison(same.rfp, member)
    assert data.common_currency == "EUR" and {c.ceiling_check for c in data.proposals} == {""}
    assert [(c.vendor_name, c.best_price, c.highest_price) for c in data.proposals] == [
        ("Vendor X", True, False), ("Vendor Y", False, True),
    ]  # fmt: skip


def test_certificates_qualification_and_track_record(personas, closed, member):
    p = personas
    today = timezone.localdate()
    Certification.objects.create(vendor=p.vendor_x, type="gmp", authority="ema", issued_on=date(2020, 1, 1),
                                 expires_on=today + timedelta(days=30))  # fmt: skip
    Certification.objects.create(vendor=p.vendor_x, type="iso9001", authority="national", issued_on=date(2020, 1, 1),
                                 expires_on=today - timedelta(days=1))  # fmt: skip
    Certification.objects.create(vendor=p.vendor_x, type="gcp", authority="mhra", issued_on=date(2020, 1, 1))
    VendorQualification.objects.create(sponsor=p.sponsor_a, vendor=p.vendor_x, status="conditionally_approved")
    VendorQualification.objects.create(sponsor=p.sponsor_b, vendor=p.vendor_y, status="approved")  # B's, not A's
    for state in ("active", "active", "completed"):
        ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, state=state)
    ContractFactory(sponsor=p.sponsor_b, vendor=p.vendor_x, state="active")  # with another sponsor: not counted
    earlier = ProposalFactory.complete(rfp=RFPFactory(program=p.program_a), vendor=p.vendor_x)
    type(earlier).objects.filter(pk=earlier.pk).update(state="accepted", submitted_at=timezone.now())

    data = {c.vendor_name: c for c in rfp_comparison(closed.rfp, member).proposals}
    x, y = data["Vendor X"], data["Vendor Y"]
    assert sorted((c.type, c.status) for c in x.certificates) == [
        ("gcp", "valid"), ("gmp", "expiring"), ("iso9001", "expired"),
    ]  # fmt: skip
    assert (x.qualification_status, x.qualification_label) == ("conditionally_approved", "Conditionally approved")
    assert (y.qualification_status, y.qualification_label) == ("", "Not qualified (no record)")
    assert [(c.state, c.count) for c in x.contracts] == [("active", 2), ("completed", 1)]
    assert x.past_awards == 1 and y.past_awards == 0 and y.contracts == []
    assert [(m.name, m.due_offset_days) for m in x.milestones] == [("Kick-off", 0), ("Final report", 100)]
    assert x.finish_date == closed.rfp.desired_start + timedelta(days=100)


# --- Pages ------------------------------------------------------------------------------------------------


def test_the_page_shows_proposals_side_by_side_and_saves_a_score_sheet(client, personas, closed, member):
    price, timeline, quality = closed.criteria
    x, y = closed.proposals
    login(client, member)
    detail = client.get(reverse("rfp-detail", args=[closed.rfp.pk])).content.decode()
    assert reverse("rfp-compare", args=[closed.rfp.pk]) in detail  # "Compare proposals" from the RFP page
    url = reverse("rfp-compare", args=[closed.rfp.pk])
    html = client.get(url).content.decode()
    assert html.index("Vendor X") < html.index("Vendor Y")
    assert "EUR\u00a0100,000.00" in html and "EUR\u00a0500,000.00" in html
    assert "Best price" in html and "Over ceiling" in html and "Earliest finish" in html
    assert 'role="region"' in html and html.count('data-testid="score-sheet"') == 2
    assert reverse("rfp-compare-export", args=[closed.rfp.pk]) in html

    prefix = f"p{x.pk}-"
    response = client.post(reverse("rfp-score", args=[x.pk]), {
        f"{prefix}score_{price.pk}": "8", f"{prefix}comment_{price.pk}": "Cheapest.",
        f"{prefix}score_{timeline.pk}": "6.5", f"{prefix}score_{quality.pk}": "",
    })  # fmt: skip
    assert response.status_code == 302 and response.url == f"{url}#sheet-{x.pk}"
    assert dict(ProposalScore.objects.filter(scorer=member).values_list("criterion__name", "score")) == {
        "Price": Decimal("8.0"), "Timeline": Decimal("6.5"),
    }  # fmt: skip
    page = client.get(url).content.decode()
    assert "Your scores for Vendor X are saved." in page and "Yours: 8.0" in page and "1 of 3 criteria" not in page

    # A bad score: the page again with the message at the row, nothing written.
    bad = client.post(reverse("rfp-score", args=[x.pk]), {f"{prefix}score_{price.pk}": "11"})
    assert bad.status_code == 200
    assert f"Price: {SCORE_RANGE}" in bad.content.decode()
    assert ProposalScore.objects.get(scorer=member, criterion=price).score == Decimal("8.0")

    # With htmx: the comparison comes back with the new average, no redirect.
    swapped = client.post(
        reverse("rfp-score", args=[y.pk]), {f"p{y.pk}-score_{price.pk}": "3"}, headers={"HX-Request": "true"}
    )
    assert swapped.status_code == 200
    assert "Your scores for Vendor Y are saved." in swapped.content.decode()
    assert ProposalScore.objects.get(scorer=member, proposal=y).score == Decimal("3.0")


def test_a_viewer_sees_the_scores_but_no_form(client, personas, closed, member):
    x = closed.proposals[0]
    score_save(actor=member, proposal=x, criterion=closed.criteria[0], score="7.5")
    login(client, personas.sponsor_a_viewer)
    html = client.get(reverse("rfp-compare", args=[closed.rfp.pk])).content.decode()
    assert "7.50" in html and "average of 1 scorer" in html
    assert 'data-testid="score-sheet"' not in html and "Save my scores" not in html
    refused = client.post(reverse("rfp-score", args=[x.pk]), {f"p{x.pk}-score_{closed.criteria[0].pk}": "1"})
    assert refused.status_code == 403 and VIEWER_READ_ONLY in refused.content.decode()
    assert ProposalScore.objects.get().score == Decimal("7.5")


def test_sealed_rfp_shows_nothing_before_it_closes(client, api_client_for, world):
    rfp, admin = world["rfp_a"], world["sponsor_a_admin"]
    html = login(client, admin).get(reverse("rfp-compare", args=[rfp.pk])).content.decode()
    assert "Sealed until" in html and 'data-testid="sealed-note"' in html
    assert "Vendor X" not in html and "100,000" not in html and 'data-testid="comparison"' not in html
    export = client.get(reverse("rfp-compare-export", args=[rfp.pk]))
    cells = _cells(openpyxl.load_workbook(io.BytesIO(export.content))["Comparison"])
    assert cells[0].startswith("Sealed until") and not any("Vendor X" in c or "100000" in c for c in cells)
    body = api_client_for(admin).get(f"/api/v1/rfps/{rfp.pk}/comparison/").json()
    assert body["sealed_until"] is not None and body["proposals"] == []
    # The sealed proposal is out of reach for scoring, too.
    assert client.post(reverse("rfp-score", args=[world["proposal_a_x"].pk])).status_code == 404
    assert not ProposalScore.objects.exists()


def test_vendors_and_other_sponsors_get_404_for_the_comparison(client, api_client_for, personas, closed):
    x = closed.proposals[0]
    rfp = closed.rfp
    for user in (personas.vendor_x_admin, personas.vendor_x_viewer, personas.vendor_y_admin, personas.sponsor_b_admin):
        login(client, user)
        assert client.get(reverse("rfp-detail", args=[rfp.pk])).status_code == (
            200 if user.vendor_id else 404
        )  # the invited vendors read the RFP itself
        for url in (reverse("rfp-compare", args=[rfp.pk]), reverse("rfp-compare-export", args=[rfp.pk])):
            response = client.get(url)
            assert response.status_code == 404 and b"500,000" not in response.content, (user, url)
        if user.can_act:
            response = client.post(reverse("rfp-score", args=[x.pk]), {f"p{x.pk}-score_{closed.criteria[0].pk}": "1"})
            assert response.status_code == 404
        api = api_client_for(user)
        assert api.get(f"/api/v1/rfps/{rfp.pk}/comparison/").status_code == 404
        body = {"proposal": x.pk, "criterion": closed.criteria[0].pk, "score": "1"}
        assert api.post(f"/api/v1/rfps/{rfp.pk}/scores/", body, format="json").status_code in (403, 404)
    assert not ProposalScore.objects.exists()


# --- The export -------------------------------------------------------------------------------------------


def _cells(sheet) -> list[str]:
    return [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]


def test_the_export_has_the_page_content_and_not_the_ceiling(client, personas, closed, member):
    x, y = closed.proposals
    for scorer, proposal, values in ((member, x, ("8", "6", "7")), (personas.sponsor_a_admin, x, ("9", "5", "8")),
                                     (member, y, ("4", "9", "6"))):  # fmt: skip
        sheet = {c.pk: (v, f"{scorer.email} on {c.name}") for c, v in zip(closed.criteria, values, strict=True)}
        scores_save(actor=scorer, proposal=proposal, sheet=sheet)
    login(client, member)
    response = client.get(reverse("rfp-compare-export", args=[closed.rfp.pk]))
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == f'attachment; filename="rfp-{closed.rfp.pk}-comparison.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Comparison", "Scores"]
    sheet = workbook["Comparison"]
    rows = {row[0].value: row[1:] for row in sheet.iter_rows() if row[0].value}
    assert [c.value for c in rows["Aspect"]] == ["Vendor X", "Vendor Y"]
    prices = rows["Total price"]
    assert [c.value for c in prices] == [Decimal("100000"), Decimal("500000")] or [c.value for c in prices] == [
        100000, 500000,
    ]  # fmt: skip
    assert prices[0].number_format == '#,##0.00" EUR · best price"' and prices[0].font.bold
    assert prices[1].number_format == '#,##0.00" EUR"' and not prices[1].font.bold
    assert [c.value for c in rows["Budget ceiling check"]] == ["Within ceiling", "Over ceiling"]
    averages = rows["Price (weight 40), average"]
    assert [float(c.value) for c in averages] == [8.5, 4.0]
    assert "highest" in averages[0].number_format and averages[0].fill.fgColor.rgb.endswith("D1E7DD")
    # (8.5×40 + 5.5×20 + 7.5×40) / 100 = 7.5 and (4×40 + 9×20 + 6×40) / 100 = 5.8
    assert [float(c.value) for c in rows["Weighted total (0–10)"]] == [7.5, 5.8]
    page = client.get(reverse("rfp-compare", args=[closed.rfp.pk])).content.decode()
    for text in ("8.50", "4.00", "7.50", "5.80", "Vendor X", "Vendor Y", "EUR\u00a0100,000.00"):
        assert text in page
    everything = _cells(sheet) + _cells(workbook["Scores"])
    assert not any(ceiling in cell for cell in everything for ceiling in CEILING_TEXTS)
    scores = [[c.value for c in row] for row in workbook["Scores"].iter_rows(min_row=2)]
    assert len(scores) == 9
    assert ["Mia Member", "Vendor Y", "Timeline", 20, Decimal("9")] in [r[:5] for r in scores]
    assert {r[5] for r in scores} >= {"a-member@a.test on Price", "a-admin@a.test on Quality"}


# --- API --------------------------------------------------------------------------------------------------


def test_api_comparison_and_scores(api_client_for, personas, closed, member):
    price = closed.criteria[0]
    x = closed.proposals[0]
    api = api_client_for(member)
    url = f"/api/v1/rfps/{closed.rfp.pk}/scores/"
    created = api.post(
        url, {"proposal": x.pk, "criterion": price.pk, "score": "7.5", "comment": "Fair."}, format="json"
    )
    assert created.status_code == 201 and created.json()["score"] == "7.5"
    changed = api.post(url, {"proposal": x.pk, "criterion": price.pk, "score": "8"}, format="json")
    assert (
        changed.status_code == 200 and changed.json()["id"] == created.json()["id"] and changed.json()["score"] == "8.0"
    )
    bad = api.post(url, {"proposal": x.pk, "criterion": price.pk, "score": "7.55"}, format="json")
    assert bad.status_code == 400 and bad.json() == {"score": [SCORE_RANGE]}
    other = RFPCriterionFactory(rfp=RFPFactory(program=personas.program_a), name="Elsewhere")
    bad = api.post(url, {"proposal": x.pk, "criterion": other.pk, "score": "5"}, format="json")
    assert bad.status_code == 400 and bad.json() == {"criterion": [SCORE_CRITERION_OF_OTHER_RFP]}
    viewer = api_client_for(personas.sponsor_a_viewer).post(url, {"proposal": x.pk, "criterion": price.pk,
                                                                  "score": "1"}, format="json")  # fmt: skip
    assert viewer.status_code == 403 and viewer.json()["detail"] == VIEWER_READ_ONLY

    body = api.get(f"/api/v1/rfps/{closed.rfp.pk}/comparison/").json()
    assert body["sealed_until"] is None and body["common_currency"] == "EUR" and body["scorable"] is True
    columns = {c["vendor_name"]: c for c in body["proposals"]}
    assert columns["Vendor X"]["total_price"] == "100000.00" and columns["Vendor X"]["currency"] == "EUR"
    assert columns["Vendor X"]["best_price"] is True and columns["Vendor Y"]["ceiling_check"] == "over"
    assert columns["Vendor X"]["scores"][0] == {
        "criterion": price.pk, "name": "Price", "weight": 40, "average": "8.00", "count": 1, "mine": "8.0",
        "my_comment": "", "best": False,
    }  # fmt: skip
    assert [m["amount"] for m in columns["Vendor X"]["milestones"]] == ["50000.00", "50000.00"]
    assert "budget_ceiling" not in body and not any(t in str(body) for t in CEILING_TEXTS)

    # 409 once awarded (the scores stay as they were).
    RFP.objects.filter(pk=closed.rfp.pk).update(state="awarded")
    late = api.post(url, {"proposal": x.pk, "criterion": price.pk, "score": "2"}, format="json")
    assert late.status_code == 409 and late.json()["detail"] == SCORE_AWARDED
    assert ProposalScore.objects.get().score == Decimal("8.0")


def test_api_refuses_a_proposal_of_another_rfp(api_client_for, personas, closed, member):
    p = personas
    elsewhere = closed_rfp(p, [(p.vendor_x, p.vendor_x_admin, "1000.00", "EUR", 10)], sealed=False)
    body = {"proposal": elsewhere.proposals[0].pk, "criterion": closed.criteria[0].pk, "score": "5"}
    response = api_client_for(member).post(f"/api/v1/rfps/{closed.rfp.pk}/scores/", body, format="json")
    assert response.status_code == 400 and response.json() == {"proposal": ["This proposal was not made for this RFP."]}
    assert not ProposalScore.objects.exists()


# --- Speed: the same number of queries with 2 and with 20 proposals ------------------------------------------


def bulk_closed_rfp(personas, scorers, n):
    """A closed RFP of sponsor A with ``n`` submitted proposals, each with 3 milestones, 2 line items, a score
    by each scorer per criterion; each vendor with 3 certificates, a qualification and 2 contracts."""
    p = personas
    now = timezone.now()
    rfp = RFPFactory(program=p.program_a, budget_ceiling=CEILING, budget_currency="EUR", state="closed",
                     published_at=now, closed_at=now)  # fmt: skip
    criteria = [RFPCriterionFactory(rfp=rfp, name=n_, weight=w, position=i) for i, (n_, w) in enumerate(CRITERIA)]
    for i in range(n):
        vendor = VendorFactory()
        for kind, expires in (("gmp", 30), ("gcp", 400), ("iso9001", -5)):
            Certification.objects.create(vendor=vendor, type=kind, authority="ema", issued_on=date(2020, 1, 1),
                                         expires_on=timezone.localdate() + timedelta(days=expires))  # fmt: skip
        VendorQualification.objects.create(sponsor=p.sponsor_a, vendor=vendor, status="approved")
        ContractFactory(sponsor=p.sponsor_a, vendor=vendor, state="active")
        ContractFactory(sponsor=p.sponsor_a, vendor=vendor, state="completed")
        proposal = ProposalFactory.complete(
            rfp=rfp, vendor=vendor, state="submitted", submitted_at=now, total_price=Decimal(100000 + i)
        )
        ProposedMilestoneFactory(proposal=proposal, amount=Decimal("0.00"))
        ProposalLineItemFactory(proposal=proposal)
        ProposalLineItemFactory(proposal=proposal, pass_through=True)
        for scorer in scorers:
            for criterion in criteria:
                ProposalScore.objects.create(
                    proposal=proposal, criterion=criterion, scorer=scorer, score=Decimal(i % 11)
                )
    return rfp


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200
    return len(queries)


def test_page_api_and_export_run_the_same_queries_for_2_and_20_proposals(client, api_client_for, personas, member):
    scorers = [member, personas.sponsor_a_admin]
    small, large = bulk_closed_rfp(personas, scorers, 2), bulk_closed_rfp(personas, scorers, 20)
    login(client, member)
    api = api_client_for(member)
    for name, call in (
        ("page", lambda rfp: client.get(reverse("rfp-compare", args=[rfp.pk]))),
        ("export", lambda rfp: client.get(reverse("rfp-compare-export", args=[rfp.pk]))),
        ("api", lambda rfp: api.get(f"/api/v1/rfps/{rfp.pk}/comparison/")),
    ):
        call(small)  # warm caches (content types, sessions) so both measured calls start alike
        counts = (_queries(lambda c=call: c(small)), _queries(lambda c=call: c(large)))
        assert counts[0] == counts[1], (name, counts)
    html = client.get(reverse("rfp-compare", args=[large.pk])).content.decode()
    assert html.count('data-testid="proposal-column"') == 20 and html.count('data-testid="score-sheet"') == 20
    assert len(api.get(f"/api/v1/rfps/{large.pk}/comparison/").json()["proposals"]) == 20
