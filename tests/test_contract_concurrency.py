"""Contract figures under real concurrency (PostgreSQL): two decisions on one contract at the same moment,
each in its own connection, released together by a barrier. The row lock on the contract makes them take
turns, so the second sees what the first wrote: an over-budget pair never both passes, no approval is
lost, and of two decisions on one change order exactly one wins.
"""

import threading
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import RequestFactory

from audit.models import HistoryEntry
from contracts.choices import INVOICED_STATES
from contracts.models import ChangeOrder, Contract, Invoice, Signature
from contracts.services import change_orders as co
from contracts.services import invoices as inv
from contracts.services import signatures as sig
from cro_cmo.services import TransitionError
from tests.conftest import PASSWORD
from tests.factories import ContractFactory, InvoiceFactory, SponsorFactory, UserFactory, VendorFactory

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def parties(tag: str) -> SimpleNamespace:
    """A sponsor with an admin and two members, a vendor with an admin, and an active contract of 100,000 EUR."""
    sponsor = SponsorFactory(name=f"Race Pharma {tag}", slug=f"race-pharma-{tag}")
    vendor = VendorFactory(name=f"Race CRO {tag}", slug=f"race-cro-{tag}")
    return SimpleNamespace(
        sponsor=sponsor,
        vendor=vendor,
        admin=UserFactory(email=f"ann-{tag}@race.test", sponsor=sponsor, role="admin"),
        member=UserFactory(email=f"bo-{tag}@race.test", sponsor=sponsor, role="member"),
        member_2=UserFactory(email=f"cy-{tag}@race.test", sponsor=sponsor, role="member"),
        vendor_admin=UserFactory(email=f"di-{tag}@race-cro.test", vendor=vendor, role="admin"),
        contract=ContractFactory(sponsor=sponsor, vendor=vendor, value=Decimal("100000.00"), state="active"),
    )


def race(*steps):
    """Run each step in its own thread and connection. A step loads what it needs, then returns the call to
    make; all calls start together (barrier). Returns "ok" or the refusal's message for each step."""
    barrier = threading.Barrier(len(steps))
    outcomes = [None] * len(steps)

    def run(index):
        try:
            call = steps[index]()
            barrier.wait(timeout=30)
            call()
            outcomes[index] = "ok"
        except (TransitionError, PermissionDenied) as exc:
            outcomes[index] = str(exc)
        except ValidationError as exc:
            outcomes[index] = " ".join(exc.messages)
        except Exception as exc:
            outcomes[index] = f"unexpected {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(steps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def approve_invoice(actor, invoice_pk, override_reason=""):
    def step():
        invoice = Invoice.objects.select_related("contract").get(pk=invoice_pk)
        return lambda: inv.invoice_approve(actor=actor, invoice=invoice, override_reason=override_reason)

    return step


def approve_change(actor, change_pk):
    def step():
        change = ChangeOrder.objects.select_related("contract").get(pk=change_pk)
        request = RequestFactory().post("/", REMOTE_ADDR="127.0.0.1")
        return lambda: co.change_order_approve(actor=actor, change_order=change, password=PASSWORD, request=request)

    return step


def reject_change(actor, change_pk):
    def step():
        change = ChangeOrder.objects.select_related("contract").get(pk=change_pk)
        return lambda: co.change_order_reject(actor=actor, change_order=change, reason="Not now")

    return step


def invoiced_sum(contract) -> Decimal:
    return sum(Invoice.objects.filter(contract=contract, state__in=INVOICED_STATES).values_list("amount", flat=True))


def propose(p, delta, reason):
    return co.change_order_propose(actor=p.vendor_admin, contract=p.contract, reason=reason, value_delta=delta)


@pytest.mark.parametrize("attempt", range(3))
def test_two_approvals_that_together_pass_the_budget_never_both_pass(attempt):
    p = parties(f"inv-{attempt}")
    first, second = (InvoiceFactory(contract=p.contract, amount=Decimal("60000.00")) for _ in range(2))
    outcomes = race(approve_invoice(p.member, first.pk), approve_invoice(p.member_2, second.pk))
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    refusal = inv.INVOICE_OVER_BUDGET_ADMIN.format(after="120,000.00 EUR", budget="100,000.00 EUR")
    assert refusal in outcomes
    contract = Contract.objects.get(pk=p.contract.pk)
    assert contract.invoiced == invoiced_sum(contract) == Decimal("60000.00")
    assert sorted(Invoice.objects.filter(contract=contract).values_list("state", flat=True)) == [
        "approved",
        "submitted",
    ]


def test_two_approvals_within_the_budget_both_count():
    """No lost update: each approval adds its amount to what the other wrote."""
    p = parties("both")
    first, second = (InvoiceFactory(contract=p.contract, amount=Decimal("40000.00")) for _ in range(2))
    outcomes = race(approve_invoice(p.member, first.pk), approve_invoice(p.member_2, second.pk))
    assert outcomes == ["ok", "ok"]
    contract = Contract.objects.get(pk=p.contract.pk)
    assert contract.invoiced == invoiced_sum(contract) == Decimal("80000.00")


