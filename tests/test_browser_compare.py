"""Comparing proposals in a real browser: alice opens the comparison of a closed RFP from its page, scores a
proposal (the averages with frank's sheet update in place), exports the XLSX; at desktop and phone width,
axe-checked by the ``page`` fixture. Vera (a viewer) reads the scores without a form."""

import io
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import User
from contracts import services
from contracts.models import RFPCriterion
from contracts.services.scoring import scores_save
from sponsors.models import Program
from tests.browser import MOBILE, screenshot, sign_in
from tests.factories import RFPFactory
from vendors.models import Vendor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "demo-password"
SHOTS = Path("/tmp/shots")
OFFERS = [  # vendor slug, its person, total, finish (days after the start), line items (description, price, pass-through)
    ("helix-manufacturing", "dave@helix.test", "200000.00", 150, [("Fill-finish, 3 batches", "170000.00", False),
                                                                 ("Glass vials (at cost)", "30000.00", True)]),
    ("orbital-cdmo", "erin@orbital.test", "180000.00", 200, []),
    ("northwind-clinical", "carol@northwind.test", "270000.00", 120, []),
]  # fmt: skip


@pytest.fixture
def closed_rfp(transactional_db):
    """Acme's RFP for ACM-101 (ceiling 250,000 EUR), three proposals, closed; frank has scored Helix."""
    call_command("seed_demo", vendors=10, verbosity=0)
    alice = User.objects.get(email="alice@acme.test")
    rfp = RFPFactory(
        program=Program.objects.get(code="ACM-101"), title="Fill-finish of ACM-101 clinical batches",
        budget_ceiling=Decimal("250000.00"), budget_currency="EUR", sealed=True,
    )  # fmt: skip
    for position, (name, weight) in enumerate([("Price", 40), ("Timeline", 20), ("Experience", 20), ("Quality", 20)]):
        RFPCriterion.objects.create(rfp=rfp, name=name, weight=weight, position=position)
    vendors = [Vendor.objects.get(slug=slug) for slug, *_ in OFFERS]
    services.rfp_invite(actor=alice, rfp=rfp, vendors=vendors)
    services.rfp_publish(actor=alice, rfp=rfp)
    proposals = {}
    for slug, email, total, finish, items in OFFERS:
        total = Decimal(total)
        half = (total / 2).quantize(Decimal("0.01"))
        proposal = services.proposal_save_draft(
            actor=User.objects.get(email=email), rfp=rfp,
            data={"total_price": total, "currency": "EUR", "timeline": f"Done {finish} days after kick-off."},
            milestones=[{"name": "Engineering run", "due_offset_days": 30, "amount": half},
                        {"name": "Batches released", "due_offset_days": finish, "amount": total - half}],
            line_items=[{"description": d, "quantity": Decimal("1"), "unit": "lot", "unit_price": Decimal(p),
                         "pass_through": pt} for d, p, pt in items],
        )  # fmt: skip
        services.proposal_submit(actor=User.objects.get(email=email), proposal=proposal)
        proposals[slug] = proposal
    services.rfp_close(actor=alice, rfp=rfp)
    criteria = list(rfp.criteria.all())
    frank = User.objects.get(email="frank@acme.test")
    scores_save(actor=frank, proposal=proposals["helix-manufacturing"],
                sheet={c.pk: (s, "") for c, s in zip(criteria, ("6", "7", "8", "9"), strict=True)})  # fmt: skip
    return rfp, criteria, proposals


def signed_in(page, email):
    page.set_default_timeout(10_000)
    page.context.clear_cookies()
    sign_in(page, email, PASSWORD)
    page.wait_for_url("**/dashboard/")


def keep(page, name):
    path = screenshot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / f"{name}.png")


