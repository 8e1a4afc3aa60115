"""Event-driven re-checks (issue #10, deliverable 4): the services that change what an alert depends on
re-check that object as soon as their transaction commits — not at the next beat — and a later full run
(``run_checks``) finds nothing left to do for it.

The commit is played with ``django_capture_on_commit_callbacks(execute=True)``: the re-check is an
on-commit callback, so a change that rolls back re-checks nothing.
"""

import datetime
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from alerts.models import Alert, Audience
from contracts.models import Invoice
from contracts.services.change_orders import change_order_approve, change_order_propose
from contracts.services.contracts import contract_alert_rechecks_skipped, contract_complete, contract_terminate
from contracts.services.invoices import invoice_approve, invoice_reject
from contracts.services.milestones import milestone_accept, milestone_reject, milestone_submit
from contracts.services.signatures import contract_sign
from cro_cmo.services import TransitionError
from notifications.models import OutboxEvent
from tests.conftest import PASSWORD
from tests.factories import ContractFactory, InvoiceFactory, MilestoneFactory
from vendors.models import Certification
from vendors.services import vendor_record_delete, vendor_record_save

pytestmark = pytest.mark.django_db
OUTCOME = re.compile(r"^(\w+): raised (\d+), escalated (\d+), resolved (\d+)$", re.MULTILINE)


def day(offset: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=offset)


def open_alerts(kind: str, **where):
    return Alert.objects.filter(kind=kind, resolved_at__isnull=True, **where)


def run_checks(*names) -> str:
    out = StringIO()
    call_command("run_checks", *names, stdout=out)
    return out.getvalue()


def rechecks(callbacks) -> list:
    """The alert re-checks among the on-commit callbacks (others kick the outbox delivery)."""
    return [c for c in callbacks if c.__qualname__.startswith("alerts_recheck_on_commit.")]


def nothing_done(output: str, *names) -> bool:
    """Every check named (default: every check that ran) raised, escalated and resolved nothing."""
    counts = {name: (int(r), int(e), int(s)) for name, r, e, s in OUTCOME.findall(output)}
    assert counts and set(names) <= set(counts), output
    return all(counts[name] == (0, 0, 0) for name in names or counts)


@pytest.fixture
def contract(personas):
    """Sponsor A's active contract with vendor X in programme A-1: 100 000 EUR, half its time elapsed."""
    return ContractFactory(
        sponsor=personas.sponsor_a, vendor=personas.vendor_x, program=personas.program_a, state="active",
        value=Decimal("100000.00"), start=day(-100), end=day(100),
    )  # fmt: skip


def test_accepting_the_overdue_milestone_resolves_its_alerts_at_once(personas, contract,
                                                                     django_capture_on_commit_callbacks):  # fmt: skip
    milestone = MilestoneFactory(contract=contract, due_date=day(-3), state="submitted")
    other = MilestoneFactory(contract=contract, due_date=day(-3))
    run_checks()
    alerts = Alert.objects.filter(kind="milestone_overdue", milestone=milestone)
    assert sorted(alerts.values_list("audience", flat=True)) == [Audience.SPONSOR, Audience.VENDOR]
    assert not alerts.filter(resolved_at__isnull=False).exists()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        milestone_accept(actor=personas.sponsor_a_admin, milestone=milestone, comment="Fine.")
    assert len(rechecks(callbacks)) == 1  # the re-check ran on commit, no run_checks in between
    assert alerts.filter(resolved_at__isnull=True).count() == 0 and alerts.count() == 2
    assert open_alerts("milestone_overdue", milestone=other).count() == 2  # the other milestone's stay

    # The next full run confirms: nothing raised, nothing resolved for it.
    output = run_checks("milestone_overdue", "milestone_overdue_vendor")
    assert nothing_done(output, "milestone_overdue", "milestone_overdue_vendor"), output
    assert alerts.count() == 2 and open_alerts("milestone_overdue", milestone=milestone).count() == 0


def test_a_refused_step_rechecks_nothing(personas, contract, django_capture_on_commit_callbacks):
    milestone = MilestoneFactory(contract=contract, due_date=day(-3))  # planned: cannot be accepted
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(TransitionError):
        milestone_accept(actor=personas.sponsor_a_admin, milestone=milestone)
    assert callbacks == [] and not Alert.objects.exists()


def test_a_caller_that_runs_the_checks_itself_can_skip_the_rechecks(personas, contract,
                                                                   django_capture_on_commit_callbacks):  # fmt: skip
    first, second = (MilestoneFactory(contract=contract, due_date=day(-3), state="submitted") for _ in range(2))
    with django_capture_on_commit_callbacks(execute=True) as callbacks, contract_alert_rechecks_skipped():
        milestone_accept(actor=personas.sponsor_a_admin, milestone=first)  # as seed_demo plays its stories
    assert rechecks(callbacks) == []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # and only inside
        milestone_accept(actor=personas.sponsor_a_admin, milestone=second)
    assert len(rechecks(callbacks)) == 1


