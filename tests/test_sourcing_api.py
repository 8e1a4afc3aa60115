"""Sourcing API: each action's happy path and refusals, the ceiling a vendor never receives, who gets 404
and 403, and an RFP list whose query count does not grow with its length.

Uses the ``world`` fixture: sponsor A's sealed published ``rfp_a`` (ceiling 424242.00 EUR, vendor X invited,
X's proposal submitted), A's draft ``rfp_a_draft``, B's draft ``rfp_b``.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from contracts import services
from contracts.api import PROPOSAL_OF_OTHER_RFP
from contracts.models import RFP, Invitation, Proposal
from contracts.models.proposals import ONE_LIVE_PROPOSAL
from contracts.serializers import PROPOSAL_RFP_FIXED
from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.transitions import transition_refusal
from tests.factories import RFPCriterionFactory, RFPFactory, UserFactory, VendorFactory
from vendors.models import Certification

pytestmark = pytest.mark.django_db

CEILING = "424242"


def _rfp_body(world, **extra) -> dict:
    start = timezone.now().date() + timedelta(days=30)
    body = {
        "program": world["program_a"].pk, "title": "API RFP", "scope": "Phase II monitoring.",
        "desired_start": start.isoformat(), "desired_end": (start + timedelta(days=180)).isoformat(),
        "response_deadline": (timezone.now() + timedelta(days=10)).isoformat(),
        "budget_ceiling": "90000.00", "budget_currency": "EUR", "sealed": False,
        "criteria": [{"name": "Price", "weight": 3}, {"name": "Experience", "weight": 1}],
    }  # fmt: skip
    body.update(extra)
    return body


def _open_rfp(world, sealed=False) -> RFP:
    """A published RFP of sponsor A with vendor X invited and nothing proposed yet."""
    rfp = RFPFactory(program=world["program_a"], title="Open RFP", sealed=sealed)
    services.rfp_invite(actor=world["sponsor_a_admin"], rfp=rfp, vendors=[world["vendor_x"]])
    return services.rfp_publish(actor=world["sponsor_a_admin"], rfp=rfp)


def _proposal_body(rfp, total="1000.00") -> dict:
    half = str(Decimal(total) / 2)
    return {
        "rfp": rfp.pk, "total_price": total, "currency": "EUR", "timeline": "Twelve weeks.",
        "line_items": [{"description": "Monitoring visits", "quantity": "4", "unit": "visit", "unit_price": "250.00"}],
        "milestones": [{"name": "Start", "due_offset_days": 0, "amount": half},
                       {"name": "End", "due_date": (date.today() + timedelta(days=90)).isoformat(), "amount": half}],
    }  # fmt: skip


# --- RFPs --------------------------------------------------------------------------------------------


def test_sponsor_creates_a_draft_rfp_for_its_own_programme(world, api_client_for):
    client = api_client_for(world["sponsor_a_admin"])
    response = client.post("/api/v1/rfps/", _rfp_body(world, sponsor=world["sponsor_b"].pk), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    rfp = RFP.objects.get(pk=body["id"])
    assert (rfp.sponsor, rfp.state, body["budget_ceiling"]) == (world["sponsor_a"], "draft", "90000.00")
    assert [(c["name"], c["weight"]) for c in body["criteria"]] == [("Price", 3), ("Experience", 1)]

    other = client.post("/api/v1/rfps/", _rfp_body(world, program=world["program_b"].pk), format="json")
    assert other.status_code == 400
    assert "does not exist" in other.json()["program"][0]  # B's programme reads as unknown, not as B's
    reversed_dates = _rfp_body(world, desired_end=date.today().isoformat())
    assert "desired_end" in client.post("/api/v1/rfps/", reversed_dates, format="json").json()


def test_vendors_and_viewers_cannot_create_rfps(world, api_client_for):
    vendor = api_client_for(world["vendor_x_admin"]).post("/api/v1/rfps/", _rfp_body(world), format="json")
    assert vendor.status_code == 403
    assert "sponsor" in vendor.json()["detail"]
    viewer = api_client_for(world["sponsor_a_viewer"]).post("/api/v1/rfps/", _rfp_body(world), format="json")
    assert viewer.status_code == 403
    assert viewer.json()["detail"] == VIEWER_READ_ONLY
    assert not RFP.objects.filter(title="API RFP").exists()


def test_an_rfp_changes_only_while_a_draft(world, api_client_for):
    client = api_client_for(world["sponsor_a_admin"])
    draft = client.patch(f"/api/v1/rfps/{world['rfp_a_draft'].pk}/", {"title": "Renamed QZ"}, format="json")
    assert draft.status_code == 200
    assert RFP.objects.get(pk=world["rfp_a_draft"].pk).title == "Renamed QZ"
    published = client.patch(f"/api/v1/rfps/{world['rfp_a'].pk}/", {"title": "Renamed"}, format="json")
    assert published.status_code == 409
    assert published.json()["detail"] == services.RFP_NOT_DRAFT
    assert RFP.objects.get(pk=world["rfp_a"].pk).title == "Alpha RFP QZRA"


def test_invite_then_publish(world, api_client_for):
    client, rfp = api_client_for(world["sponsor_a_admin"]), world["rfp_a_draft"]
    url = f"/api/v1/rfps/{rfp.pk}/"
    refused = client.post(f"{url}publish/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["invitations"] == [services.PUBLISH_NEEDS_INVITEE]

    assert client.post(f"{url}invite/", {"vendors": []}, format="json").json()["vendors"]
    lapsed = VendorFactory(name="Lapsed Labs")
    Certification.objects.create(
        vendor=lapsed, type="gmp", authority="national", issued_on=date(2020, 1, 1), expires_on=date(2021, 1, 1)
    )
    invited = client.post(f"{url}invite/", {"vendors": [world["vendor_x"].pk, lapsed.pk]}, format="json")
    assert invited.status_code == 200
    assert sorted(i["vendor_name"] for i in invited.json()["invitations"]) == ["Lapsed Labs", "Vendor X"]
    assert invited.json()["warnings"] == [  # vendor X is approved by sponsor A: no warning
        "Lapsed Labs: not qualified by your company (no qualification record).",
        "Lapsed Labs: its GMP certificate expired on 2021-01-01.",
    ]

    published = client.post(f"{url}publish/", {}, format="json")
    assert (published.status_code, published.json()["state"]) == (200, "published")
    again = client.post(f"{url}publish/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["detail"] == transition_refusal(RFP, "publish", "published")


def test_cancel_needs_a_reason(world, api_client_for):
    client, url = api_client_for(world["sponsor_a_admin"]), f"/api/v1/rfps/{world['rfp_a'].pk}/cancel/"
    assert "reason" in client.post(url, {}, format="json").json()
    blank = client.post(url, {"reason": "  "}, format="json")
    assert (blank.status_code, blank.json()) == (400, {"reason": [services.CANCEL_REASON_REQUIRED]})
    done = client.post(url, {"reason": "Programme stopped."}, format="json")
    assert (done.status_code, done.json()["state"]) == (200, "cancelled")
    again = client.post(url, {"reason": "Again."}, format="json")
    assert again.status_code == 409
    assert again.json()["detail"] == transition_refusal(RFP, "cancel", "cancelled")


def test_close_opens_the_sealed_proposals_and_award_creates_the_contract(world, api_client_for):
    client, rfp, proposal = api_client_for(world["sponsor_a_admin"]), world["rfp_a"], world["proposal_a_x"]
    url = f"/api/v1/rfps/{rfp.pk}/"
    # Sealed and published: the sponsor neither reads nor awards the proposal yet.
    assert client.get(f"/api/v1/proposals/{proposal.pk}/").status_code == 404
    assert client.get("/api/v1/proposals/").json()["results"] == []
    early = client.post(f"{url}award/", {"proposal": proposal.pk}, format="json")
    assert early.status_code == 400
    assert "does not exist" in early.json()["proposal"][0]

    closed = client.post(f"{url}close/", {}, format="json")
    assert (closed.status_code, closed.json()["state"]) == (200, "closed")
    assert [p["id"] for p in client.get("/api/v1/proposals/").json()["results"]] == [proposal.pk]
    assert client.post(f"{url}close/", {}, format="json").status_code == 409

    foreign = Proposal.objects.create(rfp=world["rfp_a_draft"], vendor=world["vendor_y"])
    assert client.post(f"{url}award/", {}, format="json").json()["proposal"]
    wrong = client.post(f"/api/v1/rfps/{world['rfp_a_draft'].pk}/award/", {"proposal": proposal.pk}, format="json")
    assert wrong.json() == {"proposal": [PROPOSAL_OF_OTHER_RFP]}
    assert foreign.state == "draft"

    awarded = client.post(f"{url}award/", {"proposal": proposal.pk}, format="json")
    assert awarded.status_code == 200, awarded.json()
    body = awarded.json()
    assert body["rfp"]["state"] == "awarded"
    proposal.refresh_from_db()
    assert (proposal.state, proposal.contract.pk, proposal.contract.number) == (
        "accepted",
        body["contract"],
        body["contract_number"],
    )
    again = client.post(f"{url}award/", {"proposal": proposal.pk}, format="json")
    assert again.status_code == 409
    assert again.json()["detail"] == transition_refusal(RFP, "award", "awarded")


# --- Proposals ----------------------------------------------------------------------------------------


def test_vendor_proposes_submits_and_withdraws(world, api_client_for):
    rfp, client = _open_rfp(world), api_client_for(world["vendor_x_admin"])
    body = _proposal_body(rfp)
    body["milestones"][1]["amount"] = "100.00"  # 600 in all: not the total
    created = client.post("/api/v1/proposals/", body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["vendor"], data["state"], data["line_items"][0]["line_total"]) == (
        world["vendor_x"].pk,
        "draft",
        "1000.00",
    )
    url = f"/api/v1/proposals/{data['id']}/"

    incomplete = client.post(f"{url}submit/", {}, format="json")
    assert incomplete.status_code == 400
    assert incomplete.json()["milestones"] == [
        services.MILESTONES_SUM.format(sum="600.00", total="1,000.00", currency="EUR")
    ]
    fixed = client.patch(url, {"milestones": _proposal_body(rfp)["milestones"]}, format="json")
    assert [m["amount"] for m in fixed.json()["milestones"]] == ["500.00", "500.00"]
    assert client.patch(url, {"rfp": world["rfp_a"].pk}, format="json").json() == {"rfp": [PROPOSAL_RFP_FIXED]}

    submitted = client.post(f"{url}submit/", {}, format="json")
    assert (submitted.status_code, submitted.json()["state"]) == (200, "submitted")
    assert Invitation.objects.get(rfp=rfp, vendor=world["vendor_x"]).state == "responded"
    again = client.post(f"{url}submit/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["detail"] == transition_refusal(Proposal, "submit", "submitted")

    second = client.post("/api/v1/proposals/", _proposal_body(rfp), format="json")
    assert second.status_code == 400
    assert ONE_LIVE_PROPOSAL in str(second.json())

    withdrawn = client.post(f"{url}withdraw/", {"reason": "Capacity."}, format="json")
    assert (withdrawn.status_code, withdrawn.json()["state"]) == (200, "withdrawn")
    assert client.post(f"{url}withdraw/", {}, format="json").status_code == 409
    edit = client.patch(url, {"timeline": "Later."}, format="json")
    assert (edit.status_code, edit.json()["detail"]) == (409, services.PROPOSAL_NOT_EDITABLE)


def test_bad_line_items_are_field_errors(world, api_client_for):
    rfp, client = _open_rfp(world), api_client_for(world["vendor_x_admin"])
    body = _proposal_body(rfp)
    body["line_items"][0]["quantity"] = "0"
    response = client.post("/api/v1/proposals/", body, format="json")
    assert response.status_code == 400
    assert "greater than or equal to 0.001" in response.json()["line_items"]["0"]["quantity"][0]  # row 0's field

    body = _proposal_body(rfp)
    body["milestones"][0]["due_date"] = date.today().isoformat()  # a date and an offset: the model's rule
    response = client.post("/api/v1/proposals/", body, format="json")
    assert response.status_code == 400
    assert response.json()["milestones"][0].startswith("Milestone 1: ")
    assert not Proposal.objects.filter(rfp=rfp).exists()


def test_only_invited_vendors_propose(world, api_client_for):
    rfp = _open_rfp(world)
    response = api_client_for(world["vendor_y_admin"]).post("/api/v1/proposals/", _proposal_body(rfp), format="json")
    assert response.status_code == 400
    assert "does not exist" in response.json()["rfp"][0]  # Y does not even learn the RFP exists
    sponsor = api_client_for(world["sponsor_a_admin"]).post("/api/v1/proposals/", _proposal_body(rfp), format="json")
    assert sponsor.status_code == 403
    assert "vendor" in sponsor.json()["detail"]


def test_sponsor_shortlists_and_rejects_after_close(world, api_client_for):
    rfp = _open_rfp(world)  # not sealed: the sponsor reads the submitted proposal at once
    proposal = services.proposal_save_draft(
        actor=world["vendor_x_admin"], rfp=rfp, data={"total_price": Decimal("10.00"), "currency": "EUR"},
        milestones=[{"name": "All", "due_offset_days": 1, "amount": Decimal("10.00")}],
    )  # fmt: skip
    services.proposal_submit(actor=world["vendor_x_admin"], proposal=proposal)
    sponsor, vendor = api_client_for(world["sponsor_a_admin"]), api_client_for(world["vendor_x_admin"])
    url = f"/api/v1/proposals/{proposal.pk}/"

    early = sponsor.post(f"{url}shortlist/", {}, format="json")
    assert (early.status_code, early.json()["detail"]) == (409, services.EVALUATE_NOT_CLOSED)
    services.rfp_close(actor=world["sponsor_a_admin"], rfp=rfp)
    by_vendor = vendor.post(f"{url}shortlist/", {}, format="json")
    assert (by_vendor.status_code, by_vendor.json()["detail"]) == (403, services.NOT_SPONSOR_MEMBER)
    assert sponsor.post(f"{url}submit/", {}, format="json").json()["detail"] == services.NOT_VENDOR_MEMBER

    shortlisted = sponsor.post(f"{url}shortlist/", {"reason": "Cheapest."}, format="json")
    assert (shortlisted.status_code, shortlisted.json()["state"]) == (200, "shortlisted")
    rejected = sponsor.post(f"{url}reject/", {"reason": "Too slow."}, format="json")
    assert (rejected.status_code, rejected.json()["state"]) == (200, "rejected")
    again = sponsor.post(f"{url}reject/", {}, format="json")
    assert again.json()["detail"] == transition_refusal(Proposal, "reject", "rejected")


# --- Invitations ---------------------------------------------------------------------------------------


def test_invited_vendor_declines_with_a_reason(world, api_client_for):
    rfp = _open_rfp(world)
    invitation = Invitation.objects.get(rfp=rfp, vendor=world["vendor_x"])
    url = f"/api/v1/invitations/{invitation.pk}/decline/"
    vendor = api_client_for(world["vendor_x_admin"])
    assert vendor.post(url, {}, format="json").json()["reason"]
    blank = vendor.post(url, {"reason": " "}, format="json")
    assert (blank.status_code, blank.json()) == (400, {"reason": [services.DECLINE_REASON_REQUIRED]})
    sponsor = api_client_for(world["sponsor_a_admin"]).post(url, {"reason": "No."}, format="json")
    assert (sponsor.status_code, sponsor.json()["detail"]) == (403, services.NOT_VENDOR_MEMBER)

    declined = vendor.post(url, {"reason": "No capacity in Q3."}, format="json")
    assert declined.status_code == 200
    assert (declined.json()["state"], declined.json()["decline_reason"]) == ("declined", "No capacity in Q3.")
    again = vendor.post(url, {"reason": "Still no."}, format="json")
    assert again.status_code == 409
    assert again.json()["detail"] == transition_refusal(Invitation, "decline", "declined")


def test_questions_on_the_rfp_hide_the_asker_from_other_invitees(world, api_client_for):
    rfp, other = world["rfp_a"], VendorFactory(name="Other invitee QZO")
    other_admin = UserFactory(email="o-admin@o.test", vendor=other, role=Role.ADMIN)
    services.rfp_invite(actor=world["sponsor_a_admin"], rfp=rfp, vendors=[other])
    asked = services.question_ask(actor=world["vendor_x_admin"], rfp=rfp, text="Is GMP release included?")
    services.question_ask(actor=world["vendor_x_admin"], rfp=rfp, text="Unanswered QZU?")
    services.question_answer(actor=world["sponsor_a_admin"], question=asked, answer="Yes.")

    def questions(user):
        return api_client_for(user).get(f"/api/v1/rfps/{rfp.pk}/").json()["questions"]

    x = world["vendor_x"].pk
    assert [(q["text"], q["asked_by_vendor"]) for q in questions(world["sponsor_a_admin"])] == [
        ("Is GMP release included?", x), ("Unanswered QZU?", x)
    ]  # fmt: skip
    assert [q.get("asked_by_vendor") for q in questions(world["vendor_x_viewer"])] == [x, x]
    # Another invitee reads the answered question only, and not who asked it.
    assert questions(other_admin) == [
        {"id": asked.pk, "text": "Is GMP release included?", "answer": "Yes.",
         "answered_at": questions(other_admin)[0]["answered_at"], "asked_at": questions(other_admin)[0]["asked_at"]}
    ]  # fmt: skip


# --- What a vendor never gets --------------------------------------------------------------------------


def _vendor_bodies(world, client) -> dict[str, str]:
    """Every sourcing response a vendor's person gets: lists, details, histories, filters, action answers."""
    rfp, invitation, proposal = world["rfp_a"], world["invitation_a_x"], world["proposal_a_x"]
    urls = [
        "/api/v1/rfps/", f"/api/v1/rfps/{rfp.pk}/", f"/api/v1/rfps/{rfp.pk}/history/",
        "/api/v1/rfps/?q=Alpha&ordering=-response_deadline&state=published", "/api/v1/invitations/",
        f"/api/v1/invitations/{invitation.pk}/", f"/api/v1/invitations/{invitation.pk}/history/",
        f"/api/v1/invitations/?rfp={rfp.pk}", "/api/v1/proposals/", f"/api/v1/proposals/{proposal.pk}/",
        f"/api/v1/proposals/{proposal.pk}/history/",
    ]  # fmt: skip
    bodies = {url: client.get(url).content.decode() for url in urls}
    for verb, url, body in [
        ("patch", f"/api/v1/proposals/{proposal.pk}/", {"timeline": "Revised."}),
        ("post", f"/api/v1/rfps/{rfp.pk}/publish/", {}),
        ("post", f"/api/v1/proposals/{proposal.pk}/withdraw/", {}),
        ("post", f"/api/v1/invitations/{invitation.pk}/decline/", {"reason": "Busy."}),
    ]:
        bodies[f"{verb} {url}"] = getattr(client, verb)(url, body, format="json").content.decode()
    return bodies


