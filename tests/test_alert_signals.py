"""Programmes and qualifications have no service of their own (the generic ``object_save`` saves them):
a changed cap or audit date re-checks that record's alerts after commit (``alerts.signals``)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertKind
from alerts.services import alert_rechecks_skipped
from cro_cmo.services import object_save
from sponsors.models import VendorQualification
from sponsors.services import qualification_save
from tests.factories import ContractFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def day(offset: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=offset)


def open_alerts(kind):
    return Alert.objects.filter(kind=kind, resolved_at__isnull=True)


def test_an_audit_date_moved_into_the_lead_time_raises_at_once_and_moved_out_resolves(
    personas, django_capture_on_commit_callbacks
):
    p = personas
    qualification = VendorQualification(sponsor=p.sponsor_a, vendor=p.vendor_x, next_audit_due=day(200))
    with django_capture_on_commit_callbacks(execute=True):
        qualification_save(actor=p.sponsor_a_admin, qualification=qualification, reason="")
    assert not open_alerts(AlertKind.REQUALIFICATION_DUE).exists()

    qualification.next_audit_due = day(10)  # within the default 30 days
    with django_capture_on_commit_callbacks(execute=True):
        qualification_save(actor=p.sponsor_a_admin, qualification=qualification, reason="Audit brought forward")
    alert = open_alerts(AlertKind.REQUALIFICATION_DUE).get()
    assert (alert.sponsor_id, alert.vendor_id, alert.qualification_id) == (
        p.sponsor_a.pk, p.vendor_x.pk, qualification.pk,
    )  # fmt: skip

    qualification.last_audit_on, qualification.next_audit_due = day(-1), day(700)
    with django_capture_on_commit_callbacks(execute=True):
        qualification_save(actor=p.sponsor_a_admin, qualification=qualification, reason="Audited")
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_raising_a_programme_cap_resolves_its_over_budget_alert_at_once(personas, django_capture_on_commit_callbacks):
    p = personas
    program = ProgramFactory(sponsor=p.sponsor_a, budget_cap=Decimal("100000"), budget_currency="EUR")
    with django_capture_on_commit_callbacks(execute=True):
        contract = ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, program=program, currency="EUR")
        contract.__class__.objects.filter(pk=contract.pk).update(state="active", budget=Decimal("150000"))
        program.save()  # a save re-checks the programme (the cap is now exceeded)
    assert open_alerts(AlertKind.PROGRAM_OVER_BUDGET).filter(program=program).count() == 1

    program.budget_cap = Decimal("200000")
    with django_capture_on_commit_callbacks(execute=True):
        object_save(actor=p.sponsor_a_admin, instance=program, reason="Budget approved for phase 3")
    assert not open_alerts(AlertKind.PROGRAM_OVER_BUDGET).filter(program=program).exists()


def test_no_recheck_while_a_caller_runs_the_checks_itself(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, alert_rechecks_skipped():
        ProgramFactory(sponsor=personas.sponsor_a)
    assert not [c for c in callbacks if c.__qualname__.startswith("alerts_recheck_on_commit.")]
    with django_capture_on_commit_callbacks() as callbacks:
        ProgramFactory(sponsor=personas.sponsor_a)
    assert [c for c in callbacks if c.__qualname__.startswith("alerts_recheck_on_commit.")]
