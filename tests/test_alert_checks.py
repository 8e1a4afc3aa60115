"""Behaviour of every alert check of SPEC §4 (``alerts/definitions.py``), run through the engine on a fixed day.

For each kind: raised when the condition holds and not when it does not (the boundaries of each threshold),
idempotent (a second run raises nothing; one outbox event per alert), self-healing (the alert resolves when
its condition clears; a condition that comes back raises a *new* alert), escalation, per-sponsor thresholds
in one run, and who each alert is addressed to.
"""

import datetime
from decimal import Decimal

import pytest

from alerts.definitions import ALERT_CHECKS, ALERT_CHECKS_BY_NAME
from alerts.engine import run_check
from alerts.models import Alert, Audience, Severity
from notifications.models import OutboxEvent
from sponsors.models import VendorQualification
from tests.factories import (
    ContractFactory,
    MilestoneFactory,
    ProgramFactory,
    SponsorFactory,
    UserFactory,
    VendorFactory,
)
from vendors.models import Certification, Site

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 6, 15)  # the checks take "today": a fixed day keeps every boundary exact


def day(offset: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=offset)


def run(name: str, today: datetime.date = TODAY):
    return run_check(ALERT_CHECKS_BY_NAME[name], today=today)


def run_all(today: datetime.date = TODAY) -> dict:
    return {check.name: run_check(check, today=today) for check in ALERT_CHECKS}


def open_alerts(kind: str, **where):
    return Alert.objects.filter(kind=kind, resolved_at__isnull=True, **where)


def active_contract(sponsor, vendor, **fields):
    """Active, 100 000 EUR, from day −50 to day +50 (half its time elapsed today)."""
    defaults = {"state": "active", "value": Decimal("100000.00"), "start": day(-50), "end": day(50)}
    return ContractFactory(sponsor=sponsor, vendor=vendor, **{**defaults, **fields})


@pytest.fixture
def parties(db):
    class Parties:
        sponsor = SponsorFactory(name="Sponsor S", slug="sponsor-s")
        other_sponsor = SponsorFactory(name="Sponsor T", slug="sponsor-t")
        vendor = VendorFactory(name="Vendor V", slug="vendor-v")

    return Parties


# --- Milestones ---------------------------------------------------------------------------------------------


def test_milestone_due_soon_from_today_to_the_sponsors_days(parties):
    contract = active_contract(parties.sponsor, parties.vendor, end=day(200))
    today = MilestoneFactory(contract=contract, due_date=day(0))
    in_7 = MilestoneFactory(contract=contract, due_date=day(7), state="in_progress")
    rejected = MilestoneFactory(contract=contract, due_date=day(3), state="rejected")  # sent back: owed again
    MilestoneFactory(contract=contract, due_date=day(8))  # one day beyond the default 7
    MilestoneFactory(contract=contract, due_date=day(2), state="submitted")  # delivered: nothing to warn about
    MilestoneFactory(contract=contract, due_date=day(2), state="accepted")
    MilestoneFactory(contract=contract, due_date=day(-1))  # overdue, not "due soon"
    draft = ContractFactory(sponsor=parties.sponsor, vendor=parties.vendor, state="draft")
    MilestoneFactory(contract=draft, due_date=day(1))  # a draft's dates do not run yet

    assert len(run("milestone_due_soon").raised) == 3
    assert len(run("milestone_due_soon_vendor").raised) == 3
    for audience in (Audience.SPONSOR, Audience.VENDOR):
        alerts = open_alerts("milestone_due_soon", audience=audience)
        assert set(alerts.values_list("milestone_id", flat=True)) == {today.pk, in_7.pk, rejected.pk}
        assert set(alerts.values_list("severity", flat=True)) == {Severity.INFO}
    alert = open_alerts("milestone_due_soon", milestone=in_7, audience=Audience.SPONSOR).get()
    assert alert.title == f"Milestone due soon: {in_7.name} — {contract.number}, due {day(7).isoformat()}"
    assert (alert.sponsor_id, alert.vendor_id, alert.contract_id) == (parties.sponsor.pk, parties.vendor.pk,
                                                                      contract.pk)  # fmt: skip


