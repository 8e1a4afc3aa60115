"""The award in a real browser: Alice, on a closed sealed RFP, shortlists one proposal, rejects one with a
reason and awards the third — Orbital, still in qualification, so with an override a member could not give;
and from the directory: tick two vendors → "Invite to RFP" → the picker preselects them and previews their
warnings → invite → the warnings on the RFP page. Screenshots in /tmp/shots/."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from contracts import services
from contracts.models import Contract, Proposal
from sponsors.models import Program
from tests.browser import MOBILE, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "demo-password"
SHOTS = Path("/tmp/shots")
CEILING_TEXTS = ("333,333", "333333")


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", vendors=10, verbosity=0)


def shot(page, name, full_page=True):
    """A screenshot in /tmp/shots/ (to look at) and in the test artifacts."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page, caret="initial")
    screenshot(page, name)
    page.evaluate("() => document.querySelectorAll('[style=\"\"]').forEach((el) => el.removeAttribute('style'))")


def signed_in(page, email):
    page.set_default_timeout(10_000)
    if not getattr(page, "accepts_dialogs", False):  # "Reject …? The vendor is told." — the user says yes
        page.on("dialog", lambda dialog: dialog.accept())
        page.accepts_dialogs = True
    page.context.clear_cookies()
    sign_in(page, email, PASSWORD)
    page.wait_for_url("**/dashboard/")


def flash(page):
    return page.locator(".alert")


def closed_rfp():
    """Acme's sealed RFP for ACM-101, Northwind (approved), Helix (conditionally approved) and Orbital (in
    qualification) proposing, closed by Alice."""
    alice = User.objects.get(email="alice@acme.test")
    start = timezone.localdate() + datetime.timedelta(days=40)
    rfp = services.rfp_create(
        actor=alice, program=Program.objects.get(code="ACM-101"), title="Release testing of ACM-101 batches",
        scope="Release and stability testing of three clinical batches.", desired_start=start,
        desired_end=start + datetime.timedelta(days=200), response_deadline=timezone.now() + datetime.timedelta(days=7),
        budget_ceiling=Decimal("333333"), budget_currency="EUR", sealed=True,
    )  # fmt: skip
    bidders = {"carol@northwind.test": "180000", "dave@helix.test": "150000", "erin@orbital.test": "160000"}
    services.rfp_invite(actor=alice, rfp=rfp, vendors=[User.objects.get(email=e).vendor for e in bidders])
    services.rfp_publish(actor=alice, rfp=rfp)
    for email, total in bidders.items():
        vendor_admin, total = User.objects.get(email=email), Decimal(total)
        proposal = services.proposal_save_draft(
            actor=vendor_admin, rfp=rfp, data={"total_price": total, "currency": "EUR", "timeline": "Twelve weeks."},
            milestones=[{"name": "Method transfer", "due_offset_days": 30, "amount": total / 2},
                        {"name": "Certificates of analysis", "due_offset_days": 90, "amount": total / 2}],
        )  # fmt: skip
        services.proposal_submit(actor=vendor_admin, proposal=proposal)
    return services.rfp_close(actor=alice, rfp=rfp)


