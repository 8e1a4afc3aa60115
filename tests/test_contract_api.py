"""Contract execution API: contracts, milestones, change orders and invoices — each action's happy path and
refusals (400 field errors, 403 for the other side's step, 409 for a step the state refuses) with their
messages, the acceptance list of bad input of issue 9, who gets 404, and a contracts list whose query count
does not grow with the portfolio.

Contracts are made and moved through the API itself (sponsor A and vendor X, passwords from the personas).
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.lockout import LOCKED_OUT
from contracts.api_contracts import ContractViewSet
from contracts.models import ChangeOrder, Contract, Invoice, Milestone, Signature
from contracts.serializers_contracts import KIND_FIXED, VENDOR_FIXED
from contracts.services import change_orders as co
from contracts.services import contracts as ct
from contracts.services import invoices as inv
from contracts.services import milestones as ms
from contracts.services import signatures as sig
from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.transitions import transition_refusal
from tests.conftest import PASSWORD
from tests.factories import ContractFactory, MilestoneFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def _ok(response, status=200) -> dict:
    assert response.status_code == status, response.content
    return response.json()


def _body(p, **extra) -> dict:
    body = {
        "kind": "msa", "vendor": p.vendor_x.pk, "program": p.program_a.pk, "title": "Master agreement",
        "value": "0.00", "currency": "EUR", "start": days(-30), "end": days(335),
    }  # fmt: skip
    body.update(extra)
    return body


def _create(client, p, **extra) -> dict:
    return _ok(client.post("/api/v1/contracts/", _body(p, **extra), format="json"), 201)


def _work_order(client, p, **extra) -> dict:
    parent = _create(client, p)
    milestones = [
        {"name": "Site initiation", "due_date": days(20), "amount": "40000.00"},
        {"name": "Last patient out", "due_date": days(200), "amount": "60000.00"},
    ]
    fields = {"kind": "work-order", "parent": parent["id"], "title": "Phase II monitoring", "value": "100000.00",
              "milestones": milestones, "activities": [{"activity": "data_management", "detail": "EDC build"}]}  # fmt: skip
    fields.update(extra)
    return _create(client, p, **fields)


def _sign(client, contract_id, password=PASSWORD):
    return client.post(f"/api/v1/contracts/{contract_id}/sign/", {"password": password}, format="json")


@pytest.fixture
def clients(personas, api_client_for):
    p = personas
    return {name: api_client_for(getattr(p, name)) for name in [
        "sponsor_a_admin", "sponsor_a_viewer", "sponsor_b_admin", "vendor_x_admin", "vendor_x_viewer", "vendor_y_admin",
    ]}  # fmt: skip


@pytest.fixture
def active(personas, clients):
    """An active work order of sponsor A with vendor X (both signed through the API), 100 000.00 EUR."""
    contract = _work_order(clients["sponsor_a_admin"], personas)
    _ok(_sign(clients["sponsor_a_admin"], contract["id"]))
    body = _ok(_sign(clients["vendor_x_admin"], contract["id"]))
    assert body["state"] == "active"
    return Contract.objects.get(pk=body["id"])


def _milestone(contract, name="Site initiation") -> Milestone:
    return contract.milestones.get(name=name)


def _accepted(p, milestone) -> Milestone:
    ms.milestone_start(actor=p.vendor_x_admin, milestone=milestone)
    ms.milestone_submit(actor=p.vendor_x_admin, milestone=milestone)
    return ms.milestone_accept(actor=p.sponsor_a_admin, milestone=milestone)


# --- Contracts --------------------------------------------------------------------------------------------


def test_sponsor_creates_an_msa_and_a_work_order_under_it(personas, clients):
    p, client = personas, clients["sponsor_a_admin"]
    msa = _create(client, p, sponsor=p.sponsor_b.pk)  # the sponsor comes from the caller, never the body
    assert (msa["sponsor"], msa["sponsor_name"], msa["state"], msa["kind"]) == (
        p.sponsor_a.pk,
        "Sponsor A",
        "draft",
        "msa",
    )
    assert msa["number"].startswith("MSA-") and (msa["vendor"], msa["vendor_name"]) == (p.vendor_x.pk, "Vendor X")
    assert (msa["program"], msa["program_code"]) == (p.program_a.pk, "A-1")

    wo = _work_order(client, p)
    assert (wo["kind"], wo["parent_number"], wo["number"][:3]) == (
        "work-order",
        Contract.objects.get(pk=wo["parent"]).number,
        "WO-",
    )
    assert (wo["value"], wo["currency"], wo["budget"], wo["invoiced"], wo["remaining"]) == (
        "100000.00", "EUR", "100000.00", "0.00", "100000.00",
    )  # fmt: skip
    assert wo["burn_percent"] == "0.0" and Decimal(wo["time_elapsed_percent"]) == Decimal("8.2")
    assert wo["next_milestone"] == {
        "id": _milestone(Contract.objects.get(pk=wo["id"])).pk, "name": "Site initiation", "due_date": days(20),
        "overdue": False,
    }  # fmt: skip
    assert wo["activities"] == [
        {"activity": "data_management", "activity_label": "Data management", "detail": "EDC build"}
    ]
    assert wo["signatures"] == [] and "milestones" not in wo


def test_creating_a_contract_is_a_sponsor_members_step(personas, clients):
    before = Contract.objects.count()
    vendor = clients["vendor_x_admin"].post("/api/v1/contracts/", _body(personas), format="json")
    assert (vendor.status_code, vendor.json()["detail"]) == (403, ct.CONTRACT_CREATE_SPONSOR_ONLY)
    viewer = clients["sponsor_a_viewer"].post("/api/v1/contracts/", _body(personas), format="json")
    assert (viewer.status_code, viewer.json()["detail"]) == (403, VIEWER_READ_ONLY)
    assert Contract.objects.count() == before


def test_bad_contract_input_is_a_400_with_the_field_and_nothing_is_written(personas, clients):
    p, client = personas, clients["sponsor_a_admin"]
    other_vendors_msa = ct.contract_create(
        actor=p.sponsor_a_admin,
        data={"kind": "msa", "vendor": p.vendor_y, "title": "Y's MSA", "value": Decimal("0"), "currency": "EUR",
              "start": TODAY, "end": TODAY + timedelta(days=30)},
    )  # fmt: skip
    before = Contract.objects.count()
    cases = [
        (_body(p, end=days(-31)), "end", ct.END_NOT_AFTER_START),
        (_body(p, kind="work-order", parent=other_vendors_msa.pk), "parent", ct.PARENT_OTHER_PARTIES),
        (_body(p, kind="work-order"), "parent", ct.PARENT_REQUIRED),
        (_body(p, kind="standalone"), "kind", ct.KIND_BY_AWARD_ONLY),
        (_body(p, program=p.program_b.pk), "program", None),  # another sponsor's programme reads as unknown
        (_body(p, value="-1.00"), "value", None),
    ]
    for body, field, message in cases:
        response = client.post("/api/v1/contracts/", body, format="json")
        assert response.status_code == 400, (field, response.content)
        errors = response.json()[field]
        assert message in errors if message else errors, (field, errors)
    assert Contract.objects.count() == before


def test_terms_change_until_someone_signs_then_only_by_change_order(personas, clients):
    p, client = personas, clients["sponsor_a_admin"]
    contract = _create(client, p)
    url = f"/api/v1/contracts/{contract['id']}/"
    assert _ok(client.patch(url, {"title": "Renamed MSA", "value": "5.00"}, format="json"))["budget"] == "5.00"
    vendor = clients["vendor_x_admin"].patch(url, {"title": "Vendor's title"}, format="json")
    assert (vendor.status_code, vendor.json()["detail"]) == (403, ct.NOT_CONTRACT_SPONSOR)
    fixed = client.patch(url, {"vendor": p.vendor_y.pk, "kind": "cda"}, format="json")
    assert fixed.status_code == 400 and fixed.json() == {"vendor": [VENDOR_FIXED], "kind": [KIND_FIXED]}

    _ok(_sign(client, contract["id"]))
    refused = client.patch(url, {"value": "6.00"}, format="json")
    assert refused.status_code == 409
    assert refused.json()["detail"] == ct.SIGNED_TERMS_ONLY_BY_CHANGE_ORDER.format(fields="value")
    assert _ok(client.patch(url, {"notes": "Bookkeeping only"}, format="json"))["notes"] == "Bookkeeping only"
    # PUT of the contract's own representation changes nothing, so it passes even after a signature.
    same = client.get(url).json()
    assert _ok(client.put(url, same, format="json"))["title"] == "Renamed MSA"
    deleted = client.delete(url)
    assert deleted.status_code == 405 and "DELETE" not in deleted["Allow"]
    assert Contract.objects.get(pk=contract["id"]).title == "Renamed MSA"


def test_both_parties_sign_and_the_contract_becomes_active(personas, clients):
    p = personas
    contract = _work_order(clients["sponsor_a_admin"], p)
    early = clients["vendor_x_admin"].post(
        f"/api/v1/contracts/{contract['id']}/sign/", {"password": PASSWORD}, format="json"
    )
    assert (early.status_code, early.json()["detail"]) == (409, sig.SIGN_NOT_SENT)

    missing = clients["sponsor_a_admin"].post(f"/api/v1/contracts/{contract['id']}/sign/", {}, format="json")
    assert (missing.status_code, missing.json()) == (400, {"password": [sig.PASSWORD_REQUIRED]})
    wrong = _sign(clients["sponsor_a_admin"], contract["id"], password="not-my-password")
    assert (wrong.status_code, wrong.json()) == (400, {"password": [sig.WRONG_PASSWORD]})
    assert Signature.objects.count() == 0

    first = _ok(_sign(clients["sponsor_a_admin"], contract["id"]))
    assert first["state"] == "pending_signature"
    (signature,) = first["signatures"]
    assert (signature["side"], signature["meaning"], signature["meaning_label"]) == (
        "sponsor", "approved_as_sponsor", "Approved as sponsor",
    )  # fmt: skip
    assert signature["printed_name"] == p.sponsor_a_admin.get_full_name() or p.sponsor_a_admin.email
    assert signature["matches_content"] is True and len(signature["content_sha256"]) == 64

    twice = _sign(clients["sponsor_a_admin"], contract["id"])
    assert (twice.status_code, twice.json()["detail"]) == (409, sig.SIGN_TWICE)
    viewer = _sign(clients["vendor_x_viewer"], contract["id"])
    assert (viewer.status_code, viewer.json()["detail"]) == (403, VIEWER_READ_ONLY)

    done = _ok(_sign(clients["vendor_x_admin"], contract["id"]))
    assert done["state"] == "active" and done["activated_at"]
    assert [(s["side"], s["meaning"]) for s in done["signatures"]] == [
        ("sponsor", "approved_as_sponsor"), ("vendor", "accepted_as_vendor"),
    ]  # fmt: skip


def test_wrong_signing_passwords_lead_to_the_lock_out(personas, clients, settings):
    contract = _create(clients["sponsor_a_admin"], personas)
    statuses = [
        _sign(clients["sponsor_a_admin"], contract["id"], password="wrong").status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses[:-1] == [400] * (settings.AXES_FAILURE_LIMIT - 1)
    locked = _sign(clients["sponsor_a_admin"], contract["id"])  # even the right password, now
    assert (statuses[-1], locked.status_code, locked.json()["detail"]) == (429, 429, LOCKED_OUT)
    assert Signature.objects.count() == 0


def test_send_for_signature_complete_and_terminate_are_the_sponsors(personas, clients, active):
    p = personas
    draft = _create(clients["sponsor_a_admin"], p)
    url = f"/api/v1/contracts/{draft['id']}/"
    vendor = clients["vendor_x_admin"].post(f"{url}send-for-signature/", format="json")
    assert (vendor.status_code, vendor.json()["detail"]) == (403, ct.NOT_CONTRACT_SPONSOR)
    assert (
        _ok(clients["sponsor_a_admin"].post(f"{url}send-for-signature/", format="json"))["state"] == "pending_signature"
    )
    no_reason = clients["sponsor_a_admin"].post(f"{url}terminate/", {}, format="json")
    assert (no_reason.status_code, no_reason.json()) == (400, {"reason": [ct.TERMINATE_REASON_REQUIRED]})
    ended = _ok(clients["sponsor_a_admin"].post(f"{url}terminate/", {"reason": "Scope dropped"}, format="json"))
    assert ended["state"] == "terminated"
    again = clients["sponsor_a_admin"].post(f"{url}terminate/", {"reason": "Again"}, format="json")
    assert again.status_code == 409 and again.json()["detail"] == transition_refusal(
        Contract, "terminate", "terminated"
    )

    completed = clients["sponsor_a_admin"].post(f"/api/v1/contracts/{active.pk}/complete/", {}, format="json")
    assert _ok(completed)["state"] == "completed"


def test_a_contract_reads_the_same_for_both_parties_with_its_history(personas, clients, active):
    sponsor = _ok(clients["sponsor_a_admin"].get(f"/api/v1/contracts/{active.pk}/"))
    vendor = _ok(clients["vendor_x_viewer"].get(f"/api/v1/contracts/{active.pk}/"))
    assert sponsor == vendor
    history = _ok(clients["vendor_x_viewer"].get(f"/api/v1/contracts/{active.pk}/history/"))
    assert any("signature" in entry["changes"] for entry in history["results"])


# --- Milestones -----------------------------------------------------------------------------------------------


def test_milestone_journey_through_the_actions(personas, clients, active):
    milestone = _milestone(active)
    url = f"/api/v1/milestones/{milestone.pk}/"
    sponsor, vendor = clients["sponsor_a_admin"], clients["vendor_x_admin"]

    wrong_side = sponsor.post(f"{url}start/", format="json")
    assert (wrong_side.status_code, wrong_side.json()["detail"]) == (403, ct.NOT_CONTRACT_VENDOR)
    assert _ok(vendor.post(f"{url}start/", format="json"))["state"] == "in_progress"
    early = sponsor.post(f"{url}accept/", {}, format="json")
    assert (early.status_code, early.json()["detail"]) == (409, transition_refusal(Milestone, "accept", "in_progress"))
    submitted = _ok(vendor.post(f"{url}submit/", {"comment": "Evidence uploaded"}, format="json"))
    assert submitted["state"] == "submitted" and submitted["submitted_at"]

    own = vendor.post(f"{url}accept/", {}, format="json")
    assert (own.status_code, own.json()["detail"]) == (403, ct.NOT_CONTRACT_SPONSOR)
    no_reason = sponsor.post(f"{url}reject/", {}, format="json")
    assert (no_reason.status_code, no_reason.json()) == (400, {"reason": [ms.MILESTONE_REJECT_REASON_REQUIRED]})
    rejected = _ok(sponsor.post(f"{url}reject/", {"reason": "Monitoring report missing"}, format="json"))
    assert (rejected["state"], rejected["decision_comment"]) == ("rejected", "Monitoring report missing")

    _ok(vendor.post(f"{url}start/", format="json"))
    _ok(vendor.post(f"{url}submit/", {}, format="json"))
    accepted = _ok(sponsor.post(f"{url}accept/", {"comment": "Complete"}, format="json"))
    assert (accepted["state"], accepted["decision_comment"]) == ("accepted", "Complete")
    assert accepted["decided_by"] == (personas.sponsor_a_admin.get_full_name() or personas.sponsor_a_admin.email)
    assert (accepted["amount"], accepted["currency"], accepted["overdue"]) == ("40000.00", "EUR", False)
    history = _ok(clients["vendor_x_viewer"].get(f"{url}history/"))
    assert [entry["changes"]["state"][1] for entry in history["results"] if "state" in entry["changes"]][:1] == [
        "accepted"
    ]


def test_milestone_list_filters(personas, clients, active):
    late = MilestoneFactory(contract=active, name="Late", due_date=TODAY - timedelta(days=3))
    MilestoneFactory(contract=active, name="Done", due_date=TODAY - timedelta(days=3), state="accepted")
    client = clients["vendor_x_admin"]
    rows = _ok(client.get(f"/api/v1/milestones/?contract={active.pk}&ordering=due_date"))["results"]
    assert [row["name"] for row in rows] == ["Late", "Done", "Site initiation", "Last patient out"]
    overdue = _ok(client.get("/api/v1/milestones/?overdue=true"))["results"]
    assert [(row["id"], row["overdue"], row["slippage_days"]) for row in overdue] == [(late.pk, True, 0)]
    planned = _ok(client.get("/api/v1/milestones/?state=accepted"))["results"]
    assert [row["name"] for row in planned] == ["Done"]
    assert _ok(clients["vendor_y_admin"].get(f"/api/v1/milestones/?contract={active.pk}"), 400)["contract"]


# --- Change orders --------------------------------------------------------------------------------------------


def test_change_order_proposed_by_the_vendor_approved_by_the_sponsor_with_a_signature(personas, clients, active):
    sponsor, vendor = clients["sponsor_a_admin"], clients["vendor_x_admin"]
    body = {
        "contract": active.pk, "reason": "Two more sites", "value_delta": "25000.00", "new_end": days(400),
        "items": [{"action": "add", "name": "Extra sites", "due_date": days(300), "amount": "25000.00"},
                  {"action": "change", "milestone": _milestone(active, "Last patient out").pk, "due_date": days(320)}],
    }  # fmt: skip
    proposed = _ok(vendor.post("/api/v1/change-orders/", body, format="json"), 201)
    assert (proposed["state"], proposed["sequence"], proposed["proposed_by_side"], proposed["currency"]) == (
        "proposed", 1, "vendor", "EUR",
    )  # fmt: skip
    assert [(item["action"], item["name"]) for item in proposed["items"]] == [("add", "Extra sites"), ("change", "")]
    url = f"/api/v1/change-orders/{proposed['id']}/"

    own = vendor.post(f"{url}approve/", {"password": PASSWORD}, format="json")
    assert (own.status_code, own.json()["detail"]) == (403, co.CO_OWN_SIDE)
    wrong = sponsor.post(f"{url}approve/", {"password": "nope"}, format="json")
    assert (wrong.status_code, wrong.json()) == (400, {"password": [sig.WRONG_PASSWORD]})
    assert ChangeOrder.objects.get(pk=proposed["id"]).state == "proposed"

    approved = _ok(sponsor.post(f"{url}approve/", {"password": PASSWORD}, format="json"))
    assert (approved["state"], approved["budget_before"], approved["budget_after"]) == (
        "approved", "100000.00", "125000.00",
    )  # fmt: skip
    assert [s["meaning"] for s in approved["signatures"]] == ["change_approved_as_sponsor"]
    contract = _ok(sponsor.get(f"/api/v1/contracts/{active.pk}/"))
    assert (contract["budget"], contract["value"], contract["end"]) == ("125000.00", "100000.00", days(400))
    assert [s["matches_content"] for s in contract["signatures"] if s["change_order"] is None] == [False, False]
    assert active.milestones.filter(name="Extra sites", due_date=days(300)).exists()
    again = sponsor.post(f"{url}approve/", {"password": PASSWORD}, format="json")
    assert again.status_code == 409


def test_change_order_refusals(personas, clients, active):
    sponsor, vendor = clients["sponsor_a_admin"], clients["vendor_x_admin"]
    before = ChangeOrder.objects.count()
    negative = vendor.post(
        "/api/v1/change-orders/", {"contract": active.pk, "reason": "Cut", "value_delta": "-100000.01"}, format="json"
    )
    assert negative.status_code == 400
    assert negative.json()["value_delta"] == [co.CO_VALUE_NEGATIVE.format(after=ct.money_text(Decimal("-0.01"), "EUR"))]
    empty = vendor.post("/api/v1/change-orders/", {"contract": active.pk, "reason": "Nothing"}, format="json")
    assert empty.json() == {"non_field_errors": [co.CO_EMPTY]}
    no_reason = vendor.post(
        "/api/v1/change-orders/", {"contract": active.pk, "reason": "", "value_delta": "5.00"}, format="json"
    )
    assert no_reason.json()["reason"] == [co.CO_REASON_REQUIRED]
    assert ChangeOrder.objects.count() == before

    proposed = _ok(sponsor.post("/api/v1/change-orders/", {"contract": active.pk, "reason": "Trim", "value_delta": "-5000.00"},
                                format="json"), 201)  # fmt: skip
    url = f"/api/v1/change-orders/{proposed['id']}/"
    other = vendor.post(f"{url}withdraw/", {}, format="json")
    assert (other.status_code, other.json()["detail"]) == (403, co.CO_WITHDRAW_OTHER_SIDE)
    unexplained = vendor.post(f"{url}reject/", {}, format="json")
    assert (unexplained.status_code, unexplained.json()) == (400, {"reason": [co.CO_REJECT_REASON_REQUIRED]})
    assert _ok(sponsor.post(f"{url}withdraw/", {"reason": "Not needed"}, format="json"))["state"] == "withdrawn"
    late = vendor.post(f"{url}reject/", {"reason": "Too late"}, format="json")
    assert late.status_code == 409 and late.json()["detail"] == transition_refusal(ChangeOrder, "reject", "withdrawn")


# --- Invoices -------------------------------------------------------------------------------------------------


def _invoice_body(contract, milestone=None, **extra) -> dict:
    body = {"contract": contract.pk, "number": "INV-001", "issued_on": TODAY.isoformat(), "amount": "40000.00",
            "currency": "EUR", "milestone": milestone.pk if milestone else None}  # fmt: skip
    body.update(extra)
    return body


def test_invoice_for_an_accepted_milestone_submitted_approved_paid(personas, clients, active):
    sponsor, vendor = clients["sponsor_a_admin"], clients["vendor_x_admin"]
    milestone = _accepted(personas, _milestone(active))
    sponsors_own = sponsor.post("/api/v1/invoices/", _invoice_body(active, milestone), format="json")
    assert (sponsors_own.status_code, sponsors_own.json()["detail"]) == (403, ct.NOT_CONTRACT_VENDOR)
    invoice = _ok(vendor.post("/api/v1/invoices/", _invoice_body(active, milestone), format="json"), 201)
    assert (invoice["state"], invoice["vendor"], invoice["milestone_name"], invoice["amount"]) == (
        "submitted", personas.vendor_x.pk, "Site initiation", "40000.00",
    )  # fmt: skip
    url = f"/api/v1/invoices/{invoice['id']}/"

    own = vendor.post(f"{url}approve/", {}, format="json")
    assert (own.status_code, own.json()["detail"]) == (403, ct.NOT_CONTRACT_SPONSOR)
    unpaid = sponsor.post(f"{url}mark-paid/", format="json")
    assert unpaid.status_code == 409 and unpaid.json()["detail"] == transition_refusal(
        Invoice, "mark_paid", "submitted"
    )
    approved = _ok(sponsor.post(f"{url}approve/", {}, format="json"))
    assert (approved["state"], approved["warnings"], approved["approved_by"]) == (
        "approved", [], personas.sponsor_a_admin.get_full_name() or personas.sponsor_a_admin.email,
    )  # fmt: skip
    paid = _ok(sponsor.post(f"{url}mark-paid/", format="json"))
    assert paid["state"] == "paid" and paid["paid_at"]
    contract = _ok(vendor.get(f"/api/v1/contracts/{active.pk}/"))
    assert (contract["invoiced"], contract["paid"], contract["remaining"], contract["burn_percent"]) == (
        "40000.00", "40000.00", "60000.00", "40.0",
    )  # fmt: skip
    listed = _ok(vendor.get(f"/api/v1/invoices/?contract={active.pk}&state=paid"))["results"]
    assert [row["number"] for row in listed] == ["INV-001"]


def test_bad_invoices_are_400s_with_the_field_and_nothing_is_written(personas, clients, active):
    vendor = clients["vendor_x_admin"]
    site, last = _milestone(active), _milestone(active, "Last patient out")
    _accepted(personas, site)
    _ok(vendor.post("/api/v1/invoices/", _invoice_body(active, site), format="json"), 201)
    before = Invoice.objects.count()
    cases = [
        (_invoice_body(active, currency="USD", number="INV-2"), "currency",
         inv.INVOICE_WRONG_CURRENCY.format(contract="EUR", given="USD")),
        (_invoice_body(active, number="INV-001"), "number", inv.INVOICE_NUMBER_TAKEN),
        (_invoice_body(active, last, number="INV-3"), "milestone",
         inv.INVOICE_MILESTONE_NOT_ACCEPTED.format(name="Last patient out", state="planned")),
        (_invoice_body(active, site, number="INV-4"), "milestone",
         inv.INVOICE_MILESTONE_BILLED.format(name="Site initiation", number="INV-001")),
        (_invoice_body(active, number="INV-5", amount="0.00"), "amount", inv.INVOICE_AMOUNT_POSITIVE),
        (_invoice_body(active, number="INV-6", issued_on=days(2)), "issued_on", inv.INVOICE_ISSUED_FUTURE),
    ]  # fmt: skip
    for body, field, message in cases:
        response = vendor.post("/api/v1/invoices/", body, format="json")
        assert (response.status_code, response.json().get(field)) == (400, [message]), field
    assert Invoice.objects.count() == before


def test_over_budget_approval_needs_an_admins_override_reason(personas, clients, active):
    p, sponsor, vendor = personas, clients["sponsor_a_admin"], clients["vendor_x_admin"]
    over = _ok(vendor.post("/api/v1/invoices/", _invoice_body(active, amount="100000.01"), format="json"), 201)
    url = f"/api/v1/invoices/{over['id']}/approve/"
    refused = sponsor.post(url, {}, format="json")
    assert refused.status_code == 409 and "100,000.01 EUR" in refused.json()["detail"]
    member = UserFactory(email="a-member@a.test", sponsor=p.sponsor_a, role="member")
    from rest_framework.test import APIClient

    from accounts.services import api_token_create

    member_client = APIClient()
    member_client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=member)[1]}")
    not_admin = member_client.post(url, {"override_reason": "Agreed by phone"}, format="json")
    assert (not_admin.status_code, not_admin.json()["detail"]) == (403, inv.INVOICE_OVERRIDE_ADMIN_ONLY)
    assert Contract.objects.get(pk=active.pk).invoiced == 0

    approved = _ok(sponsor.post(url, {"override_reason": "Extra visits agreed"}, format="json"))
    assert (approved["state"], approved["override_reason"]) == ("approved", "Extra visits agreed")
    contract = _ok(sponsor.get(f"/api/v1/contracts/{active.pk}/"))
    assert (contract["remaining"], contract["burn_percent"]) == ("-0.01", "100.0")
    assert _ok(sponsor.get("/api/v1/contracts/?over_budget=true"))["count"] == 1


def test_invoice_reject_needs_a_reason(personas, clients, active):
    invoice = _ok(clients["vendor_x_admin"].post("/api/v1/invoices/", _invoice_body(active), format="json"), 201)
    url = f"/api/v1/invoices/{invoice['id']}/reject/"
    empty = clients["sponsor_a_admin"].post(url, {"reason": "  "}, format="json")
    assert (empty.status_code, empty.json()) == (400, {"reason": [inv.INVOICE_REJECT_REASON_REQUIRED]})
    rejected = _ok(clients["sponsor_a_admin"].post(url, {"reason": "Wrong PO number"}, format="json"))
    assert (rejected["state"], rejected["rejection_reason"]) == ("rejected", "Wrong PO number")


# --- Out of reach ---------------------------------------------------------------------------------------------


def test_vendor_y_and_sponsor_b_get_404_on_all_of_it(personas, clients, active):
    milestone = _milestone(active)
    change_order = co.change_order_propose(actor=personas.vendor_x_admin, contract=active, reason="More", value_delta=1)
    invoice = inv.invoice_submit(actor=personas.vendor_x_admin, contract=active, number="INV-9", issued_on=TODAY,
                                 amount=Decimal("10.00"), currency="EUR")  # fmt: skip
    urls = [
        f"/api/v1/contracts/{active.pk}/", f"/api/v1/milestones/{milestone.pk}/",
        f"/api/v1/change-orders/{change_order.pk}/", f"/api/v1/invoices/{invoice.pk}/",
    ]  # fmt: skip
    posts = ["contracts/{}/sign/", "milestones/{}/start/", "change-orders/{}/approve/", "invoices/{}/approve/"]
    for persona in ("vendor_y_admin", "sponsor_b_admin"):
        client, answers, bodies = clients[persona], [], []
        for url in urls:
            for response in (client.get(url), client.get(f"{url}history/")):
                answers.append(response.status_code)
                bodies.append(response.content.decode())
        for path, pk in zip(posts, [active.pk, milestone.pk, change_order.pk, invoice.pk], strict=True):
            response = client.post(f"/api/v1/{path.format(pk)}", {"password": PASSWORD}, format="json")
            answers.append(response.status_code)
            bodies.append(response.content.decode())
        assert set(answers) == {404}, (persona, answers)
        assert not [body for body in bodies if active.number in body or "Phase II" in body or "INV-9" in body]
        for resource in ("contracts", "milestones", "change-orders", "invoices"):
            assert _ok(client.get(f"/api/v1/{resource}/"))["results"] == [], (persona, resource)
        proposed = client.post(
            "/api/v1/change-orders/", {"contract": active.pk, "reason": "x", "value_delta": "1"}, format="json"
        )
        assert proposed.status_code == 400 and "does not exist" in proposed.json()["contract"][0]
    assert ChangeOrder.objects.count() == 1 and Signature.objects.filter(contract=active).count() == 2


# --- The list: constant queries, figures ------------------------------------------------------------------------


def _portfolio(p, n: int) -> None:
    """``n`` contracts of sponsor A, each with 6 milestones, 3 invoices and an approved change order."""
    for i in range(n):
        contract = ContractFactory(sponsor=p.sponsor_a, vendor=VendorFactory(), program=p.program_a, state="active",
                                   parent=None, kind="msa", value=Decimal("60000.00"))  # fmt: skip
        milestones = [
            MilestoneFactory(contract=contract, amount=Decimal("10000.00"), state="accepted") for _ in range(6)
        ]
        for j, milestone in enumerate(milestones[:3]):
            Invoice.objects.create(contract=contract, vendor=contract.vendor, milestone=milestone, number=f"P{i}-{j}",
                                   issued_on=TODAY, amount=milestone.amount, currency="EUR", state="approved")  # fmt: skip
        ChangeOrder.objects.create(contract=contract, sequence=1, proposed_by_side="vendor", reason="More",
                                   value_delta=Decimal("1.00"), state="approved")  # fmt: skip


def _list_queries(client, query="") -> tuple[int, dict]:
    client.get("/api/v1/contracts/?page_size=1")  # the token's last use is written at most every 5 minutes
    with CaptureQueriesContext(connection) as captured:
        body = _ok(client.get(f"/api/v1/contracts/{query}"))
    return len(captured.captured_queries), body


@pytest.mark.parametrize("query", ["", "?ordering=-burn&overdue=false&state=active", "?over_budget=false&ordering=end"])
def test_the_contract_list_costs_the_same_queries_for_2_or_20_contracts(personas, clients, query):
    client = clients["sponsor_a_viewer"]
    _portfolio(personas, 2)
    small, body = _list_queries(client, query)
    assert body["count"] == 2
    _portfolio(personas, 18)
    large, body = _list_queries(client, query)
    assert (body["count"], len(body["results"])) == (20, 20)
    assert large == small


def test_the_contract_list_shows_the_figures_and_the_next_milestone(personas, clients, active):
    MilestoneFactory(contract=active, name="Overdue report", due_date=TODAY - timedelta(days=2))
    ContractFactory(sponsor=personas.sponsor_a, vendor=personas.vendor_y, title="Other QZ", start=TODAY - timedelta(days=400),
                    end=TODAY - timedelta(days=10))  # fmt: skip
    rows = _ok(clients["sponsor_a_viewer"].get("/api/v1/contracts/?ordering=end"))["results"]
    by_title = {row["title"]: row for row in rows}
    wo = by_title["Phase II monitoring"]
    assert wo["next_milestone"]["name"] == "Overdue report" and wo["next_milestone"]["overdue"] is True
    assert set(wo) == set(ContractViewSet.serializer_class().fields) - {
        "notes",
        "source_proposal",
        "activated_at",
        "signatures",
        "activities",
        "milestones",
    }
    ended = by_title["Other QZ"]
    assert (ended["time_elapsed_percent"], ended["next_milestone"], ended["program"], ended["program_name"]) == (
        "100.0", None, None, None,
    )  # fmt: skip
    assert rows[0]["title"] == "Other QZ"  # ordering=end: the one that ended first
    overdue = _ok(clients["sponsor_a_viewer"].get("/api/v1/contracts/?overdue=true"))["results"]
    assert [row["title"] for row in overdue] == ["Phase II monitoring"]
    vendor_rows = _ok(clients["vendor_x_viewer"].get("/api/v1/contracts/"))["results"]
    assert {row["title"] for row in vendor_rows} == {"Phase II monitoring", "Master agreement"}