def test_milestone_overdue_the_day_after_its_due_date_until_accepted_or_removed(parties):
    contract = active_contract(parties.sponsor, parties.vendor)
    yesterday = MilestoneFactory(contract=contract, due_date=day(-1))
    submitted = MilestoneFactory(contract=contract, due_date=day(-5), state="submitted")  # delivered late: still owed
    MilestoneFactory(contract=contract, due_date=day(0))  # due today: not yet overdue
    MilestoneFactory(contract=contract, due_date=day(-5), state="accepted")
    MilestoneFactory(contract=contract, due_date=day(-5), state="removed")
    for state in ("draft", "pending_signature", "completed", "terminated"):  # only an active contract's dates run
        other = ContractFactory(sponsor=parties.sponsor, vendor=parties.vendor, state=state)
        MilestoneFactory(contract=other, due_date=day(-5))

    run("milestone_overdue")
    run("milestone_overdue_vendor")
    for audience in (Audience.SPONSOR, Audience.VENDOR):
        alerts = open_alerts("milestone_overdue", audience=audience)
        assert set(alerts.values_list("milestone_id", flat=True)) == {yesterday.pk, submitted.pk}
        assert set(alerts.values_list("severity", flat=True)) == {Severity.WARNING}


def test_overdue_is_critical_beyond_the_sponsors_escalation_days(parties):
    contract = active_contract(parties.sponsor, parties.vendor)
    at_14 = MilestoneFactory(contract=contract, due_date=day(-14))
    at_15 = MilestoneFactory(contract=contract, due_date=day(-15))
    run("milestone_overdue")
    severities = dict(open_alerts("milestone_overdue").values_list("milestone_id", "severity"))
    assert severities == {at_14.pk: Severity.WARNING, at_15.pk: Severity.CRITICAL}
    # Raised critical at once: that is not an escalation (no escalated_at, no "alert_escalated" event).
    assert not open_alerts("milestone_overdue", escalated_at__isnull=False).exists()
    assert not OutboxEvent.objects.filter(event_type="alert_escalated").exists()


def test_an_overdue_milestone_escalates_once_after_the_escalation_days(parties):
    contract = active_contract(parties.sponsor, parties.vendor)
    milestone = MilestoneFactory(contract=contract, due_date=day(-10))
    run("milestone_overdue")
    run("milestone_overdue_vendor")
    raised = set(open_alerts("milestone_overdue").values_list("id", flat=True))
    assert len(raised) == 2

    assert run("milestone_overdue", today=day(4)).escalated == []  # 14 days over: not yet
    sponsor_result = run("milestone_overdue", today=day(5))  # 15 days over
    vendor_result = run("milestone_overdue_vendor", today=day(5))
    assert set(sponsor_result.escalated + vendor_result.escalated) == raised
    assert sponsor_result.raised == vendor_result.raised == []
    alerts = Alert.objects.filter(milestone=milestone)
    assert set(alerts.values_list("severity", flat=True)) == {Severity.CRITICAL}
    assert all(a.escalated_at is not None and a.resolved_at is None for a in alerts)
    events = OutboxEvent.objects.filter(event_type="alert_escalated")
    assert sorted(e.payload["alert_id"] for e in events) == sorted(raised)
    assert all(e.title.startswith("Escalated: Milestone overdue") for e in events)
    assert {e.payload["severity"] for e in events} == {"critical"}

    # Once: the next runs escalate nothing more and emit nothing.
    again = run("milestone_overdue", today=day(6)), run("milestone_overdue_vendor", today=day(6))
    assert [r.escalated for r in again] == [[], []] and events.count() == 2


# --- Budgets ----------------------------------------------------------------------------------------------


