"""Contract execution services: contracts, signatures, milestones, change orders, invoices and budget —
every rule and message, the journey of issue 9, the lock-out counting of signing passwords, and who sees
the new records (``for_user``).

Refusals check that nothing was half-written: the rows and history entries before and after are equal.
"""

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.utils import timezone

from audit.models import Action, HistoryEntry
from contracts import budget
from contracts.models import (
    ChangeOrder,
    ChangeOrderItem,
    Contract,
    ContractActivity,
    Invoice,
    Milestone,
    Signature,
)
from contracts.services import change_orders as co
from contracts.services import contracts as ct
from contracts.services import invoices as inv
from contracts.services import milestones as ms
from contracts.services import signatures as sig
from cro_cmo.services import TransitionError
from notifications.models import OutboxEvent
from tests.conftest import PASSWORD, PERSONA_NAMES
from tests.factories import ContractFactory, MilestoneFactory, ProgramFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
START = TODAY - timedelta(days=30)
END = TODAY + timedelta(days=335)
SPONSOR_A = {"sponsor_a_admin", "sponsor_a_viewer"}
VENDOR_X = {"vendor_x_admin", "vendor_x_viewer"}
LOCKED_OUT_PAGE = "Too many failed sign-in attempts"


def request_from(ip="127.0.0.1"):
    """The request a password arrives with (the lock-out counts per account and client address)."""
    return RequestFactory().post("/contracts/1/sign/", REMOTE_ADDR=ip)


def days(n):
    return TODAY + timedelta(days=n)


def snapshot():
    """Rows of every contract-execution table, history entries and outbox events: equal before and after
    a refusal means nothing was half-written."""
    models = [Contract, Milestone, Signature, ContractActivity, ChangeOrder, ChangeOrderItem, Invoice]
    counts = {model.__name__: model.objects.count() for model in models}
    counts["history"] = HistoryEntry.objects.count()
    counts["events"] = OutboxEvent.objects.count()
    counts["figures"] = list(Contract.objects.order_by("pk").values_list("budget", "invoiced", "paid", "end", "state"))
    counts["milestones"] = list(Milestone.objects.order_by("pk").values_list("name", "due_date", "amount", "state"))
    return counts


def events(event_type):
    return list(OutboxEvent.objects.filter(event_type=event_type).order_by("id"))


def entries(obj, action=None):
    rows = HistoryEntry.objects.for_object(obj).order_by("id")
    return list(rows.filter(action=action) if action else rows)


def msa(p, **data):
    fields = {
        "kind": "msa", "vendor": p.vendor_x, "program": p.program_a, "title": "Master agreement",
        "value": Decimal("0.00"), "currency": "EUR", "start": START, "end": END,
    }  # fmt: skip
    fields.update(data)
    return ct.contract_create(actor=p.sponsor_a_admin, data=fields)


MILESTONES = [
    {"name": "Site initiation", "due_date": days(20), "amount": Decimal("40000.00")},
    {"name": "Last patient out", "due_date": days(200), "amount": Decimal("60000.00")},
]


def work_order(p, parent=None, milestones=MILESTONES, activities=(), **data):
    parent = parent or msa(p)
    fields = {
        "kind": "work-order", "vendor": p.vendor_x, "program": p.program_a, "parent": parent,
        "title": "Phase II monitoring", "value": Decimal("100000.00"), "currency": "EUR", "start": START, "end": END,
    }  # fmt: skip
    fields.update(data)
    return ct.contract_create(actor=p.sponsor_a_admin, data=fields, milestones=milestones, activities=activities)


def sign(user, contract, password=PASSWORD, ip="127.0.0.1"):
    return sig.contract_sign(actor=user, contract=contract, password=password, request=request_from(ip))


def signed(p, contract):
    """Both parties sign: the contract is active."""
    sign(p.sponsor_a_admin, contract)
    sign(p.vendor_x_admin, contract)
    contract.refresh_from_db()
    assert contract.state == "active"
    return contract


def active_work_order(p, **kwargs):
    return signed(p, work_order(p, **kwargs))


def accepted(p, milestone):
    ms.milestone_start(actor=p.vendor_x_admin, milestone=milestone)
    ms.milestone_submit(actor=p.vendor_x_admin, milestone=milestone)
    return ms.milestone_accept(actor=p.sponsor_a_admin, milestone=milestone)


def submit_invoice(p, contract=None, **overrides):
    kwargs = {
        "actor": p.vendor_x_admin, "contract": contract, "number": "INV-001", "issued_on": TODAY,
        "amount": Decimal("40000.00"), "currency": "EUR",
    }  # fmt: skip
    kwargs.update(overrides)
    return inv.invoice_submit(**kwargs)


def first(contract, name="Site initiation"):
    return contract.milestones.get(name=name)


# --- Contracts: create -------------------------------------------------------------------------------------


def test_contract_create_makes_a_numbered_draft_of_the_actors_sponsor(personas):
    p = personas
    contract = msa(p, value=Decimal("250000.00"))
    assert (contract.sponsor, contract.vendor, contract.kind, contract.state) == (
        p.sponsor_a,
        p.vendor_x,
        "msa",
        "draft",
    )
    assert contract.number == "MSA-00001" and contract.sequence == 1
    assert contract.budget == Decimal("250000.00") and contract.invoiced == 0 and contract.paid == 0
    [created] = entries(contract, Action.CREATED)
    assert created.actor == p.sponsor_a_admin
    wo = work_order(p, parent=contract)
    assert wo.number == "WO-00002" and wo.parent == contract
    assert [
        (m.name, m.baseline_due_date, m.due_date, m.amount, m.state) for m in wo.milestones.order_by("position")
    ] == [
        ("Site initiation", days(20), days(20), Decimal("40000.00"), "planned"),
        ("Last patient out", days(200), days(200), Decimal("60000.00"), "planned"),
    ]
    assert msa(p, vendor=p.vendor_y).number == "MSA-00003"


def test_a_number_typed_by_hand_is_skipped_by_the_generator(personas):
    p = personas
    typed = msa(p, number="MSA-00002")
    assert typed.number == "MSA-00002" and typed.sequence == 1
    assert msa(p).number == "MSA-00003"


def test_a_quality_agreement_and_a_cda_are_made_with_the_right_vendors(personas):
    p = personas  # vendor Y is a CMO
    qa = ct.contract_create(
        actor=p.sponsor_a_admin,
        data={"kind": "quality-agreement", "vendor": p.vendor_y, "title": "GMP quality agreement",
              "value": Decimal("0"), "currency": "EUR", "start": START, "end": END},
    )  # fmt: skip
    assert qa.number == "QA-00001" and qa.program is None
    cda = msa(p, kind="cda", title="Confidentiality")
    assert cda.number == "CDA-00002"


def bad_create_cases():
    return [
        ("end before start", {"start": days(10), "end": days(5)}, "end", ct.END_NOT_AFTER_START),
        ("end on start", {"start": days(10), "end": days(10)}, "end", ct.END_NOT_AFTER_START),
        ("parent MSA of another vendor", {"parent": "msa_of_y"}, "parent", ct.PARENT_OTHER_PARTIES),
        ("parent MSA of another sponsor", {"parent": "msa_of_b"}, "parent", ct.PARENT_OTHER_PARTIES),
        ("parent that is a work order", {"parent": "work_order"}, "parent", ct.PARENT_OTHER_PARTIES),
        ("parent terminated", {"parent": "terminated_msa"}, "parent", ct.PARENT_NOT_IN_FORCE.format(state="terminated")),
        ("no parent", {"parent": None}, "parent", ct.PARENT_REQUIRED),
        ("programme of another sponsor", {"program": "program_b"}, "program", ct.PROGRAM_OF_OTHER_SPONSOR),
        ("quality agreement with a CRO", {"kind": "quality-agreement", "parent": None}, "vendor",
         ct.QUALITY_AGREEMENT_NEEDS_CMO.format(vendor="Vendor X", kind="CRO")),
        ("MSA with a parent", {"kind": "msa"}, "parent", ct.PARENT_ONLY_FOR_WORK_ORDERS),
        ("stand-alone by hand", {"kind": "standalone"}, "kind", ct.KIND_BY_AWARD_ONLY),
        ("unknown kind", {"kind": "lease"}, "kind", ct.KIND_UNKNOWN),
        ("number taken", {"number": "MSA-00001"}, "number", ct.NUMBER_TAKEN),
        ("negative value", {"value": Decimal("-1.00")}, "value", "Ensure this value is greater than or equal to 0."),
        ("no title", {"title": ""}, "title", "This field cannot be blank."),
    ]  # fmt: skip


