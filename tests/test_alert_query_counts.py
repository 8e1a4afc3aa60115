"""Every alert check runs a constant number of SQL statements: the same for 2 subjects as for 20, on a first
run (everything raised, with its events) and on a second (nothing to do). Set-based, not a loop per row."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.definitions import ALERT_CHECKS
from alerts.engine import run_check
from alerts.models import Alert
from notifications.models import OutboxEvent
from sponsors.models import VendorQualification
from tests.factories import ContractFactory, MilestoneFactory, ProgramFactory, SponsorFactory, VendorFactory
from vendors.models import Certification

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 6, 15)
MOST_STATEMENTS = 12  # advisory lock, insert, escalate, resolve, events (read + insert) and savepoints


def day(offset: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=offset)


def subjects(sponsor, n: int, start: int = 0) -> None:
    """``n`` of everything every check looks for, each with its own vendor and programme."""
    for i in range(start, start + n):
        vendor = VendorFactory(name=f"Vendor {i:02d}", slug=f"vendor-{i:02d}")
        program = ProgramFactory(
            sponsor=sponsor, code=f"P-{i:02d}", budget_cap=Decimal("150000"), budget_currency="EUR"
        )
        common = {"sponsor": sponsor, "vendor": vendor, "program": program, "state": "active", "start": day(-50),
                  "value": Decimal("100000.00")}  # fmt: skip
        # 85 % invoiced at 62 % of its time, ending in 30 days: warning, burn ahead, ending.
        warned = ContractFactory(**common, end=day(30), invoiced=Decimal("85000"))
        ContractFactory(**common, end=day(200), invoiced=Decimal("120000"))  # exceeded; the programme over its cap
        MilestoneFactory(contract=warned, due_date=day(-3))  # overdue
        MilestoneFactory(contract=warned, due_date=day(3))  # due soon
        for expires_on, kind in ((day(30), "gmp"), (day(-10), "glp")):  # expiring, expired
            Certification.objects.create(
                vendor=vendor, type=kind, authority="fda", expires_on=expires_on, issued_on=day(-1000)
            )
        VendorQualification.objects.create(sponsor=sponsor, vendor=vendor, status="approved", next_audit_due=day(10))


def statements(check) -> tuple[int, int, int]:
    """(statements of a first run, of a second run, alerts raised by the first)."""
    with CaptureQueriesContext(connection) as first:
        raised = len(run_check(check, today=TODAY).raised)
    with CaptureQueriesContext(connection) as second:
        again = run_check(check, today=TODAY)
    assert (again.raised, again.escalated, again.resolved) == ([], [], [])
    return len(first.captured_queries), len(second.captured_queries), raised


@pytest.mark.parametrize("check", ALERT_CHECKS, ids=lambda c: c.name)
def test_each_check_runs_as_many_statements_for_2_subjects_as_for_20(check):
    sponsor = SponsorFactory(name="Sponsor S", slug="sponsor-s")
    subjects(sponsor, 2)
    first_2, second_2, raised_2 = statements(check)
    Alert.objects.all().delete()
    OutboxEvent.objects.all().delete()
    subjects(sponsor, 18, start=2)
    first_20, second_20, raised_20 = statements(check)

    # One or two alerts per subject (both contracts burn ahead of schedule): work at both sizes, ten times more.
    assert raised_2 in (2, 4) and raised_20 == 10 * raised_2
    assert OutboxEvent.objects.filter(event_type="alert_raised").count() == raised_20
    assert (first_20, second_20) == (first_2, second_2)
    assert first_2 <= MOST_STATEMENTS and second_2 < first_2  # a second run emits no events