def test_budget_warning_from_80_percent_and_exceeded_from_100(parties):
    invoiced = {"79": "79000", "80": "80000", "99.99": "99990", "100": "100000", "120": "120000"}
    contracts = {
        share: active_contract(parties.sponsor, parties.vendor, invoiced=Decimal(amount), title=f"At {share} %")
        for share, amount in invoiced.items()
    }
    run("budget_warning")
    run("budget_exceeded")
    warned = set(open_alerts("budget_warning").values_list("contract_id", flat=True))
    exceeded = set(open_alerts("budget_exceeded").values_list("contract_id", flat=True))
    assert warned == {contracts["80"].pk, contracts["99.99"].pk}
    assert exceeded == {contracts["100"].pk, contracts["120"].pk}
    assert set(open_alerts("budget_exceeded").values_list("severity", flat=True)) == {Severity.CRITICAL}
    titles = dict(open_alerts("budget_warning").values_list("contract_id", "title"))
    assert titles[contracts["80"].pk].endswith("has invoiced 80 % of its budget")
    # 99.99 % is a warning: its title must not claim the whole budget (rounded up to 100 % it read as exceeded).
    assert titles[contracts["99.99"].pk].endswith("has invoiced 99 % of its budget")
    assert set(open_alerts("budget_warning").values_list("audience", flat=True)) == {Audience.SPONSOR}


def test_a_contract_without_budget_exceeds_it_with_its_first_invoice(parties):
    nothing = active_contract(parties.sponsor, parties.vendor, value=Decimal("0"), title="Nothing invoiced")
    invoiced = active_contract(parties.sponsor, parties.vendor, value=Decimal("0"), invoiced=Decimal("10"))
    run("budget_warning")
    run("budget_exceeded")
    assert list(open_alerts("budget_exceeded").values_list("contract_id", flat=True)) == [invoiced.pk]
    assert not open_alerts("budget_warning").exists() and nothing.pk != invoiced.pk


def test_burn_ahead_of_time_by_more_than_15_points(parties):
    # Start day −50, end day +50: half the time elapsed today, so 65 % burnt is 15 points ahead, 66 % is 16.
    at_15 = active_contract(parties.sponsor, parties.vendor, invoiced=Decimal("65000"))
    at_16 = active_contract(parties.sponsor, parties.vendor, invoiced=Decimal("66000"))
    run("burn_ahead_of_schedule")
    [alert] = open_alerts("burn_ahead_of_schedule")
    assert alert.contract_id == at_16.pk != at_15.pk
    assert alert.title.endswith("has burnt 66 % of its budget with 50 % of its time")
    # Ten days later the time has caught up (60 % elapsed): the alert resolves by itself.
    assert run("burn_ahead_of_schedule", today=day(10)).resolved == [alert.pk]


def test_contract_ending_within_60_days_with_open_milestones(parties):
    in_60 = active_contract(parties.sponsor, parties.vendor, end=day(60))
    in_61 = active_contract(parties.sponsor, parties.vendor, end=day(61))
    today = active_contract(parties.sponsor, parties.vendor, end=day(0))
    all_done = active_contract(parties.sponsor, parties.vendor, end=day(30))
    for contract in (in_60, in_61, today):
        MilestoneFactory(contract=contract, due_date=day(-5), state="accepted")
        MilestoneFactory(contract=contract, due_date=contract.end, state="in_progress")
    MilestoneFactory(contract=all_done, due_date=day(-5), state="accepted")
    MilestoneFactory(contract=all_done, due_date=day(-4), state="removed")
    run("contract_ending")
    assert set(open_alerts("contract_ending").values_list("contract_id", flat=True)) == {in_60.pk, today.pk}


def test_program_cap_sums_only_the_contracts_in_the_caps_currency(parties):
    capped = ProgramFactory(sponsor=parties.sponsor, budget_cap=Decimal("100000"), budget_currency="EUR")
    mixed = ProgramFactory(sponsor=parties.sponsor, budget_cap=Decimal("100000"), budget_currency="EUR")
    ProgramFactory(sponsor=parties.sponsor, budget_cap=None)

    def contract(program, state, value, currency="EUR"):
        return ContractFactory(sponsor=parties.sponsor, vendor=parties.vendor, program=program, state=state,
                               value=Decimal(value), currency=currency)  # fmt: skip

    # Committed in EUR: 60 000 active + 50 000 awaiting signature = 110 000 > 100 000. Drafts and terminated
    # contracts commit nothing.
    contract(capped, "active", "60000")
    contract(capped, "pending_signature", "50000")
    contract(capped, "draft", "900000")
    contract(capped, "terminated", "900000")
    # 60 000 EUR + 500 000 USD: never converted nor summed in, so within the EUR cap.
    contract(mixed, "active", "60000")
    contract(mixed, "active", "500000", currency="USD")
    run("program_over_budget")
    [alert] = open_alerts("program_over_budget")
    assert (alert.program_id, alert.sponsor_id, alert.audience) == (capped.pk, parties.sponsor.pk, Audience.SPONSOR)
    assert "commits 110000" in alert.title and "EUR against a cap of 100000" in alert.title


