"""The award and the way to it: the qualification gate (an admin's override with a reason, a member refused),
nothing partial on a refusal, the notices to the winner, the losers and (at closing) the invitees, the
sponsor's pages (row actions, the confirmation, the outcome card, the opening record) and the API."""

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import Action, HistoryEntry
from contracts import services
from contracts.models import RFP, Contract, Milestone, Proposal
from contracts.services.awards import (
    AWARD_NEEDS_ADMIN,
    AWARD_NEEDS_OVERRIDE,
    AWARD_OVERRIDE_ADMIN_ONLY,
    AWARD_OVERRIDE_NOT_NEEDED,
)
from cro_cmo.services import TransitionError
from cro_cmo.transitions import transition_refusal
from notifications.models import OutboxEvent
from sponsors.models import VendorQualification
from tests.factories import UserFactory, VendorFactory
from vendors.models import Certification

pytestmark = pytest.mark.django_db

CEILING = Decimal("987654.32")
CEILING_TEXTS = ("987654", "987,654")
NOTE = "Critical finding on aseptic process simulation; do not award until requalified."


def in_days(days: float):
    return timezone.now() + timedelta(days=days)


def qualify(p, vendor, status, notes=""):
    VendorQualification.objects.update_or_create(
        sponsor=p.sponsor_a, vendor=vendor, defaults={"status": status, "notes": notes}
    )


@pytest.fixture
def bids(personas):
    """A sealed RFP of sponsor A with a secret ceiling, closed with three proposals: X 100,000, Y 120,000,
    Z 90,000 (EUR). Adds vendor Z with its admin and a sponsor A member to the personas."""
    p = personas
    p.vendor_z = VendorFactory(name="Vendor Z", slug="vendor-z")
    p.vendor_z_admin = UserFactory(email="z-admin@z.test", vendor=p.vendor_z, role=Role.ADMIN)
    p.sponsor_a_member = UserFactory(
        email="a-member@a.test", full_name="Mia Member", sponsor=p.sponsor_a, role=Role.MEMBER
    )
    rfp = services.rfp_create(
        actor=p.sponsor_a_admin, program=p.program_a, title="Fill-finish QZAW", scope="Three batches.",
        desired_start=in_days(30).date(), desired_end=in_days(210).date(), response_deadline=in_days(14),
        budget_ceiling=CEILING, budget_currency="EUR", sealed=True,
    )  # fmt: skip
    services.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp, vendors=[p.vendor_x, p.vendor_y, p.vendor_z])
    services.rfp_publish(actor=p.sponsor_a_admin, rfp=rfp)
    proposals = {}
    for name, admin, total in [("x", p.vendor_x_admin, "100000.00"), ("y", p.vendor_y_admin, "120000.00"),
                               ("z", p.vendor_z_admin, "90000.00")]:  # fmt: skip
        total = Decimal(total)
        milestones = [
            {"name": "Kick-off", "due_offset_days": 10, "amount": total / 4},
            {"name": "Batches released", "due_offset_days": 120, "amount": total - total / 4},
        ]
        proposal = services.proposal_save_draft(
            actor=admin, rfp=rfp, data={"total_price": total, "currency": "EUR"}, milestones=milestones
        )
        proposals[name] = services.proposal_submit(actor=admin, proposal=proposal)
    services.rfp_close(actor=p.sponsor_a_admin, rfp=rfp)
    rfp.refresh_from_db()
    return rfp, proposals


def snapshot(rfp):
    """Everything an award writes: a refused award must leave all of it as it was."""
    return {
        "rfp": RFP.objects.get(pk=rfp.pk).state,
        "proposals": sorted(
            Proposal.objects.filter(rfp=rfp).values_list("state", "award_override_reason", "award_override_by")
        ),
        "contracts": Contract.objects.count(),
        "milestones": Milestone.objects.count(),
        "history": HistoryEntry.objects.count(),
        "events": OutboxEvent.objects.count(),
    }