def test_submitting_and_rejecting_a_milestone_recheck_due_soon(personas, contract, django_capture_on_commit_callbacks):
    milestone = MilestoneFactory(contract=contract, due_date=day(3), state="in_progress")
    run_checks("milestone_due_soon", "milestone_due_soon_vendor")
    assert open_alerts("milestone_due_soon", milestone=milestone).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        milestone_submit(actor=personas.vendor_x_admin, milestone=milestone, comment="Done.")
    assert open_alerts("milestone_due_soon", milestone=milestone).count() == 0  # delivered: nothing to warn of

    with django_capture_on_commit_callbacks(execute=True):
        milestone_reject(actor=personas.sponsor_a_admin, milestone=milestone, reason="Incomplete.")
    # Sent back: owed again in 3 days — a new alert for each side (the resolved ones stay as history).
    assert open_alerts("milestone_due_soon", milestone=milestone).count() == 2
    assert Alert.objects.filter(kind="milestone_due_soon", milestone=milestone).count() == 4
    output = run_checks("milestone_due_soon", "milestone_due_soon_vendor")
    assert nothing_done(output, "milestone_due_soon", "milestone_due_soon_vendor"), output


def test_approving_an_invoice_raises_the_budget_warning_at_once(personas, contract, django_capture_on_commit_callbacks):
    invoice = InvoiceFactory(contract=contract, amount=Decimal("85000.00"), submitted_by=personas.vendor_x_admin)
    rejected = InvoiceFactory(contract=contract, amount=Decimal("99000.00"), submitted_by=personas.vendor_x_admin)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invoice_reject(actor=personas.sponsor_a_admin, invoice=rejected, reason="Not ours.")
    assert rechecks(callbacks) == [] and not Alert.objects.exists()  # a rejection changes no figure

    with django_capture_on_commit_callbacks(execute=True):
        invoice_approve(actor=personas.sponsor_a_admin, invoice=invoice)
    assert Invoice.objects.get(pk=invoice.pk).state == "approved"
    [warning] = open_alerts("budget_warning", contract=contract)
    assert warning.audience == Audience.SPONSOR and "85 %" in warning.title
    # 85 % burnt with half the time elapsed: burn ahead too. One event each, to the sponsor.
    assert open_alerts("burn_ahead_of_schedule", contract=contract).count() == 1
    events = OutboxEvent.objects.filter(event_type="alert_raised")
    assert sorted(e.payload["kind"] for e in events) == ["budget_warning", "burn_ahead_of_schedule"]
    assert {(e.sponsor_id, e.vendor_id) for e in events} == {(personas.sponsor_a.pk, None)}
    output = run_checks("budget_warning", "burn_ahead_of_schedule")
    assert nothing_done(output, "budget_warning", "burn_ahead_of_schedule"), output


def test_approving_a_change_order_rechecks_the_budget_and_the_programme_cap(personas, contract,
                                                                            django_capture_on_commit_callbacks):  # fmt: skip
    personas.program_a.budget_cap, personas.program_a.budget_currency = Decimal("110000"), "EUR"
    personas.program_a.save()
    type(contract).objects.filter(pk=contract.pk).update(invoiced=Decimal("85000"))
    run_checks("budget_warning", "program_over_budget")
    [warning] = open_alerts("budget_warning", contract=contract)
    assert not open_alerts("program_over_budget").exists()  # 100 000 within 110 000

    change_order = change_order_propose(actor=personas.vendor_x_admin, contract=contract, reason="Two more batches",
                                        value_delta=Decimal("20000.00"))  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        change_order_approve(actor=personas.sponsor_a_admin, change_order=change_order, password=PASSWORD,
                             request=None)  # fmt: skip
    warning.refresh_from_db()
    assert warning.resolved_at is not None  # 85 000 of 120 000: 70 %
    [over_cap] = open_alerts("program_over_budget")
    assert (over_cap.program_id, over_cap.sponsor_id) == (personas.program_a.pk, personas.sponsor_a.pk)
    output = run_checks("budget_warning", "program_over_budget")
    assert nothing_done(output, "budget_warning", "program_over_budget"), output