@pytest.mark.parametrize("attempt", range(2))
def test_of_two_approvals_of_one_change_order_one_applies_it(attempt):
    p = parties(f"co-{attempt}")
    change = propose(p, Decimal("25000.00"), "More sites")
    outcomes = race(approve_change(p.admin, change.pk), approve_change(p.member, change.pk))
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    assert "This change order is approved: only a proposed change order can be approved." in outcomes
    assert Contract.objects.get(pk=p.contract.pk).budget == Decimal("125000.00")
    assert Signature.objects.filter(change_order=change).count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_an_approval_and_a_rejection_of_one_change_order_one_wins(attempt):
    p = parties(f"co-rej-{attempt}")
    change = propose(p, Decimal("25000.00"), "More sites")
    outcomes = race(approve_change(p.admin, change.pk), reject_change(p.member, change.pk))
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    final = ChangeOrder.objects.get(pk=change.pk)
    budget = Contract.objects.get(pk=p.contract.pk).budget
    signatures = Signature.objects.filter(change_order=change).count()
    if outcomes[0] == "ok":
        assert (final.state, budget, signatures) == ("approved", Decimal("125000.00"), 1)
        assert outcomes[1].startswith("This change order is approved: only a proposed change order can be rejected")
    else:
        assert (final.state, budget, signatures) == ("rejected", Decimal("100000.00"), 0)
        assert outcomes[0] == "This change order is rejected: only a proposed change order can be approved."


@pytest.mark.parametrize("attempt", range(2))
def test_two_cuts_that_together_go_below_the_invoiced_amount_never_both_apply(attempt):
    p = parties(f"cuts-{attempt}")
    inv.invoice_approve(actor=p.admin, invoice=InvoiceFactory(contract=p.contract, amount=Decimal("50000.00")))
    cuts = [propose(p, Decimal("-30000.00"), f"Descope {n}") for n in (1, 2)]
    outcomes = race(approve_change(p.admin, cuts[0].pk), approve_change(p.member, cuts[1].pk))
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    refusal = co.CO_NO_LONGER_APPLIES.format(
        problems=co.CO_BELOW_INVOICED.format(after="40,000.00 EUR", invoiced="50,000.00 EUR")
    )
    assert refusal in outcomes
    assert Contract.objects.get(pk=p.contract.pk).budget == Decimal("70000.00")
    assert sorted(ChangeOrder.objects.filter(contract=p.contract).values_list("state", flat=True)) == [
        "approved",
        "proposed",
    ]


@pytest.mark.parametrize("attempt", range(2))
def test_an_invoice_approval_and_a_budget_cut_never_cross(attempt):
    """Budget 100,000, invoiced 50,000: approving 30,000 more and cutting the budget by 30,000 are each fine
    alone, together they would leave 80,000 invoiced against 70,000. Whichever goes second is refused."""
    p = parties(f"cross-{attempt}")
    inv.invoice_approve(actor=p.admin, invoice=InvoiceFactory(contract=p.contract, amount=Decimal("50000.00")))
    pending = InvoiceFactory(contract=p.contract, amount=Decimal("30000.00"))
    cut = propose(p, Decimal("-30000.00"), "Descope")
    outcomes = race(approve_invoice(p.member, pending.pk), approve_change(p.admin, cut.pk))
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    contract = Contract.objects.get(pk=p.contract.pk)
    assert contract.invoiced == invoiced_sum(contract) <= contract.budget
    assert (contract.budget, contract.invoiced) in [
        (Decimal("100000.00"), Decimal("80000.00")),
        (Decimal("70000.00"), Decimal("50000.00")),
    ]


def sign_contract(actor, contract_pk):
    def step():
        contract = Contract.objects.get(pk=contract_pk)
        request = RequestFactory().post("/", REMOTE_ADDR="127.0.0.1")
        return lambda: sig.contract_sign(actor=actor, contract=contract, password=PASSWORD, request=request)

    return step


@pytest.mark.parametrize("attempt", range(2))
def test_both_parties_signing_at_once_activate_the_contract_once(attempt):
    p = parties(f"sign-{attempt}")
    Contract.objects.filter(pk=p.contract.pk).update(state="pending_signature")
    outcomes = race(sign_contract(p.admin, p.contract.pk), sign_contract(p.vendor_admin, p.contract.pk))
    assert outcomes == ["ok", "ok"]
    contract = Contract.objects.get(pk=p.contract.pk)
    assert contract.state == "active" and contract.activated_at is not None
    assert sorted(Signature.objects.filter(contract=contract).values_list("side", flat=True)) == ["sponsor", "vendor"]
    activations = [
        e
        for e in HistoryEntry.objects.for_object(contract)
        if e.changes.get("state") == ["pending_signature", "active"]
    ]
    assert len(activations) == 1


def test_two_people_of_one_side_signing_at_once_sign_once():
    p = parties("sign-twice")
    Contract.objects.filter(pk=p.contract.pk).update(state="pending_signature")
    outcomes = race(sign_contract(p.admin, p.contract.pk), sign_contract(p.member, p.contract.pk))
    assert sorted(outcomes) == sorted(["ok", sig.SIGN_TWICE]), outcomes
    assert Signature.objects.filter(contract=p.contract).count() == 1
    assert Contract.objects.get(pk=p.contract.pk).state == "pending_signature"
