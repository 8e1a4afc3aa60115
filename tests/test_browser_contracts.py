"""Contract execution in a real browser, the journey of issue 9: the sponsor's admin (alice) and the vendor's
admin (erin) sign a work order (the password asked, the meaning recorded), erin starts and submits a milestone
with an evidence file, alice accepts it, erin invoices it, alice approves the invoice; erin proposes a change
order adding a milestone and value, alice approves it with her signature. The budget figures, the burn chart
and the milestone timeline move accordingly; every step is in the history. Axe checks every page (the
``page`` fixture); the contract page is photographed at desktop and phone width."""

import re
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from contracts.models import Contract, Invoice
from contracts.services import contracts as ct
from contracts.services import signatures as sig
from tests.browser import MOBILE, screenshot, sign_in
from tests.conftest import PASSWORD
from tests.factories import ProgramFactory, SponsorFactory, UserFactory, VendorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path("/tmp/shots")


@pytest.fixture
def parties(transactional_db):
    """Acme (alice, admin) and Orbital CDMO (erin, admin), an active MSA between them and a work order under
    it sent for signature: two milestones of 40,000 and 60,000 EUR, one transferred activity."""
    acme = SponsorFactory(name="Acme Pharma", slug="acme-pharma")
    orbital = VendorFactory(name="Orbital CDMO", slug="orbital-cdmo", kind="cdmo")
    alice = UserFactory(email="alice@acme.test", full_name="Alice Archer", sponsor=acme, role=Role.ADMIN)
    erin = UserFactory(email="erin@orbital.test", full_name="Erin Eames", vendor=orbital, role=Role.ADMIN)
    program = ProgramFactory(sponsor=acme, code="ACM-101", name="Acmezumab")
    today = timezone.localdate()
    start, end = today - timedelta(days=60), today + timedelta(days=300)
    msa = ct.contract_create(actor=alice, data={
        "kind": "msa", "vendor": orbital, "program": program, "title": "Master services agreement",
        "value": Decimal("0.00"), "currency": "EUR", "start": start, "end": end + timedelta(days=365)})  # fmt: skip
    for user in (alice, erin):
        request = RequestFactory().post("/", REMOTE_ADDR="127.0.0.1")
        sig.contract_sign(actor=user, contract=msa, password=PASSWORD, request=request)
    work_order = ct.contract_create(
        actor=alice,
        data={"kind": "work-order", "vendor": orbital, "program": program, "parent": msa,
              "title": "Drug product stability study", "value": Decimal("100000.00"), "currency": "EUR",
              "start": start, "end": end},
        milestones=[
            {"name": "Stability protocol", "due_date": today + timedelta(days=10), "amount": Decimal("40000.00")},
            {"name": "Twelve-month report", "due_date": today + timedelta(days=250), "amount": Decimal("60000.00")},
        ],
        activities=[{"activity": "qc_testing", "detail": "Stability pulls and assays at 25 °C / 60 % RH."}],
    )  # fmt: skip
    ct.contract_send_for_signature(actor=alice, contract=work_order)
    return {"alice": alice, "erin": erin, "work_order": work_order}


def signed_in(page, email):
    page.set_default_timeout(10_000)
    if not getattr(page, "accepts_dialogs", False):
        page.on("dialog", lambda dialog: dialog.accept())
        page.accepts_dialogs = True
    page.context.clear_cookies()
    sign_in(page, email, PASSWORD)
    page.wait_for_url("**/dashboard/")


def open_contract(page, number):
    page.get_by_role("link", name="Contracts", exact=True).click()
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)


def flash(page):
    return page.locator(".alert").first


def figure(page, testid):
    return page.get_by_test_id("budget-figures").get_by_test_id(testid)


def shot(page, name):
    path = screenshot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / f"{name}.png")