# --- The gate -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status,phrase",
    [
        (None, "not qualified by your company (no qualification record)"),
        ("not_qualified", "not qualified by your company"),
        ("in_qualification", "still in qualification with your company"),
        ("disqualified", "disqualified by your company"),
    ],
)
def test_an_unqualified_vendor_is_refused_naming_its_status_and_nothing_changes(personas, bids, status, phrase):
    p = personas
    rfp, proposals = bids
    if status:
        qualify(p, p.vendor_x, status, NOTE)
    before = snapshot(rfp)
    with pytest.raises(TransitionError) as refused:
        services.rfp_award(actor=p.sponsor_a_admin, proposal=proposals["x"])
    assert str(refused.value) == AWARD_NEEDS_OVERRIDE.format(vendor="Vendor X", phrase=phrase)
    assert f"Vendor X is {phrase}: to award it anyway, a sponsor admin gives a reason" in str(refused.value)
    with pytest.raises(TransitionError) as refused:  # a blank override is no override
        services.rfp_award(actor=p.sponsor_a_admin, proposal=proposals["x"], override_reason="   ")
    assert phrase in str(refused.value)
    assert snapshot(rfp) == before


@pytest.mark.parametrize("status", ["approved", "conditionally_approved"])
def test_approved_and_conditionally_approved_vendors_pass_without_an_override(personas, bids, status):
    p = personas
    _, proposals = bids
    qualify(p, p.vendor_x, status, "Two major findings, CAPA accepted.")
    contract = services.rfp_award(actor=p.sponsor_a_member, proposal=proposals["x"], reason="Best value")
    x = Proposal.objects.get(pk=proposals["x"].pk)
    assert (x.state, x.award_override_reason, x.award_override_by) == ("accepted", "", None)
    assert contract.vendor == p.vendor_x and contract.value == Decimal("100000.00")
    if status == "conditionally_approved":
        assert contract.award_warnings == [
            "Vendor X is only conditionally approved by your company: the award stands on its conditions. "
            "Note: Two major findings, CAPA accepted."
        ]
    else:
        assert contract.award_warnings == []


def test_a_sponsor_admin_overrides_with_a_reason_kept_on_the_proposal_and_in_the_history(personas, bids):
    p = personas
    rfp, proposals = bids
    qualify(p, p.vendor_x, "disqualified", NOTE)
    contract = services.rfp_award(
        actor=p.sponsor_a_admin, proposal=proposals["x"], override_reason="  Only site with free capacity in Q3.  "
    )
    x = Proposal.objects.get(pk=proposals["x"].pk)
    assert (x.state, x.award_override_reason, x.award_override_by) == (
        "accepted",
        "Only site with free capacity in Q3.",
        p.sponsor_a_admin,
    )
    [accepted] = HistoryEntry.objects.for_object(x).filter(action=Action.TRANSITION, changes__state__1="accepted")
    assert accepted.actor == p.sponsor_a_admin
    assert accepted.reason == (
        "Qualification override (Vendor X is disqualified by your company): Only site with free capacity in Q3."
    )
    assert accepted.changes["award_override_reason"] == ["", "Only site with free capacity in Q3."]
    assert accepted.changes["award_override_by"] == [None, p.sponsor_a_admin.pk]
    assert contract.source_proposal == x and RFP.objects.get(pk=rfp.pk).state == "awarded"


def test_a_member_cannot_override_and_nothing_changes(personas, bids):
    p = personas
    rfp, proposals = bids
    qualify(p, p.vendor_x, "in_qualification")
    before = snapshot(rfp)
    with pytest.raises(PermissionDenied) as refused:
        services.rfp_award(actor=p.sponsor_a_member, proposal=proposals["x"], override_reason="We need them.")
    assert str(refused.value) == AWARD_OVERRIDE_ADMIN_ONLY.format(
        vendor="Vendor X", phrase="still in qualification with your company"
    )
    with pytest.raises(TransitionError) as refused:
        services.rfp_award(actor=p.sponsor_a_member, proposal=proposals["x"])
    assert str(refused.value) == (
        "A sponsor admin must award this vendor: Vendor X is still in qualification with your company."
    )
    assert str(refused.value) == AWARD_NEEDS_ADMIN.format(
        vendor="Vendor X", phrase="still in qualification with your company"
    )
    with pytest.raises(PermissionDenied):
        services.rfp_award(actor=p.sponsor_a_viewer, proposal=proposals["x"], override_reason="Viewer tries.")
    assert snapshot(rfp) == before