@pytest.mark.parametrize("case,overrides,field,message", bad_create_cases(), ids=[c[0] for c in bad_create_cases()])
def test_contract_create_refuses_bad_input_and_writes_nothing(personas, case, overrides, field, message):
    p = personas
    parent = msa(p)
    others = {
        "msa_of_y": ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_y, kind="msa"),
        "msa_of_b": ContractFactory(sponsor=p.sponsor_b, vendor=p.vendor_x, kind="msa"),
        "work_order": ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, kind="work-order", parent=parent),
        "terminated_msa": ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, kind="msa", state="terminated"),
        "program_b": p.program_b,
    }
    data = {
        "kind": "work-order", "vendor": p.vendor_x, "program": p.program_a, "parent": parent, "title": "WO",
        "value": Decimal("1000.00"), "currency": "EUR", "start": START, "end": END,
    }  # fmt: skip
    data.update(
        {key: others.get(value, value) if isinstance(value, str) else value for key, value in overrides.items()}
    )
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        ct.contract_create(actor=p.sponsor_a_admin, data=data)
    assert message in refused.value.message_dict[field]
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["sponsor_a_viewer", "vendor_x_admin", "vendor_x_viewer", "staff"])
def test_only_a_sponsors_member_or_admin_creates_a_contract(personas, persona):
    p = personas
    data = {
        "kind": "msa",
        "vendor": p.vendor_x,
        "title": "T",
        "value": 1,
        "currency": "EUR",
        "start": START,
        "end": END,
    }
    before = snapshot()
    with pytest.raises(PermissionDenied) as refused:
        ct.contract_create(actor=getattr(p, persona), data=data)
    assert str(refused.value) == ct.CONTRACT_CREATE_SPONSOR_ONLY
    assert snapshot() == before


def test_contract_milestones_with_problems_are_refused_one_message_each(personas):
    p = personas
    parent = ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, kind="msa")
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        work_order(p, parent=parent, milestones=[
            {"name": "", "due_date": days(3), "amount": Decimal("1")},
            {"name": "Report", "due_date": None, "amount": Decimal("-1")},
        ])  # fmt: skip
    assert refused.value.message_dict["milestones"] == [
        f"Milestone 1: {ct.MILESTONE_NAME_REQUIRED}",
        f"Milestone 2: {ct.MILESTONE_DUE_REQUIRED}",
        f"Milestone 2: {ct.MILESTONE_AMOUNT_REQUIRED}",
    ]
    assert snapshot() == before


# --- Contracts: update, activities, states ----------------------------------------------------------------


def test_terms_change_freely_until_the_first_signature_then_only_by_change_order(personas):
    p = personas
    contract = work_order(p)
    updated = ct.contract_update(
        actor=p.sponsor_a_admin, contract=contract, data={"value": Decimal("120000.00"), "number": "WO-A-7"},
        milestones=[{"name": "Only one", "due_date": days(50), "amount": Decimal("120000.00")}],
    )  # fmt: skip
    assert (updated.value, updated.budget, updated.number) == (Decimal("120000.00"), Decimal("120000.00"), "WO-A-7")
    assert list(updated.milestones.values_list("name", flat=True)) == ["Only one"]
    [changed] = entries(updated, Action.CHANGED)
    assert changed.changes["value"] == ["100000.00", "120000.00"] and changed.actor == p.sponsor_a_admin

    sign(p.sponsor_a_admin, contract)
    before = snapshot()
    with pytest.raises(TransitionError) as refused:
        ct.contract_update(actor=p.sponsor_a_admin, contract=contract, data={"end": days(400), "title": "Phase II"})
    assert str(refused.value) == ct.SIGNED_TERMS_ONLY_BY_CHANGE_ORDER.format(fields="title, end")
    with pytest.raises(TransitionError):
        ct.contract_update(actor=p.sponsor_a_admin, contract=contract, data={}, milestones=[])
    assert snapshot() == before
    # Bookkeeping is not a term: the sponsor keeps it current, and an unchanged term is not a change.
    program = ProgramFactory(sponsor=p.sponsor_a, code="A-2")
    ct.contract_update(
        actor=p.sponsor_a_admin, contract=contract, data={"notes": "Kick-off moved", "program": program, "end": END}
    )
    contract.refresh_from_db()
    assert (contract.notes, contract.program, contract.end) == ("Kick-off moved", program, END)


def test_contract_update_refusals(personas):
    p = personas
    contract = work_order(p)
    with pytest.raises(PermissionDenied) as refused:
        ct.contract_update(actor=p.vendor_x_admin, contract=contract, data={"title": "Ours"})
    assert str(refused.value) == ct.NOT_CONTRACT_SPONSOR
    with pytest.raises(ValidationError) as refused:
        ct.contract_update(actor=p.sponsor_a_admin, contract=contract, data={"end": START})
    assert refused.value.message_dict["end"] == [ct.END_NOT_AFTER_START]
    Contract.objects.filter(pk=contract.pk).update(state="completed")
    with pytest.raises(TransitionError) as refused:
        ct.contract_update(actor=p.sponsor_a_admin, contract=contract, data={"notes": "x"})
    assert str(refused.value) == ct.CONTRACT_CLOSED.format(state="completed")
    assert Contract.objects.get(pk=contract.pk).title == "Phase II monitoring"


def test_transferred_activities_register_of_a_work_order(personas):
    p = personas
    contract = work_order(p, activities=[{"activity": "site_management", "detail": "All EU sites"}])
    assert [(a.activity, a.detail) for a in contract.activities.all()] == [("site_management", "All EU sites")]
    register = ct.contract_activities_set(
        actor=p.sponsor_a_admin, contract=contract,
        entries=[{"activity": "site_management", "detail": "EU and UK sites"}, {"activity": "data_management"}],
    )  # fmt: skip
    assert [(a.activity, a.detail) for a in register] == [
        ("data_management", ""),
        ("site_management", "EU and UK sites"),
    ]
    site = contract.activities.get(activity="site_management")
    assert entries(site, Action.CHANGED)[0].changes == {"detail": ["All EU sites", "EU and UK sites"]}
    ct.contract_activities_set(actor=p.sponsor_a_admin, contract=contract, entries=[{"activity": "data_management"}])
    assert list(contract.activities.values_list("activity", flat=True)) == ["data_management"]
    assert entries(site, Action.DELETED)

    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        ct.contract_activities_set(
            actor=p.sponsor_a_admin, contract=contract,
            entries=[{"activity": "astrology"}, {"activity": "biostatistics"}, {"activity": "biostatistics"}],
        )  # fmt: skip
    assert refused.value.message_dict["activities"] == [
        f"Activity 1: {ct.ACTIVITY_UNKNOWN}",
        f"Activity 3: {ct.ACTIVITY_TWICE.format(activity='Biostatistics and analysis')}",
    ]
    with pytest.raises(ValidationError) as refused:
        ct.contract_activities_set(actor=p.sponsor_a_admin, contract=contract.parent, entries=[])
    assert refused.value.message_dict["activities"] == [ct.ACTIVITIES_ONLY_WORK_ORDERS]
    with pytest.raises(PermissionDenied):
        ct.contract_activities_set(actor=p.vendor_x_admin, contract=contract, entries=[])
    sign(p.sponsor_a_admin, contract)
    before = snapshot()
    with pytest.raises(TransitionError) as refused:
        ct.contract_activities_set(actor=p.sponsor_a_admin, contract=contract, entries=[])
    assert str(refused.value) == ct.ACTIVITIES_SIGNED
    assert snapshot() == before