def test_renewing_a_certificate_resolves_its_alerts_at_once(personas, contract, django_capture_on_commit_callbacks):
    vendor = personas.vendor_x
    expiring = Certification.objects.create(vendor=vendor, type="gmp", authority="mhra", issued_on=day(-1000),
                                            expires_on=day(30))  # fmt: skip
    dated = Certification.objects.create(vendor=vendor, type="gcp", authority="mhra", issued_on=day(-1000),
                                         expires_on=day(20))  # fmt: skip
    run_checks("certificate_expiring", "certificate_expiring_sponsors")
    # The vendor and sponsor A (an active contract with vendor X) are told; sponsor B has none.
    assert sorted(open_alerts("certificate_expiring").values_list("audience", "sponsor_id")) == [
        (Audience.SPONSOR, personas.sponsor_a.pk), (Audience.SPONSOR, personas.sponsor_a.pk),
        (Audience.VENDOR, None), (Audience.VENDOR, None),
    ]  # fmt: skip

    # A new certificate of the same type and authority (the form's and the API's save service) …
    renewal = Certification(vendor=vendor, type="gmp", authority="mhra", issued_on=day(-1), expires_on=day(1095))
    with django_capture_on_commit_callbacks(execute=True):
        vendor_record_save(actor=personas.vendor_x_admin, instance=renewal)
    assert open_alerts("certificate_expiring", certification=expiring).count() == 0
    # … or a later expiry on the same certificate.
    dated.expires_on = day(400)
    with django_capture_on_commit_callbacks(execute=True):
        vendor_record_save(actor=personas.vendor_x_admin, instance=dated)
    assert not open_alerts("certificate_expiring").exists()
    assert Alert.objects.filter(kind="certificate_expiring", resolved_at__isnull=False).count() == 4
    output = run_checks("certificate_expiring", "certificate_expiring_sponsors")
    assert nothing_done(output, "certificate_expiring", "certificate_expiring_sponsors"), output

    # Deleting the renewal (entered by mistake) brings the old one's expiry back at once: new alerts.
    with django_capture_on_commit_callbacks(execute=True):
        vendor_record_delete(actor=personas.vendor_x_admin, instance=renewal)
    assert open_alerts("certificate_expiring", certification=expiring).count() == 2


def test_activating_a_contract_raises_its_overdue_milestones_and_certificates(personas,
                                                                              django_capture_on_commit_callbacks):  # fmt: skip
    pending = ContractFactory(sponsor=personas.sponsor_a, vendor=personas.vendor_x, state="pending_signature",
                              start=day(-40), end=day(300))  # fmt: skip
    milestone = MilestoneFactory(contract=pending, due_date=day(-2))
    Certification.objects.create(vendor=personas.vendor_x, type="gmp", authority="mhra", issued_on=day(-1000),
                                 expires_on=day(10))  # fmt: skip
    run_checks()
    assert not open_alerts("milestone_overdue").exists()  # a contract not yet signed: its dates do not run
    assert not open_alerts("certificate_expiring", audience=Audience.SPONSOR).exists()

    with django_capture_on_commit_callbacks(execute=True):
        contract_sign(actor=personas.sponsor_a_admin, contract=pending, password=PASSWORD, request=None)
        contract_sign(actor=personas.vendor_x_admin, contract=pending, password=PASSWORD, request=None)
    pending.refresh_from_db()
    assert pending.state == "active"
    assert sorted(open_alerts("milestone_overdue", milestone=milestone).values_list("audience", flat=True)) == [
        Audience.SPONSOR, Audience.VENDOR,
    ]  # fmt: skip
    assert open_alerts("certificate_expiring", audience=Audience.SPONSOR, sponsor=personas.sponsor_a).count() == 1
    output = run_checks()
    assert nothing_done(output), output


@pytest.mark.parametrize("end", ["complete", "terminate"])
def test_a_contract_that_ends_has_its_alerts_resolved_at_once(end, personas, contract,
                                                              django_capture_on_commit_callbacks):  # fmt: skip
    personas.program_a.budget_cap, personas.program_a.budget_currency = Decimal("50000"), "EUR"
    personas.program_a.save()
    type(contract).objects.filter(pk=contract.pk).update(invoiced=Decimal("85000"))
    MilestoneFactory(contract=contract, due_date=day(-3))
    Certification.objects.create(vendor=personas.vendor_x, type="gmp", authority="mhra", issued_on=day(-1000),
                                 expires_on=day(10))  # fmt: skip
    run_checks()
    open_kinds = set(Alert.objects.filter(resolved_at__isnull=True).values_list("kind", "audience"))
    assert {("milestone_overdue", "sponsor"), ("milestone_overdue", "vendor"), ("budget_warning", "sponsor"),
            ("program_over_budget", "sponsor"), ("certificate_expiring", "sponsor"),
            ("certificate_expiring", "vendor")} <= open_kinds  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        if end == "complete":
            contract_complete(actor=personas.sponsor_a_admin, contract=contract)
        else:
            contract_terminate(actor=personas.sponsor_a_admin, contract=contract, reason="Site closed.")
    still_open = set(Alert.objects.filter(resolved_at__isnull=True).values_list("kind", "audience"))
    # The vendor's own certificate alert stays; sponsor A no longer works with vendor X, so its copy goes.
    expected = {("certificate_expiring", "vendor")}
    if end == "complete":
        expected.add(("program_over_budget", "sponsor"))  # a completed contract's budget still counts
    assert still_open == expected
    output = run_checks()
    assert nothing_done(output), output