@pytest.mark.parametrize("persona", ["vendor_x_admin", "vendor_x_viewer"])
def test_the_ceiling_and_other_invitees_never_reach_a_vendor(world, api_client_for, persona):
    other = VendorFactory(name="Other invitee QZO")
    services.rfp_invite(actor=world["sponsor_a_admin"], rfp=world["rfp_a"], vendors=[other])
    bodies = _vendor_bodies(world, api_client_for(world[persona]))
    assert world["rfp_a"].title in bodies[f"/api/v1/rfps/{world['rfp_a'].pk}/"]  # the vendor does read the RFP
    assert [url for url, body in bodies.items() if CEILING in body or "budget_" in body] == []
    assert [url for url, body in bodies.items() if "QZO" in body] == []
    # The same walk as the sponsor shows both: the search above can find them.
    sponsor = api_client_for(world["sponsor_a_admin"])
    assert CEILING in sponsor.get(f"/api/v1/rfps/{world['rfp_a'].pk}/").content.decode()
    assert "QZO" in sponsor.get("/api/v1/invitations/").content.decode()


def test_vendor_y_gets_404_everywhere(world, api_client_for):
    client = api_client_for(world["vendor_y_admin"])
    targets = {"rfps": world["rfp_a"], "invitations": world["invitation_a_x"], "proposals": world["proposal_a_x"]}
    actions = {"rfps": ["publish", "close", "cancel", "award", "invite"], "invitations": ["decline"],
               "proposals": ["submit", "withdraw", "shortlist", "reject"]}  # fmt: skip
    answers = []
    for prefix, obj in targets.items():
        url = f"/api/v1/{prefix}/{obj.pk}/"
        answers += [client.get(url).status_code, client.get(f"{url}history/").status_code]
        if prefix != "invitations":
            answers.append(client.patch(url, {"title": "x"}, format="json").status_code)
        answers += [
            client.post(f"{url}{name}/", {"reason": "x"}, format="json").status_code for name in actions[prefix]
        ]
        assert client.get(f"/api/v1/{prefix}/").json()["results"] == []
    assert set(answers) == {404}, answers
    assert client.get(f"/api/v1/rfps/{world['rfp_a'].pk}/").json()["detail"]