def test_send_for_signature_complete_and_terminate(personas):
    p = personas
    contract = work_order(p)
    ct.contract_send_for_signature(actor=p.sponsor_a_admin, contract=contract)
    contract.refresh_from_db()
    assert contract.state == "pending_signature"
    [sent] = events("contract_sent_for_signature")
    assert sent.vendor == p.vendor_x and sent.sponsor is None and contract.number in sent.title
    with pytest.raises(TransitionError) as refused:
        ct.contract_send_for_signature(actor=p.sponsor_a_admin, contract=contract)
    assert str(refused.value) == "This contract is pending signature: only a draft contract can be sent for signature."
    signed(p, contract)
    co.change_order_propose(actor=p.vendor_x_admin, contract=contract, reason="More sites", value_delta="1000")
    with pytest.raises(TransitionError) as refused:
        ct.contract_complete(actor=p.sponsor_a_admin, contract=contract)
    assert str(refused.value) == ct.COMPLETE_PENDING_CHANGE_ORDERS
    with pytest.raises(ValidationError) as refused:
        ct.contract_terminate(actor=p.sponsor_a_admin, contract=contract, reason="  ")
    assert refused.value.message_dict["reason"] == [ct.TERMINATE_REASON_REQUIRED]
    with pytest.raises(PermissionDenied):
        ct.contract_terminate(actor=p.vendor_x_admin, contract=contract, reason="We stop")
    ct.contract_terminate(actor=p.sponsor_a_admin, contract=contract, reason="Programme stopped")
    contract.refresh_from_db()
    assert contract.state == "terminated"
    [terminated] = events("contract_terminated")
    assert terminated.vendor == p.vendor_x and terminated.body == "Programme stopped"
    assert entries(contract, Action.TRANSITION)[-1].reason == "Programme stopped"

    other = signed(p, work_order(p, parent=contract.parent))
    ct.contract_complete(actor=p.sponsor_a_admin, contract=other, reason="All delivered")
    other.refresh_from_db()
    assert other.state == "completed"


# --- Signatures ---------------------------------------------------------------------------------------------


def test_signed_content_and_its_hash_are_canonical(personas):
    p = personas
    contract = work_order(p, activities=[{"activity": "data_management", "detail": "EDC build"}])
    content = sig.signed_content(contract)
    assert content == {
        "number": "WO-00002", "title": "Phase II monitoring", "kind": "work-order",
        "parties": {"sponsor": p.sponsor_a.pk, "vendor": p.vendor_x.pk}, "parent": "MSA-00001",
        "value": "100000.00", "budget": "100000.00", "currency": "EUR",
        "start": START.isoformat(), "end": END.isoformat(),
        "milestones": [
            {"name": "Site initiation", "due_date": days(20).isoformat(), "amount": "40000.00"},
            {"name": "Last patient out", "due_date": days(200).isoformat(), "amount": "60000.00"},
        ],
        "activities": [{"activity": "data_management", "detail": "EDC build"}],
    }  # fmt: skip
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert sig.content_sha256(contract) == hashlib.sha256(canonical.encode()).hexdigest()
    # Renaming a party voids nothing; a term does.
    p.vendor_x.name = "Vendor X Holdings"
    p.vendor_x.save()
    assert sig.content_sha256(Contract.objects.get(pk=contract.pk)) == hashlib.sha256(canonical.encode()).hexdigest()
    ct.contract_update(actor=p.sponsor_a_admin, contract=contract, data={"value": Decimal("100000.01")})
    assert sig.content_sha256(Contract.objects.get(pk=contract.pk)) != hashlib.sha256(canonical.encode()).hexdigest()


def test_both_parties_sign_and_the_contract_becomes_active(personas):
    p = personas
    contract = work_order(p)
    digest = sig.content_sha256(contract)
    first_signature = sign(p.sponsor_a_admin, contract)  # a draft: the sponsor's signature sends it
    assert first_signature.contract.state == "pending_signature"
    assert (first_signature.side, first_signature.meaning, first_signature.printed_name) == (
        "sponsor", "approved_as_sponsor", p.sponsor_a_admin.full_name,
    )  # fmt: skip
    assert first_signature.content_sha256 == digest and first_signature.signer == p.sponsor_a_admin
    assert first_signature.get_meaning_display() == "Approved as sponsor"
    [awaited] = events(sig.SIGNED_EVENT)
    assert awaited.vendor == p.vendor_x and awaited.sponsor is None and awaited.body == "Your signature is awaited."
    assert not events("contract_active")

    second = sign(p.vendor_x_admin, contract)
    assert (second.side, second.meaning) == ("vendor", "accepted_as_vendor")
    contract.refresh_from_db()
    assert contract.state == "active" and contract.activated_at is not None
    [active] = events("contract_active")
    assert (active.sponsor, active.vendor) == (p.sponsor_a, p.vendor_x)
    transitions = [e.changes["state"] for e in entries(contract, Action.TRANSITION)]
    assert transitions == [["draft", "pending_signature"], ["pending_signature", "active"]]
    signed_entries = [e for e in entries(contract, Action.CHANGED) if "signature" in e.changes]
    assert [(e.actor, e.changes["signature"][1]) for e in signed_entries] == [
        (p.sponsor_a_admin, f"Approved as sponsor by {p.sponsor_a_admin.full_name}"),
        (p.vendor_x_admin, f"Accepted as vendor by {p.vendor_x_admin.full_name}"),
    ]
    assert all(e.reason == f"Electronic signature, SHA-256 {digest}" for e in signed_entries)
    assert [s.matches for s in sig.signatures_with_match(contract)] == [True, True]


def test_printed_name_falls_back_to_the_email(personas):
    p = personas
    p.sponsor_a_admin.full_name = ""
    p.sponsor_a_admin.save()
    assert sign(p.sponsor_a_admin, work_order(p)).printed_name == "a-admin@a.test"


def test_signing_refusals_write_nothing(personas):
    p = personas
    contract = work_order(p)
    before = snapshot()
    with pytest.raises(TransitionError) as refused:
        sign(p.vendor_x_admin, contract)
    assert str(refused.value) == sig.SIGN_NOT_SENT
    for viewer in (p.sponsor_a_viewer, p.vendor_x_viewer):
        with pytest.raises(PermissionDenied):
            sign(viewer, contract)
    for outsider in (p.sponsor_b_admin, p.vendor_y_admin, p.staff):
        with pytest.raises(PermissionDenied) as refused:
            sign(outsider, contract)
        assert str(refused.value) == ct.NOT_CONTRACT_PARTY
    with pytest.raises(ValidationError) as refused:
        sign(p.sponsor_a_admin, contract, password="not-my-password")
    assert refused.value.message_dict["password"] == [sig.WRONG_PASSWORD]
    with pytest.raises(ValidationError) as refused:
        sign(p.sponsor_a_admin, contract, password="")
    assert refused.value.message_dict["password"] == [sig.PASSWORD_REQUIRED]
    assert snapshot() == before

    sign(p.sponsor_a_admin, contract)
    colleague = UserFactory(email="a-member@a.test", sponsor=p.sponsor_a, role="member")
    before = snapshot()
    with pytest.raises(TransitionError) as refused:
        sign(colleague, contract)
    assert str(refused.value) == sig.SIGN_TWICE
    assert snapshot() == before
    sign(p.vendor_x_admin, contract)
    with pytest.raises(TransitionError) as refused:
        sign(p.vendor_x_admin, contract)
    assert str(refused.value) == sig.SIGN_NOT_PENDING.format(state="active")


def test_the_database_backs_one_signature_per_side(personas):
    from django.db import IntegrityError, transaction

    p = personas
    signature = sign(p.sponsor_a_admin, work_order(p))
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(
            contract=signature.contract, side="sponsor", signer=p.sponsor_a_admin, printed_name="Again",
            meaning="approved_as_sponsor", signed_at=timezone.now(), content_sha256="0" * 64,
        )  # fmt: skip


def test_wrong_signing_passwords_count_toward_the_login_lock_out(personas, client, settings):
    """AXES_FAILURE_LIMIT (5): four wrong signing passwords are refused as wrong; the fifth locks the account
    — signing and signing in alike, even with the right password — while another address is not locked."""
    p = personas
    assert settings.AXES_FAILURE_LIMIT == 5
    contract = work_order(p)
    for attempt in range(4):
        with pytest.raises(ValidationError):
            sign(p.sponsor_a_admin, contract, password=f"wrong-{attempt}")
    with pytest.raises(sig.SigningLockedOut) as refused:
        sign(p.sponsor_a_admin, contract, password="wrong-5")
    assert (
        str(refused.value)
        == "Too many failed sign-in attempts for this account: try again in 30 minutes or reset your password."
    )
    with pytest.raises(sig.SigningLockedOut):
        sign(p.sponsor_a_admin, contract)  # the right password, but locked
    assert not Signature.objects.exists()
    response = client.post("/accounts/login/", {"username": "a-admin@a.test", "password": PASSWORD})
    assert response.status_code == 429 and LOCKED_OUT_PAGE in response.content.decode()
    assert client.session.get("_auth_user_id") is None
    # The count is per account and address, as for the login form.
    assert sign(p.sponsor_a_admin, contract, ip="10.9.8.7").side == "sponsor"
    assert sign(p.vendor_x_admin, contract).contract.state == "active"