# --- Certificates ------------------------------------------------------------------------------------------


def certificate(vendor, expires_on, *, type="gmp", authority="fda", site=None, issued_on=None):
    return Certification.objects.create(
        vendor=vendor, type=type, authority=authority, site=site, expires_on=expires_on,
        issued_on=issued_on or (expires_on - datetime.timedelta(days=1000) if expires_on else day(-1000)),
    )  # fmt: skip


def test_certificate_expiring_within_90_days_and_expired_from_the_day_after(parties):
    vendor = parties.vendor
    in_90 = certificate(vendor, day(90), type="gmp")
    today = certificate(vendor, day(0), type="gcp")  # valid through today: expiring, not expired
    certificate(vendor, day(91), type="glp")
    yesterday = certificate(vendor, day(-1), type="iso-9001")
    certificate(vendor, None, type="iso-13485")  # never expires
    run("certificate_expiring")
    run("certificate_expired")
    expiring = open_alerts("certificate_expiring", audience=Audience.VENDOR)
    assert set(expiring.values_list("certification_id", flat=True)) == {in_90.pk, today.pk}
    [expired] = open_alerts("certificate_expired", audience=Audience.VENDOR)
    assert (expired.certification_id, expired.severity) == (yesterday.pk, Severity.CRITICAL)
    assert set(Alert.objects.values_list("vendor_id", flat=True)) == {vendor.pk}
    assert not Alert.objects.filter(sponsor__isnull=False).exists()  # no sponsor has a contract with it


def test_certificate_alerts_go_to_each_sponsor_with_an_active_contract_with_the_vendor(parties):
    vendor = parties.vendor
    with_active = parties.sponsor
    with_completed = parties.other_sponsor
    without = SponsorFactory(name="Sponsor U", slug="sponsor-u")
    active_contract(with_active, vendor)
    active_contract(with_active, vendor)  # two active contracts: still one alert for this sponsor
    ContractFactory(sponsor=with_completed, vendor=vendor, state="completed")
    ContractFactory(sponsor=with_completed, vendor=vendor, state="pending_signature")
    active_contract(without, VendorFactory())  # active, but with another vendor
    expiring, expired = certificate(vendor, day(20)), certificate(vendor, day(-3), type="gcp")
    run_all()
    for kind, cert in (("certificate_expiring", expiring), ("certificate_expired", expired)):
        alerts = Alert.objects.filter(kind=kind, certification=cert)
        assert sorted(alerts.values_list("audience", "sponsor_id", "vendor_id")) == [
            (Audience.SPONSOR, with_active.pk, vendor.pk), (Audience.VENDOR, None, vendor.pk),
        ]  # fmt: skip


def test_sponsor_lead_times_for_certificates_differ_in_one_run(parties):
    vendor = parties.vendor
    near, far = parties.sponsor, parties.other_sponsor
    near.certificate_expiring_days = 30
    near.save()
    active_contract(near, vendor)
    active_contract(far, vendor)  # the default 90 days
    in_30, in_31 = certificate(vendor, day(30)), certificate(vendor, day(31), type="gcp")
    run("certificate_expiring_sponsors")
    assert sorted(open_alerts("certificate_expiring").values_list("sponsor_id", "certification_id")) == sorted([
        (near.pk, in_30.pk), (far.pk, in_30.pk), (far.pk, in_31.pk),
    ])  # fmt: skip