def test_alice_shortlists_rejects_and_awards_with_an_override(page, new_page, demo):
    rfp = closed_rfp()
    url = f"/rfps/{rfp.pk}/"

    # Frank, a member, may shortlist and award qualified vendors, but not override: he is told who must.
    signed_in(page, "frank@acme.test")
    page.goto(url)
    page.get_by_role("link", name="Award to Orbital CDMO").click()
    expect(page.get_by_test_id("award-needs-admin")).to_have_text(
        "A sponsor admin must award this vendor: it is still in qualification with your company."
    )
    expect(page.get_by_role("button", name="Award and create the contract")).to_have_count(0)
    shot(page, "award-member-refused")

    # Vera, a viewer: the proposals, no buttons.
    signed_in(page, "vera@acme.test")
    page.goto(url)
    expect(page.get_by_test_id("proposal-row")).to_have_count(3)
    expect(page.locator("#proposals").get_by_role("button")).to_have_count(0)
    expect(page.locator("#proposals").get_by_role("link", name="Award", exact=False)).to_have_count(0)

    signed_in(page, "alice@acme.test")
    page.goto(url)
    expect(page.get_by_test_id("opening-record")).to_contain_text("Sealed bids opened on")
    expect(page.get_by_test_id("opening-record")).to_contain_text("by Alice Archer")
    orbital = page.get_by_test_id("proposal-row").filter(has_text="Orbital CDMO")
    expect(orbital).to_contain_text("Qualification: In qualification")
    shot(page, "award-rfp-closed")

    page.get_by_role("button", name="Shortlist Northwind Clinical").click()
    expect(flash(page).filter(has_text="Northwind Clinical: proposal shortlisted.")).to_be_visible()
    expect(page.get_by_test_id("proposal-row").filter(has_text="Northwind Clinical")).to_contain_text("Shortlisted")

    helix = page.get_by_test_id("proposal-row").filter(has_text="Helix Manufacturing")
    helix.locator("summary", has_text="Reject").click()
    helix.get_by_label("Reason (kept in the proposal's history)").fill("No stability chambers free before Q4.")
    shot(page, "award-reject-open")
    helix.get_by_role("button", name="Reject proposal of Helix Manufacturing").click()
    expect(flash(page).filter(has_text="Helix Manufacturing: proposal rejected")).to_be_visible()
    expect(page.get_by_test_id("proposal-row").filter(has_text="Helix Manufacturing")).to_contain_text("Rejected")
    helix_proposal = Proposal.objects.get(rfp=rfp, vendor__slug="helix-manufacturing")
    assert helix_proposal.state == "rejected"

    page.get_by_role("link", name="Award to Orbital CDMO").click()
    page.wait_for_url("**/proposals/*/award/")
    expect(page.get_by_test_id("award-qualification")).to_contain_text("Qualification: In qualification")
    expect(page.get_by_test_id("award-qualification")).to_contain_text("Questionnaire returned")
    expect(page.get_by_test_id("award-summary")).to_contain_text("1 other proposal is rejected")
    page.get_by_role("button", name="Award and create the contract").click()  # no reason: refused, nothing done
    expect(page.locator("#id_override_reason")).to_have_class("form-control is-invalid")
    expect(page.locator(".invalid-feedback")).to_contain_text("to award it anyway, a sponsor admin gives a reason")
    assert not Contract.objects.filter(source_proposal__rfp=rfp).exists()
    page.get_by_label("Reason for overriding the qualification check").fill(
        "Only lab with validated methods for this assay; on-site audit booked for next month."
    )
    page.get_by_label("Why this proposal (optional)").fill("Best timeline at a fair price.")
    shot(page, "award-confirm-override")
    page.get_by_role("button", name="Award and create the contract").click()
    page.wait_for_url(f"**{url}#award")

    contract = Contract.objects.get(source_proposal__rfp=rfp)
    award = page.get_by_test_id("award")
    expect(award).to_contain_text(f"Awarded to Orbital CDMO — contract {contract.number}")
    expect(award).to_contain_text("160,000.00")
    expect(award).to_contain_text("Only lab with validated methods for this assay")
    expect(page.get_by_test_id("award-milestone")).to_have_count(2)
    expect(flash(page).filter(has_text=f"Awarded to Orbital CDMO — contract {contract.number}.")).to_be_visible()
    expect(page.locator("#proposals").get_by_role("button")).to_have_count(0)  # decided: no more actions
    states = dict(Proposal.objects.filter(rfp=rfp).values_list("vendor__slug", "state"))
    assert states == {"orbital-cdmo": "accepted", "northwind-clinical": "rejected", "helix-manufacturing": "rejected"}
    orbital_proposal = Proposal.objects.get(rfp=rfp, vendor__slug="orbital-cdmo")
    assert orbital_proposal.award_override_by.email == "alice@acme.test"
    shot(page, "award-done")

    # At phone width the outcome reads without sideways scrolling (the axe harness checks it).
    phone = new_page(MOBILE)
    signed_in(phone, "alice@acme.test")
    phone.goto(url + "#award")
    expect(phone.get_by_test_id("award")).to_contain_text(contract.number)
    shot(phone, "award-done-mobile")

    # Erin (Orbital) reads the outcome, none of the sponsor's private words, no ceiling.
    signed_in(page, "erin@orbital.test")
    page.goto(url)
    expect(page.get_by_test_id("your-contract")).to_contain_text(f"contract {contract.number} is being prepared")
    body = page.locator("main").inner_text()
    assert "Only lab with validated" not in body and "qualification" not in body.lower()
    assert not [t for t in CEILING_TEXTS if t in body]
    shot(page, "award-vendor-view")
    assert page.console_errors == []