def test_failed_logins_and_wrong_signing_passwords_share_one_count(personas, client):
    p = personas
    contract = work_order(p)
    for attempt in range(3):
        client.post("/accounts/login/", {"username": "a-admin@a.test", "password": f"wrong-{attempt}"})
    with pytest.raises(ValidationError):
        sign(p.sponsor_a_admin, contract, password="wrong-4")
    with pytest.raises(sig.SigningLockedOut):
        sign(p.sponsor_a_admin, contract, password="wrong-5")
    assert client.post("/accounts/login/", {"username": "a-admin@a.test", "password": PASSWORD}).status_code == 429
    assert (
        LOCKED_OUT_PAGE
        in client.post("/accounts/login/", {"username": "a-admin@a.test", "password": PASSWORD}).content.decode()
    )


def test_the_lock_out_reaches_the_response_through_the_axes_middleware(personas):
    """The request a locked-out signing arrives with is flagged for django-axes' middleware (429 page)."""
    p = personas
    contract = work_order(p)
    request = request_from()
    for attempt in range(5):
        with pytest.raises((ValidationError, sig.SigningLockedOut)):
            sig.contract_sign(actor=p.sponsor_a_admin, contract=contract, password=f"bad-{attempt}", request=request)
    assert request.axes_locked_out is True


# --- Milestones ---------------------------------------------------------------------------------------------


def test_milestone_journey_start_submit_reject_again_accept(personas):
    p = personas
    contract = active_work_order(p)
    milestone = first(contract)
    ms.milestone_start(actor=p.vendor_x_admin, milestone=milestone)
    ms.milestone_submit(actor=p.vendor_x_admin, milestone=milestone, comment="Evidence attached")
    milestone.refresh_from_db()
    assert milestone.state == "submitted" and milestone.submitted_at is not None
    [submitted] = events("milestone_submitted")
    assert submitted.sponsor == p.sponsor_a and submitted.vendor is None and submitted.body == "Evidence attached"

    with pytest.raises(ValidationError) as refused:
        ms.milestone_reject(actor=p.sponsor_a_admin, milestone=milestone, reason=" ")
    assert refused.value.message_dict["reason"] == [ms.MILESTONE_REJECT_REASON_REQUIRED]
    ms.milestone_reject(actor=p.sponsor_a_admin, milestone=milestone, reason="Two sites missing")
    milestone.refresh_from_db()
    assert (milestone.state, milestone.decision_comment, milestone.decided_by) == (
        "rejected", "Two sites missing", p.sponsor_a_admin,
    )  # fmt: skip
    [rejected] = events("milestone_rejected")
    assert rejected.vendor == p.vendor_x and rejected.body == "Two sites missing"

    ms.milestone_start(actor=p.vendor_x_admin, milestone=milestone)
    ms.milestone_submit(actor=p.vendor_x_admin, milestone=milestone)
    ms.milestone_accept(actor=p.sponsor_a_admin, milestone=milestone, comment="All sites initiated")
    milestone.refresh_from_db()
    assert (milestone.state, milestone.decision_comment) == ("accepted", "All sites initiated")
    assert [e.changes["state"] for e in entries(milestone, Action.TRANSITION)] == [
        ["planned", "in_progress"], ["in_progress", "submitted"], ["submitted", "rejected"],
        ["rejected", "in_progress"], ["in_progress", "submitted"], ["submitted", "accepted"],
    ]  # fmt: skip
    actors = [e.actor for e in entries(milestone, Action.TRANSITION)]
    assert actors == [p.vendor_x_admin, p.vendor_x_admin, p.sponsor_a_admin] * 2


def test_milestone_steps_belong_to_one_side_each_and_to_an_active_contract(personas):
    p = personas
    contract = active_work_order(p)
    milestone = first(contract)
    with pytest.raises(PermissionDenied) as refused:
        ms.milestone_start(actor=p.sponsor_a_admin, milestone=milestone)
    assert str(refused.value) == ct.NOT_CONTRACT_VENDOR
    ms.milestone_start(actor=p.vendor_x_admin, milestone=milestone)
    ms.milestone_submit(actor=p.vendor_x_admin, milestone=milestone)
    with pytest.raises(PermissionDenied) as refused:
        ms.milestone_accept(actor=p.vendor_x_admin, milestone=milestone)
    assert str(refused.value) == ct.NOT_CONTRACT_SPONSOR
    with pytest.raises(TransitionError) as refused:
        ms.milestone_start(actor=p.vendor_x_admin, milestone=milestone)
    assert str(refused.value) == "This milestone is submitted: only a planned or rejected milestone can be started."
    draft = work_order(p, parent=contract.parent)
    before = snapshot()
    with pytest.raises(TransitionError) as refused:
        ms.milestone_start(actor=p.vendor_x_admin, milestone=first(draft))
    assert str(refused.value) == ms.MILESTONE_CONTRACT_NOT_ACTIVE.format(state="draft")
    assert snapshot() == before


def test_overdue_is_due_date_passed_and_neither_accepted_nor_removed(personas):
    p = personas
    contract = active_work_order(p)
    late = MilestoneFactory(contract=contract, name="Late", due_date=days(-1))
    on_time = MilestoneFactory(contract=contract, name="Due today", due_date=TODAY)
    done = MilestoneFactory(contract=contract, name="Done late", due_date=days(-5), state="accepted")
    gone = MilestoneFactory(contract=contract, name="Removed", due_date=days(-5), state="removed")
    submitted = MilestoneFactory(contract=contract, name="Awaiting decision", due_date=days(-2), state="submitted")
    assert set(ms.overdue()) == {late, submitted}
    assert set(ms.overdue(on=days(1))) == {late, submitted, on_time}
    assert [ms.milestone_is_overdue(m) for m in (late, on_time, done, gone, submitted)] == [
        True,
        False,
        False,
        False,
        True,
    ]
    assert set(ms.overdue(Milestone.objects.for_user(p.vendor_y_admin))) == set()
    draft = work_order(p, parent=contract.parent, milestones=[{"name": "Old", "due_date": days(-3), "amount": 1}])
    assert first(draft, "Old") not in ms.overdue()  # a contract not yet running has nothing overdue
    assert ms.slippage_days(late) == 0


# --- Change orders ------------------------------------------------------------------------------------------


