"""The "deadline approaching" reminder: once per invitee that has not answered, to that invitee only.

Also the other sourcing notifications of the issue (invitation, question answered, proposal submitted,
RFP closed, award and rejection) reach the right audience — each is asserted where its service is tested
(``tests/test_sourcing_domain.py``); the reminder's neighbours are checked here once more end to end.
"""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from contracts import services
from contracts.models import RFP, Invitation
from contracts.services.reminders import REMINDER_EVENT, rfp_remind_due
from notifications.models import OutboxEvent
from sponsors.models import VendorQualification
from tests.factories import (
    InvitationFactory,
    ProgramFactory,
    RFPFactory,
    SponsorFactory,
    UserFactory,
    VendorFactory,
)
from tests.test_sourcing_domain import CEILING, create_rfp, in_days, published_rfp, submitted

pytestmark = pytest.mark.django_db


def vendor_admin(vendor):
    return UserFactory(email=f"admin@{vendor.slug}.test", vendor=vendor, role=Role.ADMIN)


def reminders():
    return list(OutboxEvent.objects.filter(event_type=REMINDER_EVENT).order_by("id"))


def test_each_invitee_that_has_not_answered_is_reminded_once_and_alone(personas):
    p = personas
    quiet = VendorFactory(name="Quiet Vendor QV1", slug="quiet-vendor")
    declining = VendorFactory(name="Declining Vendor DV1", slug="declining-vendor")
    rfp = published_rfp(p, vendors=[p.vendor_x, p.vendor_y, quiet, declining], response_deadline=in_days(2))
    submitted(p, rfp, actor=p.vendor_y_admin)  # responded: nothing to remind
    services.invitation_decline(
        actor=vendor_admin(declining),
        invitation=Invitation.objects.get(rfp=rfp, vendor=declining),
        reason="No capacity.",
    )

    assert rfp_remind_due() == 2
    sent = reminders()
    assert sorted(e.vendor.name for e in sent) == ["Quiet Vendor QV1", "Vendor X"]
    assert all(e.sponsor is None for e in sent)
    deadline = f"{timezone.localtime(rfp.response_deadline):%d %b %Y %H:%M %Z}"
    assert sent[0].title == "Deadline approaching: Sterile fill-finish QZR"
    assert sent[0].body.startswith(f"Sterile fill-finish QZR closes {deadline}.")
    assert sent[0].url == f"/rfps/{rfp.pk}/"
    names = {"Vendor X", "Vendor Y", "Quiet Vendor QV1", "Declining Vendor DV1"}
    for event in sent:
        text = f"{event.title} {event.body} {event.payload} {event.url}"
        assert str(CEILING) not in text and "987" not in text and "654" not in text
        assert not [name for name in names - {event.vendor.name} if name in text]
    reminded = Invitation.objects.filter(rfp=rfp, reminded_at__isnull=False)
    assert sorted(reminded.values_list("vendor__name", flat=True)) == ["Quiet Vendor QV1", "Vendor X"]

    assert rfp_remind_due() == 0  # a second run reminds nobody again
    assert rfp_remind_due(now=in_days(1)) == 0  # not even closer to the deadline
    assert len(reminders()) == 2


def test_only_published_rfps_closing_within_the_lead_time_remind(personas):
    p = personas
    soon = published_rfp(p, title="Soon QS1", response_deadline=in_days(2))
    later = published_rfp(p, title="Later QL1", response_deadline=in_days(10))
    draft = services.rfp_create(
        actor=p.sponsor_a_admin, program=p.program_a, title="Draft QD1", scope="s",
        desired_start=in_days(30).date(), desired_end=in_days(90).date(), response_deadline=in_days(1),
    )  # fmt: skip
    services.rfp_invite(actor=p.sponsor_a_admin, rfp=draft, vendors=[p.vendor_x])
    cancelled = published_rfp(p, title="Cancelled QC1", response_deadline=in_days(1))
    services.rfp_cancel(actor=p.sponsor_a_admin, rfp=cancelled, reason="Stopped.")

    assert rfp_remind_due() == 1
    assert [e.title for e in reminders()] == ["Deadline approaching: Soon QS1"]
    # A caller may give its own lead time (by default each sponsor's, below).
    assert rfp_remind_due(lead=timedelta(days=11)) == 1
    assert [e.title for e in reminders()][-1] == "Deadline approaching: Later QL1"
    # A deadline that has passed is the closing scan's business, not a reminder's.
    assert rfp_remind_due(now=soon.response_deadline + timedelta(minutes=1), lead=timedelta(days=30)) == 0
    assert Invitation.objects.filter(rfp=later, reminded_at__isnull=False).count() == 1


def test_each_sponsor_reminds_with_its_own_lead_time(personas):
    """Sponsor A's admins chose 10 days; sponsor B keeps the default 3: one run honours both."""
    p = personas
    p.sponsor_a.rfp_reminder_days = 10
    p.sponsor_a.save()
    a_in_8 = published_rfp(p, title="A in 8 days QA8", response_deadline=in_days(8))
    published_rfp(p, title="A in 11 days QA11", response_deadline=in_days(11))
    for title, days in (("B in 5 days QB5", 5), ("B in 2 days QB2", 2)):
        rfp = create_rfp(p, actor=p.sponsor_b_admin, program=p.program_b, title=title, response_deadline=in_days(days))
        services.rfp_invite(actor=p.sponsor_b_admin, rfp=rfp, vendors=[p.vendor_x])
        services.rfp_publish(actor=p.sponsor_b_admin, rfp=rfp)

    assert rfp_remind_due() == 2
    assert sorted(e.title for e in reminders()) == [
        "Deadline approaching: A in 8 days QA8", "Deadline approaching: B in 2 days QB2",
    ]  # fmt: skip
    assert Invitation.objects.filter(rfp=a_in_8, reminded_at__isnull=False).exists()