def test_alice_compares_scores_and_exports(page, new_page, closed_rfp):
    rfp, criteria, proposals = closed_rfp
    helix = proposals["helix-manufacturing"]
    signed_in(page, "alice@acme.test")
    page.goto(f"/rfps/{rfp.pk}/")
    page.get_by_role("link", name="Compare proposals").click()
    page.wait_for_url(f"**/rfps/{rfp.pk}/compare/")
    table = page.get_by_test_id("comparison")
    expect(table.get_by_test_id("proposal-column")).to_have_count(3)
    price_row = page.get_by_test_id("row-price")
    expect(price_row).to_contain_text("Best price")  # Orbital, the cheapest, in words, not only in colour
    expect(price_row).to_contain_text("Over ceiling")  # Northwind's 270,000 EUR
    expect(page.get_by_test_id("row-finish")).to_contain_text("Earliest finish")
    first_average = page.get_by_test_id("row-criterion").first.get_by_test_id("score-cell").first
    expect(first_average).to_contain_text("6.00 average of 1 scorer")  # frank's sheet, Helix first by name

    sheet = page.locator(f"#sheet-{helix.pk}")
    for criterion, value in zip(criteria, ("8", "7.5", "8", "9.5"), strict=True):
        sheet.locator(f"#id_p{helix.pk}-score_{criterion.pk}").fill(value)
    sheet.locator(f"#id_p{helix.pk}-comment_{criterion.pk}").fill("Strong sterility assurance record.")
    sheet.get_by_role("button", name="Save my scores").click()
    expect(page.get_by_test_id("compare-status")).to_have_text("Your scores for Helix Manufacturing are saved.")
    expect(first_average).to_contain_text("7.00 average of 2 scorers")  # (6 + 8) / 2, swapped in place
    expect(first_average).to_contain_text("Yours: 8.0")
    # Helix: Price 7, Timeline 7.25, Experience 8, Quality 9.25 → (7×40 + 7.25×20 + 8×20 + 9.25×20) / 100 = 7.7
    expect(page.get_by_test_id("row-total").get_by_test_id("weighted-total")).to_have_text("7.70")
    assert page.url.endswith(f"/rfps/{rfp.pk}/compare/")  # htmx: no navigation

    # A score out of range: the row says why, nothing is saved (the pattern is the browser's first check).
    field = sheet.locator(f"#id_p{helix.pk}-score_{criteria[0].pk}")
    field.evaluate("(el) => el.removeAttribute('pattern')")
    field.fill("12")
    sheet.get_by_role("button", name="Save my scores").click()
    expect(page.locator(f"#id_p{helix.pk}-score_{criteria[0].pk}_error")).to_contain_text("from 0 to 10")
    expect(first_average).to_contain_text("7.00 average of 2 scorers")
    keep(page, "compare")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export to XLSX").click()
    download = download_info.value
    assert download.suggested_filename == f"rfp-{rfp.pk}-comparison.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    rows = {row[0].value: [c.value for c in row[1:]] for row in workbook["Comparison"].iter_rows() if row[0].value}
    assert rows["Aspect"] == ["Helix Manufacturing", "Northwind Clinical", "Orbital CDMO"]
    assert [float(v) for v in rows["Total price"]] == [200000.0, 270000.0, 180000.0]
    assert float(rows["Price (weight 40), average"][0]) == 7.0
    assert float(rows["Weighted total (0–10)"][0]) == 7.7
    assert {r[0].value for r in workbook["Scores"].iter_rows(min_row=2)} == {"Alice Archer", "Frank Foster"}

    # At phone width the table scrolls inside its region; the page does not (the fixture checks overflow).
    phone = new_page(MOBILE)
    signed_in(phone, "alice@acme.test")
    phone.goto(f"/rfps/{rfp.pk}/compare/")
    expect(phone.get_by_role("region", name="Proposals side by side")).to_be_visible()
    keep(phone, "compare-375")

    # Vera, a viewer: the averages, no score sheet.
    signed_in(page, "vera@acme.test")
    page.goto(f"/rfps/{rfp.pk}/compare/")
    expect(first_average).to_contain_text("7.00 average of 2 scorers")
    expect(page.get_by_test_id("score-sheet")).to_have_count(0)
    assert page.console_errors == [] and phone.console_errors == []