def test_change_order_refusals_write_nothing(personas):
    p = personas
    contract = active_work_order(p)
    done = first(contract)
    accepted(p, done)
    submit_invoice(p, contract, milestone=done)
    invoice = Invoice.objects.get()
    inv.invoice_approve(actor=p.sponsor_a_admin, invoice=invoice)  # invoiced 40,000 of 100,000
    other_contract = active_work_order(p, parent=contract.parent)
    draft = work_order(p, parent=contract.parent)
    cases = [
        ({"value_delta": Decimal("-100000.01")}, "value_delta", co.CO_VALUE_NEGATIVE.format(after="-0.01 EUR")),
        ({"value_delta": Decimal("-60000.01")}, "value_delta",
         co.CO_BELOW_INVOICED.format(after="39,999.99 EUR", invoiced="40,000.00 EUR")),
        ({"new_end": START}, "new_end", co.CO_END_NOT_AFTER_START.format(start=START.isoformat())),
        ({"reason": ""}, "reason", co.CO_REASON_REQUIRED),
        ({"value_delta": "lots"}, "value_delta", co.CO_DELTA_INVALID),
        ({}, "__all__", co.CO_EMPTY),
        ({"items": [{"action": "remove", "milestone": done}]}, "items",
         f"Item 1: {co.CO_ITEM_MILESTONE_INVOICED.format(name='Site initiation')}"),
        ({"items": [{"action": "remove", "milestone": first(other_contract)}]}, "items", f"Item 1: {co.CO_ITEM_MILESTONE}"),
        ({"items": [{"action": "add", "name": "", "due_date": None}]}, "items", f"Item 1: {co.CO_ITEM_NAME}"),
        ({"items": [{"action": "add", "name": "X", "due_date": days(9), "amount": -5}]}, "items",
         f"Item 1: {co.CO_ITEM_AMOUNT}"),
        ({"items": [{"action": "move"}]}, "items", f"Item 1: {co.CO_ITEM_ACTION}"),
        ({"items": [{"action": "change", "milestone": first(contract, "Last patient out")}]}, "items",
         f"Item 1: {co.CO_ITEM_NOTHING_CHANGES}"),
        ({"items": [{"action": "remove", "milestone": first(contract, "Last patient out")},
                    {"action": "change", "milestone": first(contract, "Last patient out").pk, "amount": 1}]},
         "items", f"Item 2: {co.CO_ITEM_MILESTONE_TWICE.format(name='Last patient out')}"),
    ]  # fmt: skip
    before = snapshot()
    for overrides, field, message in cases:
        kwargs = {"actor": p.vendor_x_admin, "contract": contract, "reason": "Scope change"} | overrides
        with pytest.raises(ValidationError) as refused:
            co.change_order_propose(**kwargs)
        assert message in refused.value.message_dict[field], (overrides, refused.value.message_dict)
    assert snapshot() == before
    Milestone.objects.filter(pk=first(contract, "Last patient out").pk).update(state="accepted")
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        co.change_order_propose(
            actor=p.sponsor_a_admin, contract=contract, reason="R",
            items=[{"action": "change", "milestone": first(contract, "Last patient out"), "due_date": days(300)}],
        )  # fmt: skip
    assert refused.value.message_dict["items"] == [
        f"Item 1: {co.CO_ITEM_MILESTONE_ACCEPTED.format(name='Last patient out')}"
    ]
    with pytest.raises(TransitionError) as refused:
        co.change_order_propose(actor=p.vendor_x_admin, contract=draft, reason="R", value_delta=1)
    assert str(refused.value) == co.CO_CONTRACT_NOT_ACTIVE.format(state="draft")
    with pytest.raises(PermissionDenied):
        co.change_order_propose(actor=p.vendor_x_viewer, contract=contract, reason="R", value_delta=1)
    assert snapshot() == before


def test_change_order_approved_with_a_signature_applies_everything_at_once(personas):
    p = personas
    contract = active_work_order(p)
    kickoff, final = first(contract), first(contract, "Last patient out")
    contract_hash = sig.content_sha256(contract)
    proposal = co.change_order_propose(
        actor=p.vendor_x_admin, contract=contract, reason="Two more countries", value_delta=Decimal("25000.00"),
        new_end=days(400),
        items=[
            {"action": "add", "name": "Interim analysis", "due_date": days(150), "amount": Decimal("25000.00")},
            {"action": "change", "milestone": final, "due_date": days(380)},
            {"action": "remove", "milestone": kickoff},
        ],
    )  # fmt: skip
    assert (proposal.sequence, proposal.state, proposal.proposed_by_side) == (1, "proposed", "vendor")
    assert [i.action for i in proposal.items.all()] == ["add", "change", "remove"]
    [told] = events(co.PROPOSED_EVENT)
    assert told.sponsor == p.sponsor_a and told.vendor is None

    with pytest.raises(PermissionDenied) as refused:
        co.change_order_approve(
            actor=p.vendor_x_admin, change_order=proposal, password=PASSWORD, request=request_from()
        )
    assert str(refused.value) == co.CO_OWN_SIDE
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        co.change_order_approve(actor=p.sponsor_a_admin, change_order=proposal, password="nope", request=request_from())
    assert refused.value.message_dict["password"] == [sig.WRONG_PASSWORD]
    assert snapshot() == before

    approved = co.change_order_approve(
        actor=p.sponsor_a_admin, change_order=proposal, password=PASSWORD, request=request_from()
    )
    contract.refresh_from_db()
    assert approved.state == "approved" and approved.decided_by == p.sponsor_a_admin
    assert (approved.budget_before, approved.budget_after) == (Decimal("100000.00"), Decimal("125000.00"))
    assert (contract.value, contract.budget, contract.end) == (Decimal("100000.00"), Decimal("125000.00"), days(400))
    added = contract.milestones.get(name="Interim analysis")
    assert (added.baseline_due_date, added.due_date, added.amount, added.state) == (
        days(150), days(150), Decimal("25000.00"), "planned",
    )  # fmt: skip
    final.refresh_from_db()
    kickoff.refresh_from_db()
    assert (final.baseline_due_date, final.due_date, ms.slippage_days(final)) == (days(200), days(380), 180)
    assert kickoff.state == "removed"
    # History: the contract's budget and end, each milestone, the change order — all with the reason.
    [moved] = [e for e in entries(contract, Action.CHANGED) if "budget" in e.changes]
    assert moved.changes == {"budget": ["100000.00", "125000.00"], "end": [END.isoformat(), days(400).isoformat()]}
    assert moved.actor == p.sponsor_a_admin and moved.reason == "Change order CO-1: Two more countries"
    assert entries(final, Action.CHANGED)[-1].changes == {"due_date": [days(200).isoformat(), days(380).isoformat()]}
    assert entries(kickoff, Action.TRANSITION)[-1].changes["state"] == ["planned", "removed"]
    assert entries(added, Action.CREATED)[0].reason == "Change order CO-1: Two more countries"
    # The signature of the approval, and the contract's signatures that no longer match its content.
    co_signature = Signature.objects.get(change_order=approved)
    assert (co_signature.side, co_signature.meaning) == ("sponsor", "change_approved_as_sponsor")
    assert co_signature.content_sha256 == sig.change_order_sha256(approved) and sig.signature_matches(co_signature)
    contract_signatures = Signature.objects.filter(change_order__isnull=True)
    assert {s.content_sha256 for s in contract_signatures} == {contract_hash}
    assert [sig.signature_matches(s) for s in contract_signatures] == [False, False]
    assert [(s.change_order_id, s.matches) for s in sig.signatures_with_match(contract)] == [
        (None, False), (None, False), (approved.pk, True),
    ]  # fmt: skip
    [told] = events("change_order_approved")
    assert told.vendor == p.vendor_x and told.sponsor is None
    assert "100,000.00 EUR → 125,000.00 EUR" in told.body
    with pytest.raises(TransitionError) as refused:
        co.change_order_reject(actor=p.sponsor_a_admin, change_order=approved, reason="Too late")
    assert str(refused.value) == "This change order is approved: only a proposed change order can be rejected."


def test_the_vendor_approves_the_sponsors_change_order_with_its_own_meaning(personas):
    p = personas
    contract = active_work_order(p)
    proposal = co.change_order_propose(
        actor=p.sponsor_a_admin, contract=contract, reason="Descope", value_delta=Decimal("-10000.00")
    )
    co.change_order_approve(actor=p.vendor_x_admin, change_order=proposal, password=PASSWORD, request=request_from())
    contract.refresh_from_db()
    assert contract.budget == Decimal("90000.00")
    assert Signature.objects.get(change_order=proposal).meaning == "change_accepted_as_vendor"


def test_change_order_reject_and_withdraw(personas):
    p = personas
    contract = active_work_order(p)
    proposal = co.change_order_propose(actor=p.vendor_x_admin, contract=contract, reason="More", value_delta=5)
    with pytest.raises(PermissionDenied) as refused:
        co.change_order_reject(actor=p.vendor_x_admin, change_order=proposal, reason="No")
    assert str(refused.value) == co.CO_OWN_SIDE
    with pytest.raises(ValidationError) as refused:
        co.change_order_reject(actor=p.sponsor_a_admin, change_order=proposal, reason="")
    assert refused.value.message_dict["reason"] == [co.CO_REJECT_REASON_REQUIRED]
    with pytest.raises(PermissionDenied) as refused:
        co.change_order_withdraw(actor=p.sponsor_a_admin, change_order=proposal)
    assert str(refused.value) == co.CO_WITHDRAW_OTHER_SIDE
    rejected = co.change_order_reject(actor=p.sponsor_a_admin, change_order=proposal, reason="Not in scope")
    assert (rejected.state, rejected.decision_reason, rejected.decided_by) == (
        "rejected",
        "Not in scope",
        p.sponsor_a_admin,
    )
    [told] = events("change_order_rejected")
    assert told.vendor == p.vendor_x and told.body == "Not in scope"
    contract.refresh_from_db()
    assert contract.budget == Decimal("100000.00")

    second = co.change_order_propose(actor=p.vendor_x_admin, contract=contract, reason="Again", value_delta=5)
    assert second.sequence == 2
    colleague = UserFactory(email="x-member@x.test", vendor=p.vendor_x, role="member")
    withdrawn = co.change_order_withdraw(actor=colleague, change_order=second, reason="Wrong figure")
    assert withdrawn.state == "withdrawn"
    before = snapshot()
    with pytest.raises(TransitionError) as refused:
        co.change_order_approve(actor=p.sponsor_a_admin, change_order=second, password=PASSWORD, request=request_from())
    assert str(refused.value) == "This change order is withdrawn: only a proposed change order can be approved."
    assert snapshot() == before