def test_a_renewed_certificate_resolves_its_alerts(parties):
    vendor = parties.vendor
    active_contract(parties.sponsor, vendor)
    site_a = Site.objects.create(vendor=vendor, name="A", city="Cork", country="IE")
    site_b = Site.objects.create(vendor=vendor, name="B", city="Dublin", country="IE")
    by_newer = certificate(vendor, day(30), site=site_a)
    by_later_expiry = certificate(vendor, day(40), type="gcp", authority="mhra")
    expired = certificate(vendor, day(-10), type="glp", authority="national")
    run_all()
    assert open_alerts("certificate_expiring").count() == 4 and open_alerts("certificate_expired").count() == 2

    # Not a renewal: another site, another authority, or a certificate expiring no later.
    certificate(vendor, day(900), site=site_b)
    certificate(vendor, day(900), authority="mhra", site=site_a)
    certificate(vendor, day(20), site=site_a)  # an older one, which by_newer renews: no alert of its own
    assert not any(r.resolved for r in run_all().values())

    newer = certificate(vendor, day(1095), site=site_a, issued_on=day(-1))  # same type, authority and site
    by_later_expiry.expires_on = day(400)
    by_later_expiry.save()
    certificate(vendor, None, type="glp", authority="national")  # an open-ended renewal of the expired one
    results = run_all()
    assert sum(len(r.resolved) for r in results.values()) == 6
    assert not Alert.objects.filter(resolved_at__isnull=True).exclude(certification=newer).exists()
    assert not Alert.objects.filter(certification=newer).exists()  # the renewal itself is far from expiry
    assert {by_newer.pk, by_later_expiry.pk, expired.pk} == set(Alert.objects.values_list("certification_id",
                                                                                          flat=True))  # fmt: skip


# --- Qualifications ----------------------------------------------------------------------------------------


def test_requalification_due_within_30_days_and_critical_once_overdue(parties):
    def qualification(due, status="approved"):
        return VendorQualification.objects.create(
            sponsor=parties.sponsor, vendor=VendorFactory(), status=status, next_audit_due=due,
            last_audit_on=due - datetime.timedelta(days=700),
        )  # fmt: skip

    in_30, overdue, in_31 = qualification(day(30)), qualification(day(-1)), qualification(day(31))
    qualification(day(-1), status="disqualified")
    run("requalification_due")
    severities = dict(open_alerts("requalification_due").values_list("qualification_id", "severity"))
    assert severities == {in_30.pk: Severity.WARNING, overdue.pk: Severity.CRITICAL}

    # Later days: the one due in 31 days is raised (a warning), and each escalates the day after its due
    # date, once.
    day_30 = run("requalification_due", today=day(30))
    in_30_alert = open_alerts("requalification_due", qualification=in_30).get()
    in_31_alert = open_alerts("requalification_due", qualification=in_31).get()
    assert (day_30.raised, day_30.escalated, in_31_alert.severity) == ([in_31_alert.pk], [], Severity.WARNING)
    assert run("requalification_due", today=day(31)).escalated == [in_30_alert.pk]
    in_30_alert.refresh_from_db()
    assert in_30_alert.severity == Severity.CRITICAL and in_30_alert.escalated_at is not None
    assert run("requalification_due", today=day(32)).escalated == [in_31_alert.pk]
    assert OutboxEvent.objects.filter(event_type="alert_escalated").count() == 2

    # A new audit recorded with a later due date resolves it.
    VendorQualification.objects.filter(pk=in_30.pk).update(last_audit_on=day(31), next_audit_due=day(400))
    assert len(run("requalification_due", today=day(32)).resolved) == 1


# --- Across the checks -------------------------------------------------------------------------------------


@pytest.fixture
def one_of_each(parties):
    """A world where every check has exactly something to raise, for both sponsors."""
    sponsor, vendor = parties.sponsor, parties.vendor
    program = ProgramFactory(sponsor=sponsor, budget_cap=Decimal("50000"), budget_currency="EUR")
    contract = active_contract(sponsor, vendor, program=program, end=day(40), invoiced=Decimal("85000"))
    MilestoneFactory(contract=contract, due_date=day(3))
    MilestoneFactory(contract=contract, due_date=day(-3))
    active_contract(parties.other_sponsor, vendor, invoiced=Decimal("120000"))
    certificate(vendor, day(10))
    certificate(vendor, day(-10), type="gcp")
    VendorQualification.objects.create(sponsor=sponsor, vendor=vendor, status="approved", next_audit_due=day(5))
    return parties


