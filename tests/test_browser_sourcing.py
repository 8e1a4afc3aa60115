"""Sourcing in a real browser, as far as it is built: a sponsor writes a sealed RFP from a programme, invites two
vendors and publishes; one vendor proposes (milestones must add up to the total), the other declines; the
sponsor sees who responded and when but no price until the RFP closes."""

import datetime
import re
import zoneinfo

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from contracts.models import RFP
from tests.browser import MOBILE, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "demo-password"
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
CEILING_TEXTS = ("250,000", "250000", "250 000", "Budget ceiling")


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", vendors=10, verbosity=0)


def shot(page, name):
    """Screenshot, then drop the empty ``style=""`` the caret hiding leaves (CSP noise on the next htmx swap)."""
    screenshot(page, name)
    page.evaluate("() => document.querySelectorAll('[style=\"\"]').forEach((el) => el.removeAttribute('style'))")


def signed_in(page, email):
    page.set_default_timeout(10_000)
    if not getattr(page, "accepts_dialogs", False):  # "Close bidding now?" and the like: the user says yes
        page.on("dialog", lambda dialog: dialog.accept())
        page.accepts_dialogs = True
    page.context.clear_cookies()
    sign_in(page, email, PASSWORD)
    page.wait_for_url("**/dashboard/")


def local(days: int, hour: int) -> str:
    """A wall-clock moment in Berlin ``days`` from now, as the datetime-local input takes it."""
    day = timezone.now().astimezone(BERLIN).date() + datetime.timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:00"


def flash(page):
    return page.locator(".alert").first


def create_and_publish(page) -> int:
    """Alice: a sealed RFP from programme ACM-101, Helix invited from the RFP page, Orbital from its profile."""
    signed_in(page, "alice@acme.test")
    page.goto("/programs/")
    page.get_by_role("row").filter(has_text="Acmezumab").get_by_role("link").first.click()
    page.get_by_role("link", name="New RFP for this programme").click()
    expect(page.locator("#id_program option:checked")).to_contain_text("ACM-101")
    page.fill("#id_title", "Sterile fill-finish of ACM-101 drug product")
    page.fill("#id_scope", "Aseptic fill-finish of three clinical batches in 2R vials, with release testing.")
    page.get_by_label("Finished Dosage Forms").check()
    page.fill("#id_desired_start", (timezone.now().date() + datetime.timedelta(days=60)).isoformat())
    page.fill("#id_desired_end", (timezone.now().date() + datetime.timedelta(days=240)).isoformat())
    page.fill("#id_budget_ceiling", "250000")
    page.select_option("#id_budget_currency", "EUR")
    page.fill("#id_response_deadline", local(4, 17))
    page.fill("#id_qa_cutoff", local(2, 17))
    page.select_option("#id_time_zone", "Europe/Berlin")
    page.check("#id_sealed")
    expect(page.get_by_test_id("criterion-row").first.locator("input").first).to_have_value("Price")
    shot(page, "rfp-new")
    page.get_by_role("button", name="Save draft").click()
    expect(flash(page)).to_contain_text("saved")
    rfp = RFP.objects.get(title="Sterile fill-finish of ACM-101 drug product")
    assert rfp.state == "draft" and rfp.sealed
    assert rfp.response_deadline.astimezone(BERLIN).hour == 17  # the chosen zone is the one stored
    expect(page.get_by_test_id("ceiling")).to_contain_text("250,000")

    # Helix from the picker on the RFP page.
    page.select_option("#invite-vendors", label=["Helix Manufacturing"])
    page.locator("#invitees").get_by_role("button", name="Invite").click()
    expect(page.get_by_text("1 vendor invited.")).to_be_visible()
    # Orbital from its profile's "Invite to RFP".
    page.goto("/vendors/orbital-cdmo/")
    page.get_by_role("link", name="Invite to RFP").click()
    page.select_option("#id_rfp", str(rfp.pk))
    expect(page.locator("#id_rfp option:checked")).to_contain_text("Sterile fill-finish of ACM-101")
    expect(page.locator("#id_vendors option:checked")).to_have_text(["Orbital CDMO"])
    page.get_by_role("button", name="Invite").click()
    page.wait_for_url(f"**/rfps/{rfp.pk}/")
    invitees = page.get_by_test_id("invitee")
    expect(invitees).to_have_count(2)
    # The picker offers only vendors not invited yet.
    expect(page.locator("#invite-vendors option", has_text="Helix Manufacturing")).to_have_count(0)
    expect(page.locator("#invite-vendors option", has_text="Lyon Aseptic")).to_have_count(1)
    shot(page, "rfp-draft-invited")
    page.get_by_role("button", name="Publish").click()
    expect(flash(page)).to_contain_text("RFP published")
    expect(page.locator("h1").locator("xpath=..")).to_contain_text("Published")
    return rfp.pk