def test_approval_checks_again_what_changed_since_the_proposal(personas):
    p = personas
    contract = active_work_order(p)
    kickoff = first(contract)
    removal = co.change_order_propose(
        actor=p.sponsor_a_admin, contract=contract, reason="Drop kick-off", value_delta=Decimal("-40000.00"),
        items=[{"action": "remove", "milestone": kickoff}],
    )  # fmt: skip
    accepted(p, kickoff)  # meanwhile the vendor delivered it and the sponsor accepted it
    before = snapshot()
    with pytest.raises(TransitionError) as refused:
        co.change_order_approve(actor=p.vendor_x_admin, change_order=removal, password=PASSWORD, request=request_from())
    assert str(refused.value) == co.CO_NO_LONGER_APPLIES.format(
        problems=co.CO_ITEM_MILESTONE_ACCEPTED.format(name="Site initiation")
    )
    assert snapshot() == before and ChangeOrder.objects.get(pk=removal.pk).state == "proposed"

    cut = co.change_order_propose(
        actor=p.vendor_x_admin, contract=contract, reason="Cut", value_delta=Decimal("-60000")
    )
    submit_invoice(p, contract, milestone=kickoff)
    inv.invoice_approve(actor=p.sponsor_a_admin, invoice=Invoice.objects.get(), override_reason="")
    submit_invoice(p, contract, number="INV-002", amount=Decimal("500.00"))
    inv.invoice_approve(actor=p.sponsor_a_admin, invoice=Invoice.objects.get(number="INV-002"))
    with pytest.raises(TransitionError) as refused:
        co.change_order_approve(actor=p.sponsor_a_admin, change_order=cut, password=PASSWORD, request=request_from())
    assert str(refused.value) == co.CO_NO_LONGER_APPLIES.format(
        problems=co.CO_BELOW_INVOICED.format(after="40,000.00 EUR", invoiced="40,500.00 EUR")
    )
    Contract.objects.filter(pk=contract.pk).update(state="terminated")
    with pytest.raises(TransitionError) as refused:
        co.change_order_approve(actor=p.sponsor_a_admin, change_order=cut, password=PASSWORD, request=request_from())
    assert str(refused.value) == co.CO_CONTRACT_NOT_ACTIVE.format(state="terminated")


def test_wrong_passwords_approving_change_orders_count_toward_the_lock_out(personas, client):
    p = personas
    contract = active_work_order(p)
    proposal = co.change_order_propose(actor=p.vendor_x_admin, contract=contract, reason="More", value_delta=5)
    for attempt in range(4):
        with pytest.raises(ValidationError):
            co.change_order_approve(
                actor=p.sponsor_a_admin, change_order=proposal, password=f"x{attempt}", request=request_from()
            )
    with pytest.raises(sig.SigningLockedOut):
        co.change_order_approve(actor=p.sponsor_a_admin, change_order=proposal, password="x5", request=request_from())
    assert ChangeOrder.objects.get(pk=proposal.pk).state == "proposed"
    assert client.post("/accounts/login/", {"username": "a-admin@a.test", "password": PASSWORD}).status_code == 429


# --- Invoices -----------------------------------------------------------------------------------------------


def test_invoice_refusals_are_clear_and_write_nothing(personas):
    p = personas
    contract = active_work_order(p)
    kickoff, final = first(contract), first(contract, "Last patient out")
    accepted(p, kickoff)
    submit_invoice(p, contract, milestone=kickoff, number="INV-001")
    usd = active_work_order(p, parent=contract.parent, currency="USD")
    draft = work_order(p, parent=contract.parent)
    cases = [
        ({"currency": "USD"}, "currency", inv.INVOICE_WRONG_CURRENCY.format(contract="EUR", given="USD")),
        ({"number": "INV-001"}, "number", inv.INVOICE_NUMBER_TAKEN),
        ({"contract": usd, "currency": "USD", "number": "INV-001"}, "number", inv.INVOICE_NUMBER_TAKEN),
        ({"number": "  "}, "number", inv.INVOICE_NUMBER_REQUIRED),
        ({"milestone": final}, "milestone",
         inv.INVOICE_MILESTONE_NOT_ACCEPTED.format(name="Last patient out", state="planned")),
        ({"milestone": kickoff}, "milestone", inv.INVOICE_MILESTONE_BILLED.format(name="Site initiation", number="INV-001")),
        ({"milestone": first(usd), "number": "INV-9"}, "milestone", inv.INVOICE_MILESTONE_OTHER_CONTRACT),
        ({"amount": Decimal("0")}, "amount", inv.INVOICE_AMOUNT_POSITIVE),
        ({"amount": "many"}, "amount", inv.INVOICE_AMOUNT_POSITIVE),
        ({"issued_on": days(1)}, "issued_on", inv.INVOICE_ISSUED_FUTURE),
    ]  # fmt: skip
    before = snapshot()
    for overrides, field, message in cases:
        with pytest.raises(ValidationError) as refused:
            submit_invoice(p, **{"contract": contract, "number": "INV-NEW"} | overrides)
        assert message in refused.value.message_dict[field], (overrides, refused.value.message_dict)
    # A milestone invoice is at most the milestone's amount (less is allowed).
    Invoice.objects.filter(number="INV-001").update(state="rejected")
    with pytest.raises(ValidationError) as refused:
        submit_invoice(p, contract, milestone=kickoff, number="INV-002", amount=Decimal("40000.01"))
    assert refused.value.message_dict["amount"] == [
        inv.INVOICE_OVER_MILESTONE.format(name="Site initiation", amount="40,000.00 EUR")
    ]
    Invoice.objects.filter(number="INV-001").update(state="submitted")
    with pytest.raises(PermissionDenied) as refused:
        submit_invoice(p, contract, actor=p.sponsor_a_admin)
    assert str(refused.value) == ct.NOT_CONTRACT_VENDOR
    with pytest.raises(PermissionDenied):
        submit_invoice(p, contract, actor=p.vendor_x_viewer)
    with pytest.raises(TransitionError) as refused:
        submit_invoice(p, draft)
    assert str(refused.value) == inv.INVOICE_CONTRACT_NOT_BILLABLE.format(state="draft")
    assert snapshot() == before


def test_invoice_for_a_milestone_submitted_approved_paid(personas):
    p = personas
    contract = active_work_order(p)
    kickoff = first(contract)
    accepted(p, kickoff)
    invoice = submit_invoice(p, contract, milestone=kickoff, amount=Decimal("39000.00"))
    assert (invoice.state, invoice.vendor, invoice.submitted_by, invoice.currency) == (
        "submitted", p.vendor_x, p.vendor_x_admin, "EUR",
    )  # fmt: skip
    [told] = events(inv.SUBMITTED_EVENT)
    assert told.sponsor == p.sponsor_a and told.vendor is None and "39,000.00 EUR" in told.body
    with pytest.raises(PermissionDenied) as refused:
        inv.invoice_approve(actor=p.vendor_x_admin, invoice=invoice)
    assert str(refused.value) == ct.NOT_CONTRACT_SPONSOR
    approved = inv.invoice_approve(actor=p.sponsor_a_admin, invoice=invoice)
    contract.refresh_from_db()
    assert (approved.state, approved.approved_by, approved.override_reason) == ("approved", p.sponsor_a_admin, "")
    assert (contract.invoiced, contract.paid) == (Decimal("39000.00"), Decimal("0.00"))
    [moved] = [e for e in entries(contract, Action.CHANGED) if "invoiced" in e.changes]
    assert moved.changes == {"invoiced": ["0.00", "39000.00"]} and moved.actor == p.sponsor_a_admin
    paid = inv.invoice_mark_paid(actor=p.sponsor_a_admin, invoice=approved)
    contract.refresh_from_db()
    assert paid.state == "paid" and paid.paid_at is not None and contract.paid == Decimal("39000.00")
    with pytest.raises(TransitionError) as refused:
        inv.invoice_mark_paid(actor=p.sponsor_a_admin, invoice=paid)
    assert str(refused.value) == "This invoice is paid: only an approved invoice can be marked paid."
    assert [e.event_type for e in OutboxEvent.objects.filter(event_type__startswith="invoice_").order_by("id")] == [
        "invoice_submitted", "invoice_approved", "invoice_paid",
    ]  # fmt: skip