def test_every_check_raises_once_and_a_second_run_changes_nothing(one_of_each):
    first = run_all()
    assert all(result.raised for result in first.values()), [n for n, r in first.items() if not r.raised]
    alerts = Alert.objects.all()
    raised_ids = sorted(i for result in first.values() for i in result.raised)
    assert sorted(alerts.values_list("id", flat=True)) == raised_ids

    second = run_all()
    assert [(r.raised, r.escalated, r.resolved) for r in second.values()] == [([], [], [])] * len(ALERT_CHECKS)
    assert Alert.objects.count() == len(raised_ids)

    # One outbox event per alert, addressed to the alert's audience only.
    events = OutboxEvent.objects.filter(event_type="alert_raised")
    assert sorted(e.payload["alert_id"] for e in events) == raised_ids
    by_id = {a.pk: a for a in alerts}
    for event in events:
        alert = by_id[event.payload["alert_id"]]
        assert (event.payload["kind"], event.payload["severity"]) == (alert.kind, alert.severity)
        if alert.audience == Audience.SPONSOR:
            assert (event.sponsor_id, event.vendor_id) == (alert.sponsor_id, None)
        else:
            assert (event.sponsor_id, event.vendor_id) == (None, alert.vendor_id)
        assert event.title == alert.title and event.url == alert.subject_url() != ""


def test_who_each_alert_is_for(one_of_each):
    sponsor, vendor = one_of_each.sponsor, one_of_each.vendor
    run_all()
    # Milestone alerts: one row for each side, so each acknowledges its own.
    for kind in ("milestone_due_soon", "milestone_overdue"):
        assert sorted(Alert.objects.filter(kind=kind).values_list("audience", flat=True)) == ["sponsor", "vendor"]
    # Budgets, burn, contract end, programme cap and qualifications: the sponsor's only.
    sponsor_only = ["budget_warning", "budget_exceeded", "burn_ahead_of_schedule", "contract_ending",
                    "program_over_budget", "requalification_due"]  # fmt: skip
    assert set(Alert.objects.filter(kind__in=sponsor_only).values_list("audience", flat=True)) == {"sponsor"}

    sponsor_user = UserFactory(sponsor=sponsor)
    other_sponsor_user = UserFactory(sponsor=one_of_each.other_sponsor)
    vendor_user = UserFactory(vendor=vendor)
    stranger = UserFactory(vendor=VendorFactory())
    seen = {
        who: set(Alert.objects.for_user(user).values_list("kind", flat=True))
        for who, user in [("sponsor", sponsor_user), ("other", other_sponsor_user), ("vendor", vendor_user),
                          ("stranger", stranger)]
    }  # fmt: skip
    assert seen["sponsor"] == {
        "milestone_due_soon", "milestone_overdue", "budget_warning", "burn_ahead_of_schedule", "contract_ending",
        "program_over_budget", "certificate_expiring", "certificate_expired", "requalification_due",
    }  # fmt: skip
    # The other sponsor: its own over-budget contract and the certificates of a vendor it works with.
    assert seen["other"] == {"budget_exceeded", "burn_ahead_of_schedule", "certificate_expiring",
                             "certificate_expired"}  # fmt: skip
    assert seen["vendor"] == {"milestone_due_soon", "milestone_overdue", "certificate_expiring",
                              "certificate_expired"}  # fmt: skip
    assert seen["stranger"] == set()
    assert not Alert.objects.for_user(other_sponsor_user).filter(sponsor=sponsor).exists()


