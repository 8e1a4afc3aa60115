"""In Chromium: the vendor attaches its invoice PDF and backup for its change order on the contract page, the
sponsor reads and downloads them; every page is audited by axe (the ``new_page`` fixture), at desktop and
phone width."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.utils import timezone
from playwright.sync_api import expect

from contracts.services import change_orders as co
from contracts.services import invoices as inv
from contracts.services import milestones as ms
from contracts.services import signatures as sig
from tests.browser import MOBILE
from tests.conftest import PASSWORD
from tests.test_browser_contracts import open_contract, parties, signed_in  # noqa: F401 (parties: a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def invoiced(parties):  # noqa: F811
    """The work order signed, its first milestone accepted and invoiced by Erin, and Erin's change order."""
    alice, erin, contract = parties["alice"], parties["erin"], parties["work_order"]
    for user in (alice, erin):
        sig.contract_sign(actor=user, contract=contract, password=PASSWORD,
                          request=RequestFactory().post("/", REMOTE_ADDR="127.0.0.1"))  # fmt: skip
    milestone = contract.milestones.get(name="Stability protocol")
    ms.milestone_start(actor=erin, milestone=milestone)
    ms.milestone_submit(actor=erin, milestone=milestone)
    ms.milestone_accept(actor=alice, milestone=milestone)
    inv.invoice_submit(actor=erin, contract=contract, number="ORB-2024-017", issued_on=timezone.localdate(),
                       amount=milestone.amount, currency="EUR", milestone=milestone)  # fmt: skip
    co.change_order_propose(actor=erin, contract=contract, reason="Extra pull point", value_delta=Decimal("5000"))
    contract.refresh_from_db()
    return parties


def test_the_vendor_attaches_its_invoice_pdf_and_the_sponsor_downloads_it(new_page, invoiced, tmp_path):
    contract = invoiced["work_order"]
    pdf = tmp_path / "ORB-2024-017.pdf"
    pdf.write_bytes(PDF)
    page = new_page()
    signed_in(page, "erin@orbital.test")
    open_contract(page, contract.number)
    row = page.get_by_test_id("invoice-row").filter(has_text="ORB-2024-017")
    row.locator("summary", has_text="Attach a file").click()
    row.get_by_label("Title").fill("Invoice PDF")
    row.get_by_label("File").set_input_files(str(pdf))
    row.get_by_role("button", name="Upload to invoice ORB-2024-017").click()
    expect(page.locator(".alert").first).to_contain_text("“Invoice PDF” uploaded as version 1.")
    expect(page.get_by_test_id("invoice-row").first.get_by_test_id("document-download")).to_have_text("Invoice PDF")
    change_order = page.get_by_test_id("change-order").first
    change_order.locator("summary", has_text="Attach a file").click()
    change_order.get_by_label("Title").fill("Quote")
    change_order.get_by_label("File").set_input_files(str(pdf))
    change_order.get_by_role("button", name="Upload to CO-1").click()
    expect(page.get_by_test_id("change-order").first.get_by_test_id("document-download")).to_have_text("Quote")

    sponsor = new_page(MOBILE)
    signed_in(sponsor, "alice@acme.test")
    sponsor.goto(contract.get_absolute_url())
    link = sponsor.get_by_test_id("invoice-row").first.get_by_test_id("document-download")
    with sponsor.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "ORB-2024-017.pdf"
    assert Path(download.value.path()).read_bytes() == PDF
    assert page.console_errors == [] and sponsor.console_errors == []