def test_an_invitation_added_after_the_reminder_run_is_reminded_by_the_next(personas):
    p = personas
    rfp = published_rfp(p, response_deadline=in_days(2))
    assert rfp_remind_due() == 1
    services.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp, vendors=[p.vendor_y])
    assert rfp_remind_due() == 1
    assert [e.vendor for e in reminders()] == [p.vendor_x, p.vendor_y]


def _rfps_closing_soon(count: int, sponsor) -> None:
    program = ProgramFactory(sponsor=sponsor)
    for _ in range(count):
        rfp = RFPFactory(
            program=program, state="published", published_at=in_days(-5), response_deadline=in_days(2),
            budget_ceiling=Decimal("500000"), budget_currency="EUR",
        )  # fmt: skip
        InvitationFactory(rfp=rfp)
        InvitationFactory(rfp=rfp)


def test_the_reminder_runs_the_same_queries_for_2_and_20_rfps():
    counts = {}
    for size in (2, 20):
        sponsor = SponsorFactory(name=f"Sponsor of {size}", slug=f"sponsor-of-{size}")
        _rfps_closing_soon(size, sponsor)
        with CaptureQueriesContext(connection) as queries:
            reminded = rfp_remind_due()
        assert reminded == 2 * size
        counts[size] = len(queries)
        Invitation.objects.update(reminded_at=timezone.now())  # the next size starts from its own RFPs only
    assert counts[2] == counts[20], counts
    assert counts[20] <= 6, counts
    assert OutboxEvent.objects.filter(event_type=REMINDER_EVENT).count() == 44


def test_run_checks_reminds_and_closes_due_rfps(personas):
    p = personas
    soon = published_rfp(p, title="Soon QS2", response_deadline=in_days(2))
    due = published_rfp(p, title="Due QD2", response_deadline=in_days(1))
    RFP.objects.filter(pk=due.pk).update(response_deadline=in_days(-0.01))  # passed: the close check's
    out = _run_checks()
    assert "rfp_deadline_approaching: raised 1" in out
    assert f"Deadline approaching: Soon QS2 (vendor {p.vendor_x.pk})" in out
    assert "rfp_deadline_passed: raised 1" in out
    soon.refresh_from_db()
    assert soon.state == "published" and RFP.objects.get(pk=due.pk).state == "closed"
    again = _run_checks()
    assert "rfp_deadline_approaching: raised 0" in again and "rfp_deadline_passed: raised 0" in again


def _run_checks() -> str:
    from io import StringIO

    out = StringIO()
    call_command("run_checks", stdout=out)
    return out.getvalue()


def test_the_other_sourcing_notifications_reach_their_audience(personas):
    """Invitation → invitees; answer → invitees; proposal submitted and RFP closed → the sponsor;
    award → the winner; rejection → the others. None carries the ceiling."""
    p = personas
    rfp = published_rfp(p, vendors=[p.vendor_x, p.vendor_y], qa_cutoff=in_days(7))
    question = services.question_ask(actor=p.vendor_x_admin, rfp=rfp, text="Vial size?")
    services.question_answer(actor=p.sponsor_a_admin, question=question, answer="2R vials.")
    x = submitted(p, rfp)
    y = submitted(p, rfp, actor=p.vendor_y_admin)
    services.rfp_close(actor=p.sponsor_a_admin, rfp=rfp)
    services.proposal_shortlist(actor=p.sponsor_a_admin, proposal=y)
    VendorQualification.objects.create(sponsor=p.sponsor_a, vendor=p.vendor_x, status="approved")
    services.rfp_award(actor=p.sponsor_a_admin, proposal=x)

    def audience(event_type):
        return sorted(
            (e.sponsor.name if e.sponsor else "", e.vendor.name if e.vendor else "")
            for e in OutboxEvent.objects.filter(event_type=event_type)
        )

    assert audience("rfp_invitation") == [("", "Vendor X"), ("", "Vendor Y")]
    assert audience("rfp_question_answered") == [("", "Vendor X"), ("", "Vendor Y")]
    assert audience("proposal_submitted") == [("Sponsor A", ""), ("Sponsor A", "")]
    closed = audience("rfp_closed")  # the sponsor; invitees that responded may hear that bidding ended
    assert [who for who in closed if who[0]] == [("Sponsor A", "")]
    assert {vendor for _, vendor in closed if vendor} <= {"Vendor X", "Vendor Y"}
    assert audience("proposal_accepted") == [("", "Vendor X")]
    assert audience("proposal_rejected") == [("", "Vendor Y")]
    for event in OutboxEvent.objects.all():
        assert "987" not in f"{event.title} {event.body} {event.payload}"


# --- Under real concurrency (PostgreSQL) ------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_reminder_runs_at_once_remind_each_invitee_once():
    sponsor = SponsorFactory(name="Race Pharma", slug="race-pharma-remind")
    _rfps_closing_soon(5, sponsor)
    now = timezone.now()  # the same clock for both: only the compare-and-set keeps them apart
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def run(index):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = rfp_remind_due(now=now)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(outcomes) == 10, outcomes
    sent = OutboxEvent.objects.filter(event_type=REMINDER_EVENT)
    assert sent.count() == 10
    invitations = Invitation.objects.filter(rfp__sponsor=sponsor)
    assert sorted(e.payload["id"] for e in sent) == sorted(invitations.values_list("pk", flat=True))
    assert not invitations.filter(reminded_at__isnull=True).exists()