def test_sign_deliver_invoice_and_amend_a_work_order(page, new_page, parties, tmp_path):
    work_order = parties["work_order"]
    number = work_order.number

    # 1. Alice signs: the form names her, asks her password and says what her signature means.
    signed_in(page, "alice@acme.test")
    open_contract(page, number)
    form = page.get_by_test_id("sign-form")
    expect(form).to_contain_text("Alice Archer")
    expect(form.get_by_test_id("sign-meaning")).to_have_text("Approved as sponsor")
    expect(page.get_by_test_id("activities-note")).to_contain_text("Whatever is not listed here stays with the sponsor")
    form.get_by_label("Your password").fill("not-her-password")
    form.get_by_role("button", name="Sign the contract").click()
    expect(flash(page)).to_contain_text(sig.WRONG_PASSWORD)
    page.get_by_test_id("sign-form").get_by_label("Your password").fill(PASSWORD)
    page.get_by_test_id("sign-form").get_by_role("button", name="Sign the contract").click()
    expect(page.get_by_test_id("signature")).to_contain_text("Alice Archer")
    expect(page.get_by_test_id("signature")).to_contain_text("Approved as sponsor")
    expect(page.get_by_test_id("awaiting")).to_contain_text("vendor")

    # 2. Erin signs for Orbital: both have signed, the work order is active.
    signed_in(page, "erin@orbital.test")
    open_contract(page, number)
    expect(page.get_by_test_id("sign-meaning")).to_have_text("Accepted as vendor")
    page.get_by_test_id("sign-form").get_by_label("Your password").fill(PASSWORD)
    page.get_by_test_id("sign-form").get_by_role("button", name="Sign the contract").click()
    expect(flash(page)).to_contain_text("the contract is now active")
    expect(page.get_by_test_id("contract-state")).to_have_text("Active")
    expect(page.get_by_test_id("signature")).to_have_count(2)
    expect(page.get_by_test_id("signature-matches")).to_have_count(2)

    # 3. Erin starts the first milestone, attaches the protocol on its page and submits it.
    row = page.get_by_test_id("milestone-row").filter(has_text="Stability protocol")
    row.get_by_role("button", name="Start Stability protocol").click()
    expect(flash(page)).to_contain_text("Milestone started")
    page.get_by_role("link", name="Stability protocol").click()
    evidence = tmp_path / "stability-protocol.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
    upload = page.get_by_test_id("document-upload")
    upload.get_by_label("Title").fill("Stability protocol v1")
    upload.get_by_label("File").set_input_files(str(evidence))
    upload.get_by_role("button", name="Upload").click()
    expect(flash(page)).to_contain_text("uploaded as version 1")
    page.goto(reverse_milestone(work_order, "Stability protocol"))
    expect(page.get_by_test_id("document-row")).to_contain_text("stability-protocol.pdf")
    page.locator("summary", has_text="Submit").click()
    page.get_by_label("Comment for the sponsor").fill("Protocol attached, approved by our QA.")
    page.get_by_role("button", name="Submit for acceptance").click()
    expect(flash(page)).to_contain_text("Milestone submitted")

    # 4. Alice accepts it with a comment.
    signed_in(page, "alice@acme.test")
    open_contract(page, number)
    row = page.get_by_test_id("milestone-row").filter(has_text="Stability protocol")
    expect(row.get_by_test_id("milestone-state")).to_have_text("Submitted")
    row.locator("summary", has_text="Accept").click()
    row.get_by_label("Comment (optional, the vendor sees it)").fill("Agreed, thank you.")
    row.get_by_role("button", name="Accept milestone").click()
    expect(flash(page)).to_contain_text("Milestone accepted")
    expect(page.get_by_test_id("milestone-row").filter(has_text="Stability protocol")).to_contain_text("Accepted")
    expect(figure(page, "invoiced")).to_contain_text("0.00")
    burn_before = page.get_by_test_id("burn-chart").inner_html()

    # 5. Erin invoices the accepted milestone.
    signed_in(page, "erin@orbital.test")
    open_contract(page, number)
    page.locator("summary", has_text="Submit an invoice").click()
    invoice_form = page.get_by_test_id("invoice-submit")
    invoice_form.get_by_label("Invoice number").fill("ORB-2024-017")
    invoice_form.get_by_label("Amount").fill("40000")
    invoice_form.get_by_label("For milestone").select_option(label="Stability protocol")
    shot(page, "contract-invoice-form")
    invoice_form.get_by_role("button", name="Submit invoice").click()
    expect(flash(page)).to_contain_text("Invoice submitted")
    expect(page.get_by_test_id("invoice-row")).to_contain_text("ORB-2024-017")
    expect(page.get_by_test_id("invoice-actions")).to_have_count(0)  # a vendor never approves its own invoice

    # 6. Alice approves it: 40 % of the budget is invoiced, and the burn line rises.
    signed_in(page, "alice@acme.test")
    open_contract(page, number)
    invoice_row = page.get_by_test_id("invoice-row").filter(has_text="ORB-2024-017")
    invoice_row.locator("summary", has_text="Approve").click()
    invoice_row.get_by_role("button", name="Approve invoice").click()
    expect(flash(page)).to_contain_text("Invoice ORB-2024-017 approved")
    expect(figure(page, "invoiced")).to_contain_text("40,000.00")
    expect(figure(page, "remaining")).to_contain_text("60,000.00")
    expect(figure(page, "burn")).to_contain_text("40.0 %")
    assert page.get_by_test_id("burn-chart").inner_html() != burn_before
    expect(page.locator("#burn-d")).to_contain_text("40 % of the budget of 100,000.00 EUR invoiced")

    # 7. Erin proposes a change order: one more milestone and 20,000 EUR more.
    signed_in(page, "erin@orbital.test")
    open_contract(page, number)
    page.locator("summary", has_text="Propose a change order").click()
    proposal = page.get_by_test_id("change-order-propose")
    proposal.get_by_label("Reason").fill("Add an 18-month pull requested by the agency.")
    proposal.get_by_label("Change of value").fill("20000")
    item = proposal.get_by_test_id("change-order-item-row").first
    item.get_by_label("What").select_option("add")
    item.get_by_label("Name").fill("Eighteen-month report")
    item.get_by_label("Due date").fill((timezone.localdate() + timedelta(days=290)).isoformat())
    item.get_by_label("Amount").fill("20000")
    shot(page, "contract-change-order-form")
    proposal.get_by_role("button", name="Propose change order").click()
    expect(flash(page)).to_contain_text("Change order proposed")
    change_order = page.get_by_test_id("change-order").first
    expect(change_order).to_contain_text("CO-1")
    expect(change_order.get_by_test_id("change-order-state")).to_have_text("Proposed")
    expect(change_order.get_by_role("button", name="Withdraw CO-1")).to_be_visible()
    expect(change_order.locator("summary", has_text="Approve and sign")).to_have_count(0)  # not her own

    # 8. Alice approves it with her signature: the budget, the amendment history and the timeline follow.
    signed_in(page, "alice@acme.test")
    open_contract(page, number)
    timeline_before = page.get_by_test_id("timeline-chart").inner_html()
    change_order = page.get_by_test_id("change-order").first
    change_order.locator("summary", has_text="Approve and sign").click()
    change_order.get_by_label("Your password").fill(PASSWORD)
    change_order.get_by_role("button", name="Approve CO-1").click()
    expect(flash(page)).to_contain_text("CO-1 approved and signed")
    expect(figure(page, "budget")).to_contain_text("120,000.00")
    expect(figure(page, "burn")).to_contain_text("33.3 %")
    expect(page.get_by_test_id("change-order-signature")).to_contain_text("Alice Archer")
    amendments = page.get_by_test_id("amendment")
    expect(amendments).to_have_count(3)  # original, CO-1, current
    expect(amendments.nth(1)).to_contain_text("100,000.00 → ")
    expect(amendments.nth(2)).to_contain_text("120,000.00")
    expect(page.get_by_test_id("milestone-row")).to_have_count(3)
    expect(page.get_by_test_id("milestone-row").filter(has_text="Eighteen-month report")).to_be_visible()
    assert "Eighteen-month report" in page.get_by_test_id("timeline-chart").inner_html()
    assert page.get_by_test_id("timeline-chart").inner_html() != timeline_before
    # The contract's own signatures covered the terms before CO-1: the page says they no longer match.
    expect(page.get_by_test_id("signature-differs")).to_have_count(2)

    # 9. The history tells who did what and when.
    history = page.locator("#history")
    for text in ("Alice Archer", "Erin Eames", "Electronic signature", "Change order CO-1"):
        expect(history).to_contain_text(text)
    contract = Contract.objects.get(pk=work_order.pk)
    assert (contract.budget, contract.invoiced, contract.state) == (Decimal("120000.00"), Decimal("40000.00"), "active")
    assert Invoice.objects.get(number="ORB-2024-017").state == "approved"

    # The page at desktop and phone width, photographed (and audited by axe at both widths).
    shot(page, "contract")
    phone = new_page(MOBILE)
    signed_in(phone, "alice@acme.test")
    phone.goto(contract.get_absolute_url())
    expect(phone.get_by_test_id("budget-figures")).to_be_visible()
    shot(phone, "contract-375")
    phone.goto("/contracts/")
    expect(phone.get_by_test_id("contract-row")).to_have_count(2)
    shot(phone, "contract-list-375")
    page.goto("/contracts/")
    expect(page.get_by_test_id("contract-row").filter(has_text=number)).to_contain_text(re.compile(r"33\.3 %"))
    shot(page, "contract-list")


def reverse_milestone(contract, name) -> str:
    from django.urls import reverse

    return reverse("milestone-detail", args=[contract.milestones.get(name=name).pk])