def test_an_override_that_is_too_long_is_bad_input(personas, bids):
    p = personas
    rfp, proposals = bids
    before = snapshot(rfp)
    with pytest.raises(ValidationError) as refused:
        services.rfp_award(actor=p.sponsor_a_admin, proposal=proposals["x"], override_reason="x" * 2001)
    assert refused.value.message_dict == {"override_reason": ["Keep the override reason under 2000 characters."]}
    assert snapshot(rfp) == before


def test_an_override_not_needed_is_not_recorded_but_said(personas, bids):
    p = personas
    _, proposals = bids
    qualify(p, p.vendor_x, "approved")
    contract = services.rfp_award(actor=p.sponsor_a_admin, proposal=proposals["x"], override_reason="Just in case.")
    assert Proposal.objects.get(pk=proposals["x"].pk).award_override_reason == ""
    assert contract.award_warnings == [
        AWARD_OVERRIDE_NOT_NEEDED.format(vendor="Vendor X", phrase="approved by your company")
    ]


@pytest.mark.parametrize("state", ["withdrawn", "rejected", "draft"])
def test_a_proposal_that_is_out_is_refused_before_the_gate(personas, bids, state):
    p = personas
    rfp, proposals = bids
    Proposal.objects.filter(pk=proposals["x"].pk).update(state=state)
    x = Proposal.objects.get(pk=proposals["x"].pk)
    before = snapshot(rfp)
    # Unqualified too: the proposal's state is the first reason, not the qualification.
    with pytest.raises(TransitionError) as refused:
        services.rfp_award(actor=p.sponsor_a_admin, proposal=x, override_reason="Overriding anyway.")
    assert str(refused.value) == transition_refusal(Proposal, "accept", state)
    assert snapshot(rfp) == before


def test_an_expired_certificate_at_award_time_is_a_warning_not_a_block(personas, bids):
    p = personas
    _, proposals = bids
    qualify(p, p.vendor_z, "approved")
    Certification.objects.create(
        vendor=p.vendor_z, type="gmp", authority="ema", issued_on=timezone.localdate() - timedelta(days=800),
        expires_on=timezone.localdate() - timedelta(days=1),
    )  # fmt: skip
    contract = services.rfp_award(actor=p.sponsor_a_admin, proposal=proposals["z"])
    yesterday = timezone.localdate() - timedelta(days=1)
    assert contract.award_warnings == [f"Vendor Z: its GMP certificate expired on {yesterday}."]
    assert Proposal.objects.get(pk=proposals["z"].pk).state == "accepted"


def test_winner_and_losers_are_told_without_the_ceiling_or_each_other(personas, bids):
    p = personas
    _, proposals = bids
    qualify(p, p.vendor_y, "approved")
    OutboxEvent.objects.all().delete()
    services.rfp_award(actor=p.sponsor_a_admin, proposal=proposals["y"])
    [accepted] = OutboxEvent.objects.filter(event_type="proposal_accepted")
    assert accepted.vendor == p.vendor_y and accepted.title == "Your proposal was accepted: Fill-finish QZAW"
    rejected = OutboxEvent.objects.filter(event_type="proposal_rejected").order_by("vendor__name")
    assert [e.vendor for e in rejected] == [p.vendor_x, p.vendor_z]
    for event in rejected:
        assert event.title == "Your proposal was not accepted: Fill-finish QZAW"
        assert event.body == "Sponsor A has decided not to go ahead with your proposal."
    for event in OutboxEvent.objects.filter(vendor__isnull=False):
        text = f"{event.title} {event.body} {event.payload}"
        assert not [t for t in CEILING_TEXTS if t in text], event.event_type
        others = {"Vendor X", "Vendor Y", "Vendor Z"} - {event.vendor.name}
        assert not [name for name in others if name in text], event.event_type
        assert "120000" not in text and "120,000" not in text  # the winner's price


# --- Closing tells the invitees that responded ----------------------------------------------------------------