def test_viewers_get_403_on_every_write(world, api_client_for):
    sponsor_viewer, vendor_viewer = api_client_for(world["sponsor_a_viewer"]), api_client_for(world["vendor_x_viewer"])
    rfp, proposal, invitation = world["rfp_a_draft"], world["proposal_a_x"], world["invitation_a_x"]
    answers = [sponsor_viewer.patch(f"/api/v1/rfps/{rfp.pk}/", {"title": "x"}, format="json")]
    answers += [sponsor_viewer.post(f"/api/v1/rfps/{rfp.pk}/{name}/", {"reason": "x"}, format="json")
                for name in ["publish", "close", "cancel", "award", "invite"]]  # fmt: skip
    answers.append(vendor_viewer.patch(f"/api/v1/proposals/{proposal.pk}/", {"timeline": "x"}, format="json"))
    answers += [vendor_viewer.post(f"/api/v1/proposals/{proposal.pk}/{name}/", {}, format="json")
                for name in ["submit", "withdraw"]]  # fmt: skip
    answers.append(vendor_viewer.post(f"/api/v1/invitations/{invitation.pk}/decline/", {"reason": "x"}, format="json"))
    assert {(r.status_code, r.json()["detail"]) for r in answers} == {(403, VIEWER_READ_ONLY)}
    proposal.refresh_from_db()
    rfp.refresh_from_db()
    assert (proposal.state, proposal.timeline, rfp.state) == ("submitted", "Proposal timeline QZP", "draft")


# --- Query counts ----------------------------------------------------------------------------------------


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/rfps/?page_size=50")
    assert response.status_code == 200
    return len(captured), response.json()["count"]


@pytest.mark.parametrize("persona", ["sponsor_a_admin", "vendor_x_admin"])
def test_rfp_list_queries_do_not_grow_with_the_rfps(world, api_client_for, persona):
    client = api_client_for(world[persona])

    def add_rfps(count):
        for _ in range(count):
            rfp = RFPFactory(program=world["program_a"])
            rfp.categories.set([world["category"]])
            RFPCriterionFactory(rfp=rfp)
            services.rfp_invite(actor=world["sponsor_a_admin"], rfp=rfp, vendors=[world["vendor_x"]])
            services.rfp_publish(actor=world["sponsor_a_admin"], rfp=rfp)

    add_rfps(1)
    _list_queries(client)  # the first request of a token also records its use: not part of the list's cost
    few, few_count = _list_queries(client)
    add_rfps(19)
    many, many_count = _list_queries(client)
    assert many_count - few_count == 19
    assert many == few
