"""The demo's contracts: every state and kind, an MSA with its work orders at 85 % and 105 % burn, overdue
milestones, pending change orders and invoices, signatures that still match, a history played at its own
dates; idempotent; and each demo user sees their own side only."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.demo import DEMO_USERS
from accounts.models import User
from audit.models import Action, HistoryEntry
from contracts import demo, demo_contracts
from contracts.budget import contract_budget
from contracts.choices import ContractKind, ContractState
from contracts.models import (
    ChangeOrder,
    ChangeOrderItem,
    Contract,
    ContractActivity,
    Invoice,
    Milestone,
    Signature,
)
from contracts.services.milestones import overdue
from contracts.services.signatures import signature_matches
from notifications.models import OutboxEvent

pytestmark = pytest.mark.django_db
REAL_NOW = timezone.now


@pytest.fixture
def seeded(db):
    call_command("seed_demo", vendors=5, verbosity=0)


def user(email):
    return User.objects.get(email=email)


def contract(title):
    return Contract.objects.get(title=title)


def client_for(email):
    client = Client()
    client.force_login(user(email), backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_every_state_and_kind_and_the_msa_with_its_work_orders(seeded):
    assert set(Contract.objects.values_list("state", flat=True)) == set(ContractState.values)
    assert set(Contract.objects.values_list("kind", flat=True)) == set(ContractKind.values)

    msa = contract(demo_contracts.ORBITAL_MSA_TITLE)
    assert (msa.kind, msa.state, msa.vendor.slug, msa.sponsor.slug) == ("msa", "active", "orbital-cdmo", "acme-pharma")
    assert dict(msa.work_orders.values_list("title", "state")) == {
        demo_contracts.SUPPLY_TITLE: "active",
        demo_contracts.METHOD_TRANSFER_TITLE: "active",
        demo_contracts.STABILITY_TITLE: "pending_signature",
    }
    for work_order in msa.work_orders.all():  # each with its transferred-activities register
        assert ContractActivity.objects.filter(contract=work_order).exists()
    supply = contract(demo_contracts.SUPPLY_TITLE)
    assert set(supply.activities.values_list("activity", flat=True)) == {
        "manufacturing", "qc_testing", "batch_certification", "packaging_labelling",
    }  # fmt: skip

    # Alice signed the stability work order, erin has not: the page offers erin the signature.
    stability = contract(demo_contracts.STABILITY_TITLE)
    assert list(stability.signatures.values_list("side", "signer__email")) == [("sponsor", "alice@acme.test")]
    page = client_for("erin@orbital.test").get(stability.get_absolute_url()).content.decode()
    assert 'data-testid="sign-form"' in page and "Accepted as vendor" in page
    page = client_for("alice@acme.test").get(stability.get_absolute_url()).content.decode()
    assert 'data-testid="sign-form"' not in page and "Awaiting the signature of: vendor." in page

    helix = Contract.objects.filter(sponsor__slug="acme-pharma", vendor__slug="helix-manufacturing")
    assert sorted(helix.values_list("kind", "state")) == [
        ("cda", "completed"), ("msa", "draft"), ("quality-agreement", "active"), ("quality-agreement", "terminated"),
    ]  # fmt: skip
    assert not helix.get(state="draft").signatures.exists()
    terminated = helix.get(state="terminated")
    [entry] = HistoryEntry.objects.for_object(terminated).filter(changes__state__1="terminated")
    assert "Leipzig packaging hall" in entry.reason and entry.actor.email == "alice@acme.test"

    # The contract the sourcing demo awarded: signed by both, its first milestone under way.
    awarded = contract(demo.AWARDED_TITLE)
    assert (awarded.kind, awarded.state, awarded.vendor.slug) == ("standalone", "active", "northwind-clinical")
    assert sorted(awarded.signatures.values_list("signer__email", flat=True)) == [
        "alice@acme.test", "carol@northwind.test",
    ]  # fmt: skip
    assert [m.state for m in awarded.milestones.order_by("position")] == ["in_progress"] + ["planned"] * 4

    borealis = Contract.objects.filter(sponsor__slug="borealis-bio")
    assert list(borealis.values_list("vendor__slug", "state")) == [("helix-manufacturing", "active")]


def test_burn_milestones_change_orders_and_invoices(seeded):
    supply = contract(demo_contracts.SUPPLY_TITLE)
    method = contract(demo_contracts.METHOD_TRANSFER_TITLE)
    assert abs(contract_budget(supply).burn_percent - 85) <= 3 and not contract_budget(supply).over_budget
    assert abs(contract_budget(method).burn_percent - 105) <= 3 and contract_budget(method).over_budget
    # The 105 % is an admin's override, with her reason; the invoice that took it over was approved so.
    [override] = Invoice.objects.filter(contract=method).exclude(override_reason="")
    assert override.approved_by.email == "alice@acme.test" and override.approved_by.is_org_admin
    assert "OOS investigations" in override.override_reason
    # Budget figures agree with the invoices behind them.
    for c in (supply, method):
        invoices = Invoice.objects.filter(contract=c)
        assert c.invoiced == sum(i.amount for i in invoices.filter(state__in=["approved", "paid"]))
        assert c.paid == sum(i.amount for i in invoices.filter(state="paid"))

    orbital = Milestone.objects.filter(contract__in=[supply, method])
    assert {"accepted", "submitted", "in_progress"} <= set(orbital.values_list("state", flat=True))
    assert Milestone.objects.filter(contract__state="active", state="planned").exists()
    late = overdue()
    assert late.count() >= 2 and {m.contract.vendor.slug for m in late} == {"orbital-cdmo"}
    assert late.filter(state="submitted").exists()  # delivered late, awaiting alice
    assert all(m.due_date < timezone.localdate() and m.state != "accepted" for m in late)
    assert orbital.filter(state="accepted", decided_by__email="alice@acme.test").count() >= 5
    # One milestone was sent back once before it was accepted; one slipped by change order.
    rejected = HistoryEntry.objects.filter(content_type__model="milestone", changes__state__1="rejected")
    assert rejected.count() == 1
    slipped = [m for m in supply.milestones.all() if m.due_date != m.baseline_due_date]
    assert [(m.name, (m.due_date - m.baseline_due_date).days) for m in slipped] == [
        ("6-month stability report, batch 1", 21)
    ]

    # Amendment history: original value → CO-1 (approved, Orbital's signature) → current budget; CO-2 pending.
    co1, co2 = supply.change_orders.order_by("sequence")
    assert (co1.state, co1.proposed_by_side, co1.budget_before, co1.budget_after) == (
        "approved", "sponsor", supply.value, supply.budget,
    )  # fmt: skip
    [co1_signature] = co1.signatures.all()
    assert co1_signature.signer.email == "erin@orbital.test" and co1_signature.meaning == "change_accepted_as_vendor"
    assert signature_matches(co1_signature)
    assert (co2.state, co2.proposed_by.email, co2.value_delta) == ("proposed", "erin@orbital.test", Decimal("18500"))
    assert list(co2.items.values_list("action", flat=True)) == ["add"]
    page = client_for("alice@acme.test").get(supply.get_absolute_url()).content.decode()
    assert page.count('data-testid="amendment"') == 3  # original, CO-1, current
    assert "Photostability study report" in page

    # Invoices: one awaiting alice, one rejected with its reason, paid ones.
    assert Invoice.objects.filter(contract=supply, state="submitted", submitted_by__email="erin@orbital.test").exists()
    assert "included in the milestone prices" in Invoice.objects.get(contract=method, state="rejected").rejection_reason
    assert Invoice.objects.filter(contract__in=[supply, method], state="paid").count() >= 4


def test_signatures_match_and_the_history_was_played_at_its_dates(seeded):
    assert timezone.now is REAL_NOW  # the demo's clock is put back
    for active in Contract.objects.filter(state="active"):
        own = Signature.objects.filter(contract=active, change_order__isnull=True)
        assert set(own.values_list("side", flat=True)) == {"sponsor", "vendor"}
        amended = active.change_orders.filter(state="approved").exists()
        # Where a change order was approved the terms moved on (the page says so); elsewhere they match.
        assert {signature_matches(s) for s in own} == ({False} if amended else {True}), active.title
    assert Contract.objects.filter(state="active", change_orders__state="approved").count() == 1

    supply = contract(demo_contracts.SUPPLY_TITLE)
    today, now = timezone.localdate(), timezone.now()
    assert HistoryEntry.objects.filter(timestamp__gt=now).count() == 0
    assert Signature.objects.filter(signed_at__gt=now).count() == 0
    # The burn climbs over months: the invoiced total changed on five different days, the first long ago.
    recorded = (
        HistoryEntry.objects.for_object(supply)
        .filter(action=Action.CHANGED, changes__has_key="invoiced")
        .order_by("timestamp", "id")
    )
    days = [timezone.localdate(e.timestamp) for e in recorded]
    assert len(set(days)) == 5 and days[0] < today - datetime.timedelta(days=200)
    assert [e.changes["invoiced"][1] for e in recorded][-1] == f"{supply.invoiced}"
    signed = supply.signatures.filter(change_order__isnull=True).order_by("signed_at")
    assert [s.signed_at.date() < supply.start for s in signed] == [True, True]
    assert timezone.localdate(supply.activated_at) == timezone.localdate(signed.last().signed_at)
    # Dates are counted from today: the data stays alive (the stability work order starts soon).
    stability = contract(demo_contracts.STABILITY_TITLE)
    assert stability.start == today + datetime.timedelta(days=14)


def test_a_second_seed_changes_nothing(seeded):
    models = [Contract, Milestone, Signature, ContractActivity, ChangeOrder, ChangeOrderItem, Invoice, OutboxEvent,
              User]  # fmt: skip

    def state():
        counts = {m.__name__: m.objects.count() for m in models}
        # (The vendors' and sponsors' demos re-record unchanged amounts such as 9000000 vs 9000000.00 — reported;
        # not this demo's records.)
        counts["history"] = HistoryEntry.objects.filter(content_type__app_label__in=["contracts", "accounts"]).count()
        counts["figures"] = list(
            Contract.objects.order_by("pk").values_list("number", "state", "budget", "invoiced", "paid", "updated")
        )
        counts["milestones"] = list(Milestone.objects.order_by("pk").values_list("state", "due_date", "updated"))
        counts["passwords"] = list(User.objects.order_by("pk").values_list("email", "password"))
        return counts

    before = state()
    call_command("seed_demo", vendors=5, verbosity=0)
    assert state() == before
    assert before["Contract"] == len(demo_contracts.STORIES) + 1  # and the awarded one


def test_each_demo_user_sees_their_own_contracts_only(seeded):
    def titles(email):
        return set(Contract.objects.for_user(user(email)).values_list("title", flat=True))

    def of(**where):
        return set(Contract.objects.filter(**where).values_list("title", flat=True))

    assert titles("alice@acme.test") == of(sponsor__slug="acme-pharma")
    assert titles("bob@borealis.test") == of(sponsor__slug="borealis-bio") == {demo_contracts.BOREALIS_CDA_TITLE}
    assert titles("erin@orbital.test") == of(vendor__slug="orbital-cdmo") == {
        demo_contracts.ORBITAL_MSA_TITLE, demo_contracts.SUPPLY_TITLE, demo_contracts.METHOD_TRANSFER_TITLE,
        demo_contracts.STABILITY_TITLE,
    }  # fmt: skip
    assert titles("carol@northwind.test") == {demo.AWARDED_TITLE}
    # Helix works for both sponsors: dave sees both sides' contracts with Helix, bob none of Acme's.
    assert titles("dave@helix.test") == of(vendor__slug="helix-manufacturing")
    assert demo_contracts.BOREALIS_CDA_TITLE in titles("dave@helix.test")

    supply = contract(demo_contracts.SUPPLY_TITLE)
    page = client_for("alice@acme.test").get("/contracts/").content.decode()
    assert demo_contracts.SUPPLY_TITLE in page and demo_contracts.BOREALIS_CDA_TITLE not in page
    page = client_for("erin@orbital.test").get("/contracts/").content.decode()
    assert demo_contracts.SUPPLY_TITLE in page and demo_contracts.HELIX_QUALITY_TITLE not in page
    assert client_for("bob@borealis.test").get(supply.get_absolute_url()).status_code == 404
    assert client_for("dave@helix.test").get(supply.get_absolute_url()).status_code == 404


def test_every_demo_user_is_made_in_accounts_demo(seeded):
    named = {email for email, *_ in DEMO_USERS}
    desks = set(User.objects.filter(email__startswith="bids@").values_list("email", "vendor__slug"))
    assert ("bids@lyon-aseptic.test", "lyon-aseptic") in desks
    assert set(User.objects.values_list("email", flat=True)) == named | {email for email, _ in desks}
    # A desk only for vendors no named demo user covers; each signs in with the demo password.
    covered = set(User.objects.filter(email__in=named, vendor__isnull=False).values_list("vendor__slug", flat=True))
    assert not {slug for _, slug in desks} & covered
    assert all(u.check_password("demo-password") for u in User.objects.filter(email__startswith="bids@"))
