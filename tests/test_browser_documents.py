"""Documents in a real browser: alice attaches a file to her published RFP, sees it listed with its version,
size and hash, downloads the very bytes she uploaded and adds a second version; dave (invited) reads and
downloads the attachment but is offered no upload form; a refused file comes back as a message."""

import datetime
import hashlib
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from contracts.models import RFP, Document
from contracts.services.rfps import rfp_create, rfp_invite, rfp_publish
from sponsors.models import Program
from tests.browser import MOBILE, screenshot, sign_in
from vendors.models import Vendor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "demo-password"
SHOTS = Path("/tmp/shots")
SCOPE_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
TITLE = "Technical specification of the drug product"


@pytest.fixture
def published_rfp(transactional_db) -> RFP:
    """The demo's people; alice's published RFP for ACM-101 with Helix (dave) invited."""
    call_command("seed_demo", vendors=10, verbosity=0)
    alice = User.objects.get(email="alice@acme.test")
    rfp = rfp_create(
        actor=alice, program=Program.objects.get(sponsor=alice.sponsor, code="ACM-101"),
        title="Fill-finish of ACM-101 clinical batches (documents)", scope="Three clinical batches in 2R vials.",
        desired_start=timezone.now().date() + datetime.timedelta(days=60),
        desired_end=timezone.now().date() + datetime.timedelta(days=240),
        response_deadline=timezone.now() + datetime.timedelta(days=10),
    )  # fmt: skip
    rfp_invite(actor=alice, rfp=rfp, vendors=[Vendor.objects.get(slug="helix-manufacturing")])
    return rfp_publish(actor=alice, rfp=rfp)


def signed_in(page, email):
    page.set_default_timeout(10_000)
    page.context.clear_cookies()
    sign_in(page, email, PASSWORD)
    page.wait_for_url("**/dashboard/")


def upload(page, title: str, name: str, data: bytes, mime: str = "application/pdf"):
    panel = page.get_by_test_id("documents-panel")
    panel.get_by_label("Title").fill(title)
    panel.get_by_label("File").set_input_files({"name": name, "mimeType": mime, "buffer": data})
    panel.get_by_role("button", name="Upload").click()


def test_an_rfp_attachment_from_upload_to_the_vendors_download(page, new_page, published_rfp, tmp_path):
    rfp = published_rfp
    signed_in(page, "alice@acme.test")
    page.goto(f"/rfps/{rfp.pk}/")
    panel = page.get_by_test_id("documents-panel")
    expect(panel).to_contain_text("No attachments yet.")

    # A program renamed to .pdf is refused, with what is accepted.
    upload(page, TITLE, "spec.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64)
    expect(page.locator(".alert-danger")).to_contain_text("This type of file is not accepted")
    expect(page.locator(".alert-danger")).to_contain_text("a PNG or JPEG image")
    assert not Document.objects.exists()

    upload(page, TITLE, "spec.pdf", SCOPE_PDF)
    expect(page.locator(".alert-success")).to_contain_text(f"“{TITLE}” uploaded as version 1.")
    row = page.get_by_test_id("document-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(TITLE)
    expect(row).to_contain_text("v1")
    expect(row.locator("code.sha256")).to_have_attribute("title", f"SHA-256 {hashlib.sha256(SCOPE_PDF).hexdigest()}")
    with page.expect_download() as info:
        row.get_by_role("link", name="spec.pdf").click()
    download = info.value
    assert download.suggested_filename == "spec.pdf"
    saved = tmp_path / "alice-spec.pdf"
    download.save_as(saved)
    assert saved.read_bytes() == SCOPE_PDF

    # A second version under the same title (offered in the title's suggestions); the first folds under it.
    expect(page.locator(f"datalist option[value='{TITLE}']")).to_have_count(1)
    second = SCOPE_PDF + b"% revised\n"
    upload(page, TITLE, "spec-rev-b.pdf", second)
    expect(page.locator(".alert-success")).to_contain_text("uploaded as version 2.")
    expect(row).to_contain_text("spec-rev-b.pdf")
    page.get_by_text("1 earlier version").click()
    expect(page.get_by_test_id("document-older")).to_contain_text("spec.pdf")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "documents.png"), full_page=True, caret="initial")
    screenshot(page, "documents-rfp-sponsor")

    # Dave reads the attachment on the RFP, downloads it, and is offered no upload here.
    signed_in(page, "dave@helix.test")
    page.goto(f"/rfps/{rfp.pk}/")
    row = page.get_by_test_id("document-row")
    expect(row).to_contain_text(TITLE)
    expect(page.get_by_test_id("document-upload")).to_have_count(0)
    with page.expect_download() as info:
        row.get_by_role("link", name="spec-rev-b.pdf").click()
    saved = tmp_path / "dave-spec.pdf"
    info.value.save_as(saved)
    assert saved.read_bytes() == second
    screenshot(page, "documents-rfp-vendor")

    # Dave's own proposal takes files: the panel on the proposal page, with its form.
    page.get_by_role("button", name="Write a proposal").click()
    page.wait_for_url("**/proposals/*/edit/")
    expect(page.get_by_test_id("documents-panel")).to_contain_text("No proposal files yet.")
    upload(page, "Quality agreement draft", "qa.csv", b"Clause;Owner\nRelease;Helix QP\n", "text/csv")
    expect(page.locator(".alert-success")).to_contain_text("“Quality agreement draft” uploaded as version 1.")
    expect(page.get_by_test_id("document-row")).to_contain_text("qa.csv")
    proposal_file = Document.objects.get(title="Quality agreement draft")
    assert (proposal_file.proposal.vendor.slug, proposal_file.content_type) == ("helix-manufacturing", "text/csv")
    screenshot(page, "documents-proposal-vendor")

    # At phone width the table scrolls inside its region: the page does not (the harness checks reflow).
    phone = new_page(MOBILE)
    signed_in(phone, "dave@helix.test")
    phone.goto(f"/rfps/{rfp.pk}/")
    expect(phone.get_by_test_id("document-row")).to_contain_text(TITLE)
    screenshot(phone, "documents-rfp-vendor-mobile")