def test_directory_tick_invite_to_rfp_preselects_and_warns(page, demo):
    alice = User.objects.get(email="alice@acme.test")
    draft = services.rfp_create(
        actor=alice, program=Program.objects.get(code="ACM-204"), title="Oral solid dose scale-up",
        scope="Scale-up of the tablet process.", desired_start=timezone.localdate() + datetime.timedelta(days=60),
        desired_end=timezone.localdate() + datetime.timedelta(days=300),
        response_deadline=timezone.now() + datetime.timedelta(days=20),
    )  # fmt: skip
    signed_in(page, "alice@acme.test")
    page.goto("/vendors/")
    page.get_by_role("checkbox", name="Compare Helix Manufacturing").check()
    page.get_by_role("checkbox", name="Compare Rheinland Sterile Solutions").check()
    page.evaluate("() => window.scrollTo(0, 0)")  # the buttons sit above the results
    shot(page, "invite-directory-ticked", full_page=False)
    page.get_by_role("button", name="Invite to RFP").click()
    page.wait_for_url("**/rfps/invite/?*")
    expect(page.locator("#id_vendors option:checked")).to_have_text(
        ["Helix Manufacturing", "Rheinland Sterile Solutions"]
    )
    preview = page.get_by_test_id("invite-preview-vendor")
    expect(preview).to_have_count(2)
    expect(preview.filter(has_text="Rheinland")).to_contain_text(
        "Rheinland Sterile Solutions: disqualified by your company. Note: Critical finding on aseptic process "
        "simulation; do not award until requalified."
    )
    expect(preview.filter(has_text="Helix")).to_contain_text("Qualification: Conditionally approved")
    expect(preview.filter(has_text="Helix")).to_contain_text("Helix Manufacturing: its ISO 9001 certificate expired on")
    page.select_option("#id_rfp", str(draft.pk))
    shot(page, "invite-picker-preview")
    page.get_by_role("button", name="Invite", exact=True).click()
    page.wait_for_url(f"**/rfps/{draft.pk}/")
    expect(flash(page).filter(has_text="2 vendors invited.")).to_be_visible()
    expect(flash(page).filter(has_text="Rheinland Sterile Solutions: disqualified by your company.")).to_be_visible()
    expect(flash(page).filter(has_text="Helix Manufacturing: its ISO 9001 certificate expired on")).to_be_visible()
    expect(page.get_by_test_id("invitee")).to_have_count(2)
    shot(page, "invite-done-warnings")
    assert sorted(draft.invitations.values_list("vendor__slug", flat=True)) == [
        "helix-manufacturing",
        "rheinland-sterile",
    ]

    # The compare page and the shortlist lead to the same picker with their vendors.
    page.goto("/vendors/compare/?v=lyon-aseptic&v=bavaria-oral-solids")
    page.get_by_role("link", name="Invite to RFP").click()
    expect(page.locator("#id_vendors option:checked")).to_have_text(["Bavaria Oral Solids", "Lyon Aseptic"])
    page.goto("/shortlists/")
    page.get_by_role("link", name="Sterile fill-finish candidates").click()
    page.get_by_role("link", name="Invite to RFP").click()
    expect(page.locator("#id_vendors option:checked")).to_have_count(3)
    expect(page.get_by_test_id("invite-preview-vendor")).to_have_count(3)

    # Vera (viewer) and Carol (a vendor's admin) never see the button.
    for email in ("vera@acme.test", "carol@northwind.test"):
        signed_in(page, email)
        page.goto("/vendors/")
        expect(page.get_by_role("button", name="Invite to RFP")).to_have_count(0)
    assert page.console_errors == []