def test_closing_tells_the_invitees_that_responded_and_no_one_else(personas):
    p = personas
    rfps = []
    for title in ("Early QZC1", "Deadline QZC2"):
        rfp = services.rfp_create(
            actor=p.sponsor_a_admin, program=p.program_a, title=title, scope="Batches.",
            desired_start=in_days(30).date(), desired_end=in_days(210).date(), response_deadline=in_days(14),
            budget_ceiling=CEILING, budget_currency="EUR", sealed=True,
        )  # fmt: skip
        services.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp, vendors=[p.vendor_x, p.vendor_y])
        services.rfp_publish(actor=p.sponsor_a_admin, rfp=rfp)
        draft = services.proposal_save_draft(
            actor=p.vendor_x_admin, rfp=rfp, data={"total_price": Decimal("1000.00"), "currency": "EUR"},
            milestones=[{"name": "All", "due_offset_days": 5, "amount": Decimal("1000.00")}],
        )  # fmt: skip
        services.proposal_submit(actor=p.vendor_x_admin, proposal=draft)
        rfps.append(rfp)
    services.rfp_close(actor=p.sponsor_a_admin, rfp=rfps[0])
    RFP.objects.filter(pk=rfps[1].pk).update(response_deadline=in_days(-0.01), qa_cutoff=None)
    assert services.rfp_close_due() == 1
    told = list(OutboxEvent.objects.filter(event_type="rfp_closed", vendor__isnull=False).order_by("id"))
    assert [(e.vendor, e.title) for e in told] == [
        (p.vendor_x, "Bidding has ended: Early QZC1"),
        (p.vendor_x, "Bidding has ended: Deadline QZC2"),
    ]  # Y, invited but silent, is not told
    assert (
        told[0].body
        == "Sponsor A has closed bidding: your proposal is being evaluated. You will be told of the decision."
    )
    assert (
        told[1].body
        == "The response deadline has passed: your proposal is being evaluated. You will be told of the decision."
    )
    for event in told:
        text = f"{event.title} {event.body} {event.payload}"
        assert "Vendor Y" not in text and not [t for t in CEILING_TEXTS if t in text]
        assert not any(ch.isdigit() for ch in f"{event.title} {event.body}".replace("QZC1", "").replace("QZC2", ""))