def test_a_rejected_invoice_frees_its_milestone(personas):
    p = personas
    contract = active_work_order(p)
    kickoff = first(contract)
    accepted(p, kickoff)
    invoice = submit_invoice(p, contract, milestone=kickoff)
    with pytest.raises(ValidationError) as refused:
        inv.invoice_reject(actor=p.sponsor_a_admin, invoice=invoice, reason="")
    assert refused.value.message_dict["reason"] == [inv.INVOICE_REJECT_REASON_REQUIRED]
    rejected = inv.invoice_reject(actor=p.sponsor_a_admin, invoice=invoice, reason="Wrong PO number")
    assert (rejected.state, rejected.rejection_reason) == ("rejected", "Wrong PO number")
    assert Contract.objects.get(pk=contract.pk).invoiced == 0
    again = submit_invoice(p, contract, milestone=kickoff, number="INV-001b")
    assert again.milestone == kickoff


def test_over_budget_approval_needs_a_sponsor_admins_override_with_a_reason(personas):
    p = personas
    contract = active_work_order(p)
    member = UserFactory(email="a-member@a.test", sponsor=p.sponsor_a, role="member")
    within = submit_invoice(p, contract, number="INV-1", amount=Decimal("90000.00"))
    inv.invoice_approve(actor=member, invoice=within)
    beyond = submit_invoice(p, contract, number="INV-2", amount=Decimal("10000.01"))
    words = {"after": "100,000.01 EUR", "budget": "100,000.00 EUR"}
    before = snapshot()
    with pytest.raises(TransitionError) as refused:
        inv.invoice_approve(actor=member, invoice=beyond)
    assert str(refused.value) == inv.INVOICE_OVER_BUDGET_ADMIN.format(**words)
    with pytest.raises(PermissionDenied) as refused:
        inv.invoice_approve(actor=member, invoice=beyond, override_reason="Agreed by phone")
    assert str(refused.value) == inv.INVOICE_OVERRIDE_ADMIN_ONLY
    with pytest.raises(TransitionError) as refused:
        inv.invoice_approve(actor=p.sponsor_a_admin, invoice=beyond)
    assert str(refused.value) == inv.INVOICE_OVER_BUDGET.format(**words)
    assert snapshot() == before
    approved = inv.invoice_approve(actor=p.sponsor_a_admin, invoice=beyond, override_reason="CO-3 is being signed")
    contract.refresh_from_db()
    assert approved.override_reason == "CO-3 is being signed" and contract.invoiced == Decimal("100000.01")
    history = inv.OVERRIDE_HISTORY.format(**words, override="CO-3 is being signed")
    assert entries(approved, Action.TRANSITION)[-1].reason == history
    assert [e.reason for e in entries(contract, Action.CHANGED) if "invoiced" in e.changes][-1] == history
    assert budget.contract_budget(contract).over_budget

    third = submit_invoice(p, contract, number="INV-3", amount=Decimal("1.00"))
    with pytest.raises(TransitionError):
        inv.invoice_approve(actor=p.sponsor_a_admin, invoice=third)
    small = ct.contract_create(
        actor=p.sponsor_a_admin,
        data={"kind": "cda", "vendor": p.vendor_x, "title": "CDA", "value": 100, "currency": "EUR",
              "start": START, "end": END},
    )  # fmt: skip
    signed(p, small)
    fine = submit_invoice(p, small, number="INV-4", amount=Decimal("50.00"))
    approved = inv.invoice_approve(actor=p.sponsor_a_admin, invoice=fine, override_reason="Not needed")
    assert approved.override_reason == "" and approved.approval_warnings == [inv.INVOICE_OVERRIDE_NOT_NEEDED]


# --- Budget -------------------------------------------------------------------------------------------------


def test_contract_budget_figures(personas):
    p = personas
    contract = ContractFactory(
        sponsor=p.sponsor_a, vendor=p.vendor_x, start=days(-25), end=days(75), value=Decimal("200000.00"),
        state="active",
    )  # fmt: skip
    Contract.objects.filter(pk=contract.pk).update(invoiced=Decimal("170000.00"), paid=Decimal("100000.00"))
    contract.refresh_from_db()
    figures = budget.contract_budget(contract)
    assert figures == budget.BudgetFigures(
        currency="EUR", budget=Decimal("200000.00"), invoiced=Decimal("170000.00"), paid=Decimal("100000.00"),
        remaining=Decimal("30000.00"), burn_percent=Decimal("85.0"), time_elapsed_percent=Decimal("25.0"),
    )  # fmt: skip
    assert not figures.over_budget
    assert budget.time_elapsed_percent(days(10), days(20)) == Decimal("0.0")
    assert budget.time_elapsed_percent(days(-20), days(-10)) == Decimal("100.0")
    assert budget.burn_percent(Decimal("0"), Decimal("0")) == Decimal("0.0")
    assert budget.burn_percent(Decimal("5"), Decimal("0")) is None
    assert budget.burn_percent(Decimal("105"), Decimal("100")) == Decimal("105.0")
    annotated = budget.with_budget(Contract.objects.filter(pk=contract.pk)).get()
    assert (annotated.remaining, round(annotated.burn, 2)) == (Decimal("30000.00"), Decimal("0.85"))


def test_budget_roll_ups_per_programme_and_vendor_never_add_currencies(personas, django_assert_num_queries):
    p = personas
    program_2 = ProgramFactory(sponsor=p.sponsor_a, code="A-2", name="Second")
    vendor_z = VendorFactory(name="Vendor Z", slug="vendor-z")

    def contract(vendor, program, value, currency, invoiced="0", paid="0", state="active", sponsor=None):
        made = ContractFactory(
            sponsor=sponsor or p.sponsor_a, vendor=vendor, program=program, value=Decimal(value), currency=currency,
            state=state,
        )  # fmt: skip
        Contract.objects.filter(pk=made.pk).update(invoiced=Decimal(invoiced), paid=Decimal(paid))

    contract(p.vendor_x, p.program_a, "100000", "EUR", invoiced="50000", paid="20000")
    contract(p.vendor_x, p.program_a, "50000", "EUR", invoiced="10000", state="completed")
    contract(p.vendor_x, p.program_a, "80000", "USD", invoiced="80000", paid="80000")
    contract(vendor_z, program_2, "30000", "EUR")
    contract(vendor_z, None, "7000", "GBP")
    contract(p.vendor_x, p.program_a, "999999", "EUR", state="draft")  # commits no money yet
    contract(p.vendor_x, p.program_b, "555555", "EUR", sponsor=p.sponsor_b)  # another sponsor's

    with django_assert_num_queries(1):
        by_program = budget.budget_by_program(p.sponsor_a_viewer)
    assert [(r.label, r.currency, r.contracts, r.budget, r.invoiced, r.paid, r.remaining, r.burn_percent)
            for r in by_program] == [
        (f"A-1 {p.program_a.name}", "EUR", 2, Decimal("150000.00"), Decimal("60000.00"), Decimal("20000.00"),
         Decimal("90000.00"), Decimal("40.0")),
        (f"A-1 {p.program_a.name}", "USD", 1, Decimal("80000.00"), Decimal("80000.00"), Decimal("80000.00"),
         Decimal("0.00"), Decimal("100.0")),
        ("A-2 Second", "EUR", 1, Decimal("30000.00"), 0, 0, Decimal("30000.00"), Decimal("0.0")),
        (budget.NO_PROGRAM, "GBP", 1, Decimal("7000.00"), 0, 0, Decimal("7000.00"), Decimal("0.0")),
    ]  # fmt: skip
    with django_assert_num_queries(1):
        by_vendor = budget.budget_by_vendor(p.sponsor_a_admin)
    assert [(r.label, r.currency, r.budget) for r in by_vendor] == [
        ("Vendor X", "EUR", Decimal("150000.00")), ("Vendor X", "USD", Decimal("80000.00")),
        ("Vendor Z", "EUR", Decimal("30000.00")), ("Vendor Z", "GBP", Decimal("7000.00")),
    ]  # fmt: skip
    for _ in range(5):
        contract(vendor_z, program_2, "1000", "CHF")
    with django_assert_num_queries(1):
        assert len(budget.budget_by_vendor(p.sponsor_a_admin)) == 5
    assert budget.budget_by_program(p.vendor_x_admin) == []  # programmes are the sponsor's own records
    assert [(r.label, r.currency, r.budget) for r in budget.budget_by_vendor(p.vendor_x_admin)] == [
        ("Vendor X", "EUR", Decimal("705555.00")), ("Vendor X", "USD", Decimal("80000.00")),
    ]  # fmt: skip
    assert budget.budget_by_vendor(p.vendor_y_admin) == []
    assert [(r.label, r.budget) for r in budget.budget_by_program(p.sponsor_b_admin)] == [
        (f"B-1 {p.program_b.name}", Decimal("555555.00"))
    ]
    assert [r.contracts for r in budget.budget_by_vendor(p.sponsor_a_admin, states=["draft"])] == [1]