def test_a_sealed_rfp_from_invitation_to_opening(page, new_page, demo):
    rfp_id = create_and_publish(page)

    # Dave: the invitation is in /rfps/; the ceiling is nowhere.
    signed_in(page, "dave@helix.test")
    page.get_by_role("link", name="RFPs", exact=True).click()
    row = page.get_by_test_id("rfp-row").filter(has_text="Sterile fill-finish of ACM-101")
    expect(row).to_contain_text("Acme Pharma")
    expect(row).to_contain_text("Invited")
    # The sidebar offers what a vendor's person can use: no programmes, no drafts, no ISO date-time boxes.
    expect(page.locator("#id_program")).to_have_count(0)
    expect(page.get_by_text("ISO 8601")).to_have_count(0)
    expect(page.locator("#id_state option", has_text="Draft")).to_have_count(0)
    expect(page.locator("#id_sealed option:checked")).to_have_text("Any")
    shot(page, "rfp-list-vendor")
    row.get_by_role("link").click()
    body = page.locator("body").inner_text()
    assert not [t for t in CEILING_TEXTS if t in body]
    expect(page.get_by_test_id("ceiling")).to_have_count(0)
    page.get_by_role("button", name="Write a proposal").click()
    page.wait_for_url("**/proposals/*/edit/")

    # A first try whose milestones do not add up to the total: saved as a draft, and the page says why.
    page.fill("#id_total_price", "200000")
    page.select_option("#id_currency", "EUR")
    page.fill("#id_timeline", "Batch 1 in week 10, batches 2 and 3 by week 20.")
    page.fill("#id_items-0-description", "Fill-finish batch")
    page.fill("#id_items-0-quantity", "3")
    page.fill("#id_items-0-unit", "batch")
    page.fill("#id_items-0-unit_price", "60000")
    page.fill("#id_items-1-description", "Release testing")
    page.fill("#id_items-1-quantity", "1")
    page.fill("#id_items-1-unit", "lot")
    page.fill("#id_items-1-unit_price", "20000")
    page.fill("#id_milestones-0-name", "Engineering run")
    page.fill("#id_milestones-0-due_offset_days", "30")
    page.fill("#id_milestones-0-amount", "50000")
    page.fill("#id_milestones-1-name", "Batches released")
    page.fill("#id_milestones-1-due_offset_days", "140")
    page.fill("#id_milestones-1-amount", "100000")
    page.get_by_role("button", name="Save").click()
    expect(flash(page)).to_contain_text("not ready to submit")
    expect(flash(page)).to_contain_text(
        "The milestone amounts add up to 150,000.00 EUR, not the total price of 200,000.00 EUR."
    )
    assert "/edit/" in page.url  # still on the form, next to the rows to fix
    proposal_url = page.url
    shot(page, "proposal-wrong-sum")

    page.fill("#id_milestones-1-amount", "150000")
    page.get_by_role("button", name="Save").click()
    expect(flash(page)).to_contain_text("ready to submit")
    page.wait_for_url(f"**/rfps/{rfp_id}/")
    page.get_by_role("button", name="Submit proposal").click()
    expect(flash(page)).to_contain_text("Proposal submitted")
    expect(page.locator("#your-response")).to_contain_text("Submitted")
    shot(page, "rfp-vendor-submitted")

    # At phone width: the vendor's RFP page and the proposal's rows stay readable (tables scroll inside).
    phone = new_page(MOBILE)
    signed_in(phone, "dave@helix.test")
    phone.goto(f"/rfps/{rfp_id}/")
    expect(phone.locator("#your-response")).to_contain_text("Submitted")
    shot(phone, "rfp-vendor-mobile")
    phone.goto(proposal_url)
    expect(phone.locator("#id_milestones-1-amount")).to_have_value(re.compile(r"^150000(\.00)?$"))
    shot(phone, "proposal-mobile")

    # Erin declines, with a reason.
    signed_in(page, "erin@orbital.test")
    page.goto(f"/rfps/{rfp_id}/")
    page.get_by_role("button", name="Decline invitation").click()
    expect(flash(page)).to_contain_text("Say why you decline")
    page.fill("#decline-reason", "No free aseptic capacity before next autumn.")
    page.get_by_role("button", name="Decline invitation").click()
    expect(flash(page)).to_contain_text("Invitation declined")
    expect(page.get_by_role("button", name="Write a proposal")).to_have_count(0)

    # Alice: who responded and when, no price (sealed, before the deadline).
    signed_in(page, "alice@acme.test")
    page.goto(f"/rfps/{rfp_id}/")
    helix = page.get_by_test_id("invitee").filter(has_text="Helix Manufacturing")
    expect(helix).to_contain_text("Responded")
    expect(helix.locator("time")).to_have_count(1)
    orbital = page.get_by_test_id("invitee").filter(has_text="Orbital CDMO")
    expect(orbital).to_contain_text("No free aseptic capacity before next autumn.")
    expect(page.get_by_test_id("sealed-note")).to_be_visible()
    assert "200,000" not in page.locator("main").inner_text()
    shot(page, "rfp-sponsor-sealed")

    # Closing opens the proposals: now the price shows.
    page.get_by_role("button", name="Close bidding now").click()
    expect(flash(page)).to_contain_text("RFP closed")
    proposal = page.get_by_test_id("proposal-row").filter(has_text="Helix Manufacturing")
    expect(proposal).to_contain_text("200,000")
    shot(page, "rfp-sponsor-closed")
    assert page.console_errors == []