# --- Pages --------------------------------------------------------------------------------------------------


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def words(markup: str) -> str:
    """Text without tags, spaces collapsed: what a reader reads across links and badges."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split()).replace(" .", ".")


def text(response) -> str:
    """The page as a reader sees its words (entities such as ``&#x27;`` decoded)."""
    return html.unescape(response.content.decode())


def test_the_rfp_page_shows_the_opening_record(client, personas, bids):
    p = personas
    rfp, _ = bids
    html = login(client, p.sponsor_a_admin).get(rfp.get_absolute_url()).content.decode()
    opened = timezone.localtime(rfp.opened_at)
    assert f'Sealed bids opened on <time datetime="{opened.isoformat()}">' in html
    assert f"{opened:%-d %b %Y}" in html and f"by {p.sponsor_a_admin.get_full_name()}" in html
    RFP.objects.filter(pk=rfp.pk).update(opened_by=None)  # closed by the deadline scan
    html = client.get(rfp.get_absolute_url()).content.decode()
    assert "automatically at the deadline" in html
    vendor_html = login(client, p.vendor_x_admin).get(rfp.get_absolute_url()).content.decode()
    assert "Yes: proposals opened when the RFP closed" in vendor_html and "opening-record" not in vendor_html


def test_row_actions_show_for_members_only_once_closed(client, personas, bids):
    p = personas
    rfp, proposals = bids
    qualify(p, p.vendor_y, "disqualified")
    html = login(client, p.sponsor_a_member).get(rfp.get_absolute_url()).content.decode()
    for proposal in proposals.values():
        assert reverse("proposal-award", args=[proposal.pk]) in html
        assert reverse("proposal-reject", args=[proposal.pk]) in html
        assert reverse("proposal-shortlist", args=[proposal.pk]) in html
    assert "Qualification: Disqualified" in html and "Not qualified by us" in html
    viewer_html = login(client, p.sponsor_a_viewer).get(rfp.get_absolute_url()).content.decode()
    assert "Qualification: Disqualified" in viewer_html  # they read it …
    assert "/award/" not in viewer_html and "/reject/" not in viewer_html and "/shortlist/" not in viewer_html


def test_shortlist_and_reject_from_the_rfp_page(client, personas, bids):
    p = personas
    rfp, proposals = bids
    login(client, p.sponsor_a_member)
    response = client.post(reverse("proposal-shortlist", args=[proposals["x"].pk]), follow=True)
    assert "Vendor X: proposal shortlisted." in response.content.decode()
    response = client.post(
        reverse("proposal-reject", args=[proposals["y"].pk]), {"reason": "Over our budget."}, follow=True
    )
    assert "Vendor Y: proposal rejected; the vendor is told." in response.content.decode()
    states = dict(Proposal.objects.filter(rfp=rfp).values_list("vendor__name", "state"))
    assert states == {"Vendor X": "shortlisted", "Vendor Y": "rejected", "Vendor Z": "submitted"}
    y = Proposal.objects.get(pk=proposals["y"].pk)
    assert HistoryEntry.objects.for_object(y).filter(reason="Over our budget.").exists()
    # The vendor's people reach their own proposal, but shortlisting is the sponsor's: a message, no change.
    response = login(client, p.vendor_z_admin).post(
        reverse("proposal-shortlist", args=[proposals["z"].pk]), follow=True
    )
    assert services.NOT_SPONSOR_MEMBER in text(response)
    assert Proposal.objects.get(pk=proposals["z"].pk).state == "submitted"


def test_award_confirmation_offers_the_override_to_admins_only(client, personas, bids):
    p = personas
    rfp, proposals = bids
    qualify(p, p.vendor_x, "disqualified", NOTE)
    url = reverse("proposal-award", args=[proposals["x"].pk])
    member_html = login(client, p.sponsor_a_member).get(url).content.decode()
    assert "A sponsor admin must award this vendor: it is disqualified by your company." in member_html
    assert 'name="override_reason"' not in member_html and "Award and create the contract" not in member_html
    assert NOTE in member_html and "100,000.00" in member_html and "2 other proposals are rejected" in member_html
    response = client.post(url, {"override_reason": "Mine."})
    assert AWARD_OVERRIDE_ADMIN_ONLY.format(vendor="Vendor X", phrase="disqualified by your company") in (
        response.content.decode()
    )
    assert Proposal.objects.get(pk=proposals["x"].pk).state == "submitted"

    admin_html = login(client, p.sponsor_a_admin).get(url).content.decode()
    assert 'name="override_reason"' in admin_html and "required" in admin_html
    assert "Qualification: Disqualified" in admin_html
    refused = client.post(url, {"override_reason": ""}).content.decode()
    assert 'id="id_override_reason"' in refused and "is-invalid" in refused
    assert "to award it anyway, a sponsor admin gives a reason" in refused
    assert RFP.objects.get(pk=rfp.pk).state == "closed"


def test_award_from_the_page_shows_the_contract_on_the_rfp(client, personas, bids):
    p = personas
    rfp, proposals = bids
    login(client, p.sponsor_a_admin)
    url = reverse("proposal-award", args=[proposals["z"].pk])
    response = client.post(url, {"override_reason": "Cheapest, audit booked for May.", "reason": "Price."})
    assert response.status_code == 302 and response.url == rfp.get_absolute_url() + "#award"
    contract = Contract.objects.get(source_proposal=proposals["z"])
    html = client.get(response.url).content.decode()
    card = words(html.split('data-testid="award"', 1)[1].split('id="proposals"', 1)[0])
    assert f"Awarded to Vendor Z — contract {contract.number}" in card
    if contract.get_absolute_url():  # the contract's page, once it exists
        assert f'<a href="{contract.get_absolute_url()}">{contract.number}</a>' in html
    assert "90,000.00" in html and "Fill-finish QZAW" in html
    assert html.count('data-testid="award-milestone"') == 2 and "Batches released" in html
    assert "Cheapest, audit booked for May." in html  # the override on the card
    assert "/award/" not in html  # decided: no more actions
    # The winner's page says so, without any of the sponsor's private words.
    vendor_html = login(client, p.vendor_z_admin).get(rfp.get_absolute_url()).content.decode()
    assert f"The sponsor accepted your proposal: contract {contract.number} is being prepared." in words(vendor_html)
    assert "Cheapest, audit booked" not in vendor_html and "qualif" not in vendor_html.lower()
    # Once awarded, the confirmation page sends the sponsor back with the reason.
    response = login(client, p.sponsor_a_admin).get(url, follow=True)
    assert transition_refusal(RFP, "award", "awarded") in response.content.decode()


def test_the_award_page_is_the_sponsors(client, personas, bids):
    p = personas
    _, proposals = bids
    url = reverse("proposal-award", args=[proposals["x"].pk])
    forbidden = login(client, p.vendor_x_admin).get(url)
    assert forbidden.status_code == 403 and "Qualification" not in forbidden.content.decode()
    viewer = login(client, p.sponsor_a_viewer).get(url)
    assert viewer.status_code == 403 and "Award the RFP" not in viewer.content.decode()
    other = login(client, p.sponsor_b_admin).get(url)
    assert other.status_code == 404 and "Vendor X" not in other.content.decode()
    posted = login(client, p.vendor_x_admin).post(url, {"override_reason": "Award ourselves."}, follow=True)
    assert services.NOT_SPONSOR_MEMBER in text(posted)
    assert Proposal.objects.get(pk=proposals["x"].pk).state == "submitted"


# --- API ----------------------------------------------------------------------------------------------------


def test_api_award_answers_409_403_400_and_200_with_the_override(personas, bids, api_client_for):
    p = personas
    rfp, proposals = bids
    qualify(p, p.vendor_x, "disqualified", NOTE)
    url = f"/api/v1/rfps/{rfp.pk}/award/"
    admin, member = api_client_for(p.sponsor_a_admin), api_client_for(p.sponsor_a_member)
    before = snapshot(rfp)

    gate = admin.post(url, {"proposal": proposals["x"].pk}, format="json")
    assert (gate.status_code, gate.json()) == (
        409, {"detail": AWARD_NEEDS_OVERRIDE.format(vendor="Vendor X", phrase="disqualified by your company")}
    )  # fmt: skip
    by_member = member.post(url, {"proposal": proposals["x"].pk, "override_reason": "Mine."}, format="json")
    assert (by_member.status_code, by_member.json()) == (
        403, {"detail": AWARD_OVERRIDE_ADMIN_ONLY.format(vendor="Vendor X", phrase="disqualified by your company")}
    )  # fmt: skip
    too_long = admin.post(url, {"proposal": proposals["x"].pk, "override_reason": "x" * 2001}, format="json")
    assert too_long.status_code == 400 and list(too_long.json()) == ["override_reason"]
    wrong_type = admin.post(url, {"proposal": "x", "override_reason": 5}, format="json")
    assert wrong_type.status_code == 400 and set(wrong_type.json()) >= {"proposal"}
    assert snapshot(rfp) == before

    done = admin.post(url, {"proposal": proposals["x"].pk, "override_reason": "Sole supplier."}, format="json")
    assert done.status_code == 200, done.json()
    body = done.json()
    assert body["rfp"]["state"] == "awarded" and body["warnings"] == []
    assert body["contract_number"] == Contract.objects.get(pk=body["contract"]).number
    x = Proposal.objects.get(pk=proposals["x"].pk)
    assert (x.award_override_reason, x.award_override_by) == ("Sole supplier.", p.sponsor_a_admin)


def test_api_award_by_a_member_of_an_approved_vendor_with_warnings(personas, bids, api_client_for):
    p = personas
    rfp, proposals = bids
    qualify(p, p.vendor_y, "conditionally_approved", "Line clearance CAPA open.")
    done = api_client_for(p.sponsor_a_member).post(
        f"/api/v1/rfps/{rfp.pk}/award/", {"proposal": proposals["y"].pk}, format="json"
    )
    assert done.status_code == 200, done.json()
    assert done.json()["warnings"] == [
        "Vendor Y is only conditionally approved by your company: the award stands on its conditions. "
        "Note: Line clearance CAPA open."
    ]


def test_a_conditional_approval_is_stated_on_the_confirmation_and_the_outcome(client, personas, bids):
    p = personas
    _, proposals = bids
    qualify(p, p.vendor_y, "conditionally_approved", "Line clearance CAPA open until June.")
    login(client, p.sponsor_a_member)
    url = reverse("proposal-award", args=[proposals["y"].pk])
    confirm = text(client.get(url))
    assert "Vendor Y is only conditionally approved by your company: the award stands on its conditions" in confirm
    assert 'name="override_reason"' not in confirm  # it passes the gate: nothing to override
    response = client.post(url, {}, follow=True)
    page = text(response)
    assert "Vendor Y is only conditionally approved by your company" in page  # the warning message
    card = words(response.content.decode().split('data-testid="award"', 1)[1].split('id="proposals"', 1)[0])
    assert "Qualification Conditionally approved by your company: Line clearance CAPA open until June." in card
    assert Proposal.objects.get(pk=proposals["y"].pk).award_override_reason == ""