# --- The journey of issue 9 ---------------------------------------------------------------------------------


def test_the_journey_sign_deliver_invoice_and_amend(personas):
    """Alice and Erin's story: sign a work order, deliver and accept a milestone, invoice and approve it, then a
    change order adding a milestone and value approved with a signature moves the budget and the milestones."""
    p = personas
    contract = work_order(p, activities=[{"activity": "site_management", "detail": "EU sites"}])
    ct.contract_send_for_signature(actor=p.sponsor_a_admin, contract=contract)
    sign(p.sponsor_a_admin, contract)
    sign(p.vendor_x_admin, contract)
    contract.refresh_from_db()
    assert contract.state == "active"

    milestone = first(contract)
    accepted(p, milestone)
    invoice = submit_invoice(p, contract, milestone=milestone)
    inv.invoice_approve(actor=p.sponsor_a_admin, invoice=invoice)
    contract.refresh_from_db()
    figures = budget.contract_budget(contract)
    assert (figures.budget, figures.invoiced, figures.remaining, figures.burn_percent) == (
        Decimal("100000.00"), Decimal("40000.00"), Decimal("60000.00"), Decimal("40.0"),
    )  # fmt: skip

    change = co.change_order_propose(
        actor=p.vendor_x_admin, contract=contract, reason="Extension study", value_delta=Decimal("30000.00"),
        items=[{"action": "add", "name": "Extension report", "due_date": days(250), "amount": Decimal("30000.00")}],
    )  # fmt: skip
    co.change_order_approve(actor=p.sponsor_a_admin, change_order=change, password=PASSWORD, request=request_from())
    contract.refresh_from_db()
    figures = budget.contract_budget(contract)
    assert (figures.budget, figures.remaining, figures.burn_percent) == (
        Decimal("130000.00"), Decimal("90000.00"), Decimal("30.8"),
    )  # fmt: skip
    assert list(contract.milestones.order_by("position").values_list("name", "state")) == [
        ("Site initiation", "accepted"), ("Last patient out", "planned"), ("Extension report", "planned"),
    ]  # fmt: skip
    assert [s.matches for s in sig.signatures_with_match(contract)] == [False, False, True]
    # Every step is in a history with who, when and what.
    actors = {e.actor for obj in (contract, milestone, invoice, change) for e in entries(obj)}
    assert actors == {p.sponsor_a_admin, p.vendor_x_admin}
    assert all(e.timestamp is not None for e in entries(contract))
    assert [e.changes["state"] for e in entries(change, Action.TRANSITION)] == [["proposed", "approved"]]


# --- Viewers act nowhere ------------------------------------------------------------------------------------


def test_a_viewer_is_refused_every_contract_action(personas):
    p = personas
    contract = active_work_order(p)
    kickoff = first(contract)
    accepted(p, kickoff)
    invoice = submit_invoice(p, contract, milestone=kickoff)
    sponsor_co = co.change_order_propose(actor=p.sponsor_a_admin, contract=contract, reason="S", value_delta=1)
    vendor_co = co.change_order_propose(actor=p.vendor_x_admin, contract=contract, reason="V", value_delta=1)
    final = first(contract, "Last patient out")
    draft = work_order(p, parent=contract.parent)
    sa, xa = p.sponsor_a_viewer, p.vendor_x_viewer
    attempts = [
        lambda: ct.contract_update(actor=sa, contract=draft, data={"notes": "x"}),
        lambda: ct.contract_activities_set(actor=sa, contract=draft, entries=[]),
        lambda: ct.contract_send_for_signature(actor=sa, contract=draft),
        lambda: ct.contract_complete(actor=sa, contract=contract),
        lambda: ct.contract_terminate(actor=sa, contract=contract, reason="r"),
        lambda: sign(sa, draft),
        lambda: ms.milestone_start(actor=xa, milestone=final),
        lambda: ms.milestone_submit(actor=xa, milestone=final),
        lambda: ms.milestone_accept(actor=sa, milestone=final),
        lambda: ms.milestone_reject(actor=sa, milestone=final, reason="r"),
        lambda: co.change_order_propose(actor=xa, contract=contract, reason="r", value_delta=1),
        lambda: co.change_order_propose(actor=sa, contract=contract, reason="r", value_delta=1),
        lambda: co.change_order_approve(actor=sa, change_order=vendor_co, password=PASSWORD, request=request_from()),
        lambda: co.change_order_approve(actor=xa, change_order=sponsor_co, password=PASSWORD, request=request_from()),
        lambda: co.change_order_reject(actor=sa, change_order=vendor_co, reason="r"),
        lambda: co.change_order_withdraw(actor=xa, change_order=vendor_co),
        lambda: submit_invoice(p, contract, actor=xa, number="INV-V"),
        lambda: inv.invoice_approve(actor=sa, invoice=invoice),
        lambda: inv.invoice_reject(actor=sa, invoice=invoice, reason="r"),
        lambda: inv.invoice_mark_paid(actor=sa, invoice=invoice),
    ]
    before = snapshot()
    for index, attempt in enumerate(attempts):
        with pytest.raises(PermissionDenied) as refused:
            attempt()
        assert str(refused.value) in (ct.NOT_CONTRACT_SPONSOR, ct.NOT_CONTRACT_VENDOR), index
    assert snapshot() == before


# --- Who sees what ------------------------------------------------------------------------------------------


def who(p, predicate) -> set[str]:
    return {name for name in PERSONA_NAMES if predicate(getattr(p, name))}


def visible(p, model, obj, action="view") -> set[str]:
    return who(p, lambda user: model.objects.for_user(user, action).filter(pk=obj.pk).exists())


def test_both_parties_see_the_execution_records_and_nobody_else(personas):
    p = personas
    contract = work_order(p, activities=[{"activity": "data_management"}])
    activity = contract.activities.get()
    signed(p, contract)
    kickoff = first(contract)
    accepted(p, kickoff)
    invoice = submit_invoice(p, contract, milestone=kickoff)
    change = co.change_order_propose(actor=p.vendor_x_admin, contract=contract, reason="R", value_delta=5)
    co.change_order_approve(actor=p.sponsor_a_admin, change_order=change, password=PASSWORD, request=request_from())
    records = [
        (Contract, contract), (Milestone, kickoff), (ContractActivity, activity), (Invoice, invoice),
        (ChangeOrder, change), *((Signature, s) for s in Signature.objects.all()),
    ]  # fmt: skip
    assert len(records) == 8
    for model, obj in records:
        assert visible(p, model, obj) == SPONSOR_A | VENDOR_X, model
        assert visible(p, model, obj, "change") == {"sponsor_a_admin", "vendor_x_admin"}, model
    for outsider in (p.sponsor_b_admin, p.vendor_y_admin):
        for model in (Contract, Milestone, ContractActivity, Invoice, ChangeOrder, Signature):
            assert not model.objects.for_user(outsider).exists(), (outsider, model)
    assert contract.history_visible_to(p.vendor_x_viewer) and not contract.history_visible_to(p.vendor_y_admin)
    assert invoice.history_visible_to(p.sponsor_a_viewer) and not invoice.history_visible_to(p.sponsor_b_admin)