def test_sponsor_thresholds_are_each_sponsors_own_in_one_run(parties):
    strict, lax = parties.sponsor, parties.other_sponsor
    strict.due_soon_days, strict.budget_warning_percent, strict.contract_ending_days = 14, 70, 90
    strict.burn_ahead_points, strict.overdue_escalation_days = 5, 3
    strict.save()
    alerts_by_sponsor = {}
    for sponsor in (strict, lax):
        # 75 % invoiced with 65 % of the time elapsed (start −130, end +70): 10 points ahead; ends in 70 days.
        contract = active_contract(sponsor, parties.vendor, invoiced=Decimal("75000"), start=day(-130), end=day(70))
        MilestoneFactory(contract=contract, due_date=day(10))  # due in 10 days
        MilestoneFactory(contract=contract, due_date=day(-5))  # 5 days overdue
    run_all()
    for sponsor in (strict, lax):
        alerts_by_sponsor[sponsor.slug] = dict(
            Alert.objects.filter(sponsor=sponsor, audience="sponsor").values_list("kind", "severity")
        )
    assert alerts_by_sponsor[strict.slug] == {
        "milestone_due_soon": "info", "milestone_overdue": "critical", "budget_warning": "warning",
        "burn_ahead_of_schedule": "warning", "contract_ending": "warning",
    }  # fmt: skip
    assert alerts_by_sponsor[lax.slug] == {"milestone_overdue": "warning"}


# --- Self-healing ------------------------------------------------------------------------------------------


def test_an_accepted_milestone_resolves_its_overdue_alerts(parties):
    contract = active_contract(parties.sponsor, parties.vendor)
    milestone = MilestoneFactory(contract=contract, due_date=day(-2), state="submitted")
    still_late = MilestoneFactory(contract=contract, due_date=day(-2))
    run("milestone_overdue")
    run("milestone_overdue_vendor")
    assert open_alerts("milestone_overdue").count() == 4
    milestone.state = "accepted"
    milestone.save()
    resolved = run("milestone_overdue").resolved + run("milestone_overdue_vendor").resolved
    assert sorted(resolved) == sorted(Alert.objects.filter(milestone=milestone).values_list("id", flat=True))
    assert len(resolved) == 2
    assert set(open_alerts("milestone_overdue").values_list("milestone_id", flat=True)) == {still_late.pk}
    # Resolving tells nobody: only raising and escalating emit events.
    assert OutboxEvent.objects.filter(event_type="alert_raised").count() == 4 == OutboxEvent.objects.count()


def test_a_change_order_lifting_the_budget_resolves_the_warning(parties):
    from contracts.services.change_orders import change_order_approve, change_order_propose

    sponsor_admin = UserFactory(sponsor=parties.sponsor)
    vendor_admin = UserFactory(vendor=parties.vendor)
    contract = active_contract(parties.sponsor, parties.vendor, invoiced=Decimal("85000"), start=day(-50),
                               end=day(300))  # fmt: skip
    run("budget_warning")
    [alert] = open_alerts("budget_warning")
    change_order = change_order_propose(actor=vendor_admin, contract=contract, reason="More batches",
                                        value_delta=Decimal("20000.00"), items=[])  # fmt: skip
    change_order_approve(actor=sponsor_admin, change_order=change_order, password="correct-horse-battery",
                         request=None)  # fmt: skip
    contract.refresh_from_db()
    assert contract.budget == Decimal("120000.00")  # 85 000 of 120 000: 71 %
    assert run("budget_warning").resolved == [alert.pk]
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_a_condition_that_comes_back_raises_a_new_alert(parties):
    contract = active_contract(parties.sponsor, parties.vendor, invoiced=Decimal("85000"))
    [first] = run("budget_warning").raised
    contract.budget = Decimal("200000")
    contract.save()
    assert run("budget_warning").resolved == [first]
    contract.invoiced = Decimal("170000")
    contract.save()
    [second] = run("budget_warning").raised
    assert second != first
    rows = Alert.objects.filter(kind="budget_warning", contract=contract).order_by("id")
    assert [(a.pk, a.resolved_at is None) for a in rows] == [(first, False), (second, True)]
    assert OutboxEvent.objects.filter(event_type="alert_raised").count() == 2  # told again: it is news again
    assert run("budget_warning").raised == []
