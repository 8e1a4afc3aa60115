"""The sourcing domain: every service's happy path and refusals, and who sees what (``for_user``).

Rules are stated here as data (which persona sees which object), not derived from the code under test.
"""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from audit.models import Action, HistoryEntry
from contracts import services
from contracts.models import (
    RFP,
    RFP_SPONSOR_ONLY_FIELDS,
    Contract,
    Invitation,
    Milestone,
    Proposal,
    ProposalLineItem,
    ProposedMilestone,
    Question,
    RFPCriterion,
)
from contracts.models.proposals import ONE_LIVE_PROPOSAL
from cro_cmo.services import TransitionError
from notifications.models import OutboxEvent
from sponsors.models import VendorQualification
from tests.conftest import PERSONA_NAMES
from tests.factories import (
    ContractFactory,
    MilestoneFactory,
    ProgramFactory,
    ProposalFactory,
    RFPFactory,
    SponsorFactory,
    UserFactory,
    VendorFactory,
)
from vendors.models import Certification, ServiceCategory

pytestmark = pytest.mark.django_db

CEILING = Decimal("987654.32")  # a figure that must never reach a vendor


def in_days(days: float):
    return timezone.now() + timedelta(days=days)


def create_rfp(p, **overrides):
    kwargs = {
        "actor": p.sponsor_a_admin, "program": p.program_a, "title": "Sterile fill-finish QZR",
        "scope": "Three clinical batches.", "desired_start": in_days(30).date(), "desired_end": in_days(210).date(),
        "response_deadline": in_days(14), "budget_ceiling": CEILING, "budget_currency": "EUR",
        "criteria": [("Price", 40), ("Timeline", 20), ("Quality", 40)],
    }  # fmt: skip
    kwargs.update(overrides)
    return services.rfp_create(**kwargs)


def published_rfp(p, vendors=None, **overrides):
    rfp = create_rfp(p, **overrides)
    services.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp, vendors=vendors or [p.vendor_x])
    return services.rfp_publish(actor=p.sponsor_a_admin, rfp=rfp)


MILESTONES = [
    {"name": "Kick-off", "due_offset_days": 10, "amount": Decimal("30000.00")},
    {"name": "Batch release", "due_date": None, "due_offset_days": 120, "amount": Decimal("70000.00")},
]
LINES = [
    {"description": "Batch manufacture", "quantity": Decimal("3"), "unit": "batch", "unit_price": Decimal("30000")},
    {"description": "Glass vials (pass-through)", "quantity": Decimal("2000"), "unit": "vial",
     "unit_price": Decimal("5.00"), "pass_through": True},
]  # fmt: skip


def draft(p, rfp, actor=None, total="100000.00", milestones=MILESTONES, line_items=None):
    return services.proposal_save_draft(
        actor=actor or p.vendor_x_admin, rfp=rfp, data={"total_price": Decimal(total), "currency": "EUR"},
        milestones=milestones, line_items=line_items,
    )  # fmt: skip


def submitted(p, rfp, actor=None, **kwargs):
    proposal = draft(p, rfp, actor=actor, **kwargs)
    return services.proposal_submit(actor=actor or p.vendor_x_admin, proposal=proposal)


def qualify(p, *vendors, status="approved"):
    """Sponsor A's qualification of these vendors (an award needs approved or conditionally approved)."""
    for vendor in vendors:
        VendorQualification.objects.update_or_create(sponsor=p.sponsor_a, vendor=vendor, defaults={"status": status})


def pass_deadline(rfp):
    """Move the deadline (and cut-off) into the past without waiting: the clock is what the rules read."""
    RFP.objects.filter(pk=rfp.pk).update(response_deadline=in_days(-0.01), qa_cutoff=None)
    rfp.refresh_from_db()


def events(event_type):
    return list(OutboxEvent.objects.filter(event_type=event_type).order_by("id"))


def entries(obj, action=Action.TRANSITION):
    return list(HistoryEntry.objects.for_object(obj).filter(action=action))


# --- RFP: create ------------------------------------------------------------------------------------------


def test_rfp_create_makes_a_draft_of_the_actors_sponsor_with_ordered_criteria(personas):
    p = personas
    category = ServiceCategory.objects.get(code="finished-dosage-forms")
    rfp = create_rfp(p, categories=[category])
    assert rfp.state == "draft" and rfp.sponsor == p.sponsor_a and rfp.created_by == p.sponsor_a_admin
    assert list(rfp.categories.all()) == [category]
    assert [(c.name, c.weight) for c in rfp.criteria.all()] == [("Price", 40), ("Timeline", 20), ("Quality", 40)]
    [created] = entries(rfp, Action.CREATED)
    assert created.actor == p.sponsor_a_admin


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"desired_end": date(2020, 1, 1), "desired_start": date(2020, 2, 1)}, "desired_end",
         "The desired end must be after the desired start."),
        ({"budget_currency": ""}, "budget_currency", "A budget ceiling needs a currency."),
        ({"qa_cutoff": "after"}, "qa_cutoff", "The Q&A cut-off must not be after the response deadline."),
        ({"response_deadline": "naive"}, "response_deadline", services.NAIVE_DEADLINE),
        ({"criteria": [("Price", 50), ("Price", 50)]}, "criteria", "Criterion 2: This RFP already has a criterion with this name."),
        ({"criteria": [("Price", 0)]}, "criteria", "Criterion 1: Ensure this value is greater than or equal to 1."),
    ],
)  # fmt: skip
def test_rfp_create_refuses_bad_input_with_field_messages(personas, overrides, field, message):
    if overrides.get("qa_cutoff") == "after":
        overrides["qa_cutoff"] = in_days(20)
    if overrides.get("response_deadline") == "naive":
        overrides["response_deadline"] = in_days(14).replace(tzinfo=None)
    with pytest.raises(ValidationError) as refused:
        create_rfp(personas, **overrides)
    assert message in refused.value.message_dict[field]
    assert not RFP.objects.exists() and not RFPCriterion.objects.exists()


def test_rfp_create_refuses_another_sponsors_programme_and_people_who_cannot_act(personas):
    p = personas
    with pytest.raises(ValidationError) as refused:
        create_rfp(p, program=p.program_b)
    assert refused.value.message_dict["program"] == [services.PROGRAM_OF_OTHER_SPONSOR]
    for actor in (p.sponsor_a_viewer, p.vendor_x_admin):
        with pytest.raises(PermissionDenied):
            create_rfp(p, actor=actor)
    assert not RFP.objects.exists()


# --- Invite and publish -----------------------------------------------------------------------------------


def test_rfp_invite_creates_each_invitation_once_and_warns_about_expired_certificates(personas):
    p = personas
    Certification.objects.create(
        vendor=p.vendor_y, type="gmp", authority="ema", issued_on=date(2019, 1, 1), expires_on=date(2021, 6, 30)
    )
    qualify(p, p.vendor_x, p.vendor_y)  # approved: the qualification raises no warning (tests/test_award.py does)
    rfp = create_rfp(p)
    created, warnings = services.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp, vendors=[p.vendor_x, p.vendor_y])
    assert {i.vendor for i in created} == {p.vendor_x, p.vendor_y}
    assert warnings == ["Vendor Y: its GMP certificate expired on 2021-06-30."]
    again, _ = services.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp, vendors=[p.vendor_x])
    assert again == [] and rfp.invitations.count() == 2
    assert not events("rfp_invitation")  # a draft's invitees are told when it is published


def test_rfp_invite_refuses_an_empty_choice_a_closed_rfp_and_the_wrong_people(personas):
    p = personas
    rfp = create_rfp(p)
    with pytest.raises(ValidationError) as refused:
        services.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp, vendors=[])
    assert refused.value.message_dict["vendors"] == [services.INVITE_NONE]
    for actor in (p.sponsor_a_viewer, p.sponsor_b_admin, p.vendor_x_admin):
        with pytest.raises(PermissionDenied):
            services.rfp_invite(actor=actor, rfp=rfp, vendors=[p.vendor_x])
    RFP.objects.filter(pk=rfp.pk).update(state="closed")
    with pytest.raises(TransitionError, match=services.INVITE_NOT_OPEN):
        services.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp, vendors=[p.vendor_x])
    assert not Invitation.objects.exists()


def test_rfp_publish_tells_each_invitee_without_the_ceiling(personas):
    p = personas
    rfp = published_rfp(p, vendors=[p.vendor_x, p.vendor_y])
    assert rfp.state == "published" and rfp.published_at is not None
    invitations = events("rfp_invitation")
    assert {e.vendor for e in invitations} == {p.vendor_x, p.vendor_y}
    assert all(e.sponsor is None for e in invitations)
    assert invitations[0].title == "Invitation to RFP: Sterile fill-finish QZR"
    for event in invitations:
        assert "987" not in f"{event.title} {event.body} {event.payload}"


def test_inviting_to_a_published_rfp_tells_the_new_invitee_at_once(personas):
    p = personas
    rfp = published_rfp(p)
    services.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp, vendors=[p.vendor_y])
    assert [e.vendor for e in events("rfp_invitation")] == [p.vendor_x, p.vendor_y]


@pytest.mark.parametrize(
    "setup,field,message",
    [
        ("no invitees", "invitations", services.PUBLISH_NEEDS_INVITEE),
        ("past deadline", "response_deadline", services.PUBLISH_DEADLINE_PAST),
        ("past cut-off", "qa_cutoff", services.PUBLISH_CUTOFF_PAST),
    ],
)
def test_rfp_publish_refuses_without_invitees_or_with_a_past_deadline(personas, setup, field, message):
    p = personas
    rfp = create_rfp(p)
    if setup != "no invitees":
        services.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp, vendors=[p.vendor_x])
    if setup == "past deadline":
        RFP.objects.filter(pk=rfp.pk).update(response_deadline=in_days(-1))
    if setup == "past cut-off":
        RFP.objects.filter(pk=rfp.pk).update(qa_cutoff=in_days(-1))
    rfp.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.rfp_publish(actor=p.sponsor_a_admin, rfp=rfp)
    assert refused.value.message_dict[field] == [message]
    assert RFP.objects.get(pk=rfp.pk).state == "draft"
    assert not OutboxEvent.objects.exists()


def test_rfp_publish_twice_is_a_conflict(personas):
    rfp = published_rfp(personas)
    with pytest.raises(TransitionError, match=r"This RFP is published: only a draft RFP can be published\."):
        services.rfp_publish(actor=personas.sponsor_a_admin, rfp=rfp)


# --- Close, deadline scan, cancel ------------------------------------------------------------------------


def test_rfp_close_ends_bidding_and_tells_the_sponsor_how_many_came(personas):
    p = personas
    rfp = published_rfp(p, vendors=[p.vendor_x, p.vendor_y])
    submitted(p, rfp)
    services.rfp_close(actor=p.sponsor_a_admin, rfp=rfp)
    assert rfp.state == "closed" and rfp.closed_at is not None
    event, told = events("rfp_closed")  # the sponsor; and X, which responded (Y did not: not told)
    assert event.sponsor == p.sponsor_a and event.vendor is None
    assert event.body == "Bidding has ended with 1 proposal."
    assert (told.vendor, told.sponsor) == (p.vendor_x, None)
    assert (
        told.body == "Sponsor A has closed bidding: your proposal is being evaluated. You will be told of the decision."
    )


def test_rfp_close_due_closes_exactly_the_rfps_past_their_deadline_once(personas):
    p = personas
    due = published_rfp(p, title="Due QZ1")
    later = published_rfp(p, title="Later QZ2")
    pass_deadline(due)
    assert services.rfp_close_due() == 1
    assert services.rfp_close_due() == 0  # idempotent: a second run finds nothing to do
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.state, later.state) == ("closed", "published")
    entry = entries(due)[0]  # the latest
    assert entry.changes["state"] == ["published", "closed"]
    assert entry.actor is None and entry.reason == "Response deadline passed."
    assert len(events("rfp_closed")) == 1
    assert services.rfp_close_due(now=in_days(30)) == 1  # the scan's clock decides what is due
    assert RFP.objects.get(pk=later.pk).state == "closed"


def test_rfp_cancel_needs_a_reason_tells_invitees_and_refuses_a_closed_rfp(personas):
    p = personas
    rfp = published_rfp(p)
    with pytest.raises(ValidationError) as refused:
        services.rfp_cancel(actor=p.sponsor_a_admin, rfp=rfp, reason="  ")
    assert refused.value.message_dict["reason"] == [services.CANCEL_REASON_REQUIRED]
    services.rfp_cancel(actor=p.sponsor_a_admin, rfp=rfp, reason="Programme stopped.")
    assert rfp.state == "cancelled"
    [event] = events("rfp_cancelled")
    assert event.vendor == p.vendor_x and event.body == "Programme stopped."
    closed = published_rfp(p, title="Closed one")
    services.rfp_close(actor=p.sponsor_a_admin, rfp=closed)
    with pytest.raises(TransitionError) as conflict:
        services.rfp_cancel(actor=p.sponsor_a_admin, rfp=closed, reason="Too late")
    assert str(conflict.value) == "This RFP is closed: only a draft or published RFP can be cancelled."


# --- Invitations and Q&A ---------------------------------------------------------------------------------


def test_invitation_decline_records_the_reason_tells_the_sponsor_and_bars_a_proposal(personas):
    p = personas
    rfp = published_rfp(p)
    invitation = Invitation.objects.get(rfp=rfp, vendor=p.vendor_x)
    with pytest.raises(ValidationError) as refused:
        services.invitation_decline(actor=p.vendor_x_admin, invitation=invitation, reason="")
    assert refused.value.message_dict["decline_reason"] == [services.DECLINE_REASON_REQUIRED]
    with pytest.raises(PermissionDenied):
        services.invitation_decline(actor=p.vendor_y_admin, invitation=invitation, reason="Not us")
    services.invitation_decline(actor=p.vendor_x_admin, invitation=invitation, reason="No capacity in Q3.")
    assert invitation.state == "declined" and invitation.decline_reason == "No capacity in Q3."
    [entry] = entries(invitation)
    assert entry.changes["decline_reason"] == ["", "No capacity in Q3."]
    [event] = events("rfp_declined")
    assert event.sponsor == p.sponsor_a and "No capacity in Q3." in event.body
    with pytest.raises(TransitionError, match=services.INVITATION_DECLINED):
        draft(p, rfp)


def test_questions_until_the_cutoff_answers_for_all_invitees_without_the_askers_name(personas):
    p = personas
    rfp = published_rfp(p, vendors=[p.vendor_x, p.vendor_y], qa_cutoff=in_days(7))
    question = services.question_ask(actor=p.vendor_x_admin, rfp=rfp, text="Is lyophilisation in scope?")
    assert question.asked_by_vendor == p.vendor_x and question.asked_by == p.vendor_x_admin
    [asked] = events("rfp_question")
    assert asked.sponsor == p.sponsor_a and "Vendor X" not in f"{asked.title} {asked.body}"
    with pytest.raises(PermissionDenied):
        services.question_answer(actor=p.sponsor_a_viewer, question=question, answer="No.")
    services.question_answer(actor=p.sponsor_a_admin, question=question, answer="No, liquid fill only.")
    assert question.answer == "No, liquid fill only." and question.answered_by == p.sponsor_a_admin
    answered = events("rfp_question_answered")
    assert {e.vendor for e in answered} == {p.vendor_x, p.vendor_y}
    assert all("Vendor X" not in f"{e.title} {e.body} {e.payload}" for e in answered)
    [change] = entries(question, Action.CHANGED)
    assert change.changes["answer"] == ["", "No, liquid fill only."] and change.actor == p.sponsor_a_admin
    with pytest.raises(TransitionError, match=services.QUESTION_ANSWERED):
        services.question_answer(actor=p.sponsor_a_admin, question=question, answer="Changed my mind")
    assert Question.objects.get(pk=question.pk).answer == "No, liquid fill only."


def test_question_ask_refuses_after_the_cutoff_empty_text_and_vendors_not_invited(personas):
    p = personas
    rfp = published_rfp(p, qa_cutoff=in_days(7))
    with pytest.raises(ValidationError):
        services.question_ask(actor=p.vendor_x_admin, rfp=rfp, text=" ")
    with pytest.raises(PermissionDenied, match=services.NOT_INVITED):
        services.question_ask(actor=p.vendor_y_admin, rfp=rfp, text="Can we bid?")
    RFP.objects.filter(pk=rfp.pk).update(qa_cutoff=in_days(-0.01))
    rfp.refresh_from_db()
    with pytest.raises(TransitionError, match=services.QUESTIONS_CLOSED):
        services.question_ask(actor=p.vendor_x_admin, rfp=rfp, text="Too late?")
    assert not Question.objects.exists()


# --- Proposals ---------------------------------------------------------------------------------------------


def test_proposal_save_draft_then_submit_marks_the_invitation_responded(personas):
    p = personas
    rfp = published_rfp(p, sealed=True)
    proposal = draft(p, rfp, line_items=LINES)
    assert proposal.state == "draft" and proposal.vendor == p.vendor_x and proposal.created_by == p.vendor_x_admin
    assert [i.line_total for i in proposal.line_items.all()] == [Decimal("90000.00"), Decimal("10000.00")]
    assert [m.name for m in proposal.milestones.all()] == ["Kick-off", "Batch release"]
    services.proposal_submit(actor=p.vendor_x_admin, proposal=proposal)
    assert proposal.state == "submitted" and proposal.submitted_at is not None
    invitation = Invitation.objects.get(rfp=rfp, vendor=p.vendor_x)
    assert invitation.state == "responded" and invitation.responded_at == proposal.submitted_at
    [event] = events("proposal_submitted")
    assert event.sponsor == p.sponsor_a
    assert event.body == "Vendor X submitted a proposal. Sealed: its content opens when the RFP closes."
    assert "100" not in f"{event.title} {event.body} {event.payload}"  # no price, sealed or not


def test_proposal_rows_are_validated_row_by_row(personas):
    p = personas
    rfp = published_rfp(p)
    bad_lines = [LINES[0], {"description": "Vials", "quantity": Decimal("0"), "unit_price": Decimal("1")}]
    bad_milestones = [{"name": "Both", "due_date": date(2030, 1, 1), "due_offset_days": 5, "amount": Decimal("1")}]
    with pytest.raises(ValidationError) as refused:
        draft(p, rfp, line_items=bad_lines, milestones=bad_milestones)
    errors = refused.value.message_dict
    assert errors["line_items"] == ["Line 2: quantity: Ensure this value is greater than or equal to 0.001."]
    assert errors["milestones"] == [
        "Milestone 1: due date: Give either a due date or a number of days after the start, not both."
    ]
    assert not Proposal.objects.exists() and not ProposalLineItem.objects.exists()


@pytest.mark.parametrize(
    "milestones,line_items,field,message",
    [
        ([], None, "milestones", services.MILESTONES_REQUIRED),
        (MILESTONES[:1], None, "milestones",
         "The milestone amounts add up to 30,000.00 EUR, not the total price of 100,000.00 EUR."),
        (MILESTONES, LINES[:1], "line_items",
         "The line items add up to 90,000.00 EUR, not the total price of 100,000.00 EUR."),
    ],
)  # fmt: skip
def test_proposal_submit_refuses_sums_that_do_not_match_the_total(personas, milestones, line_items, field, message):
    p = personas
    rfp = published_rfp(p)
    proposal = draft(p, rfp, milestones=milestones, line_items=line_items)
    with pytest.raises(ValidationError) as refused:
        services.proposal_submit(actor=p.vendor_x_admin, proposal=proposal)
    assert refused.value.message_dict[field] == [message]
    assert Proposal.objects.get(pk=proposal.pk).state == "draft"
    assert Invitation.objects.get(rfp=rfp, vendor=p.vendor_x).state == "invited"
    assert not events("proposal_submitted")


def test_proposal_submit_needs_a_price(personas):
    p = personas
    rfp = published_rfp(p)
    proposal = services.proposal_save_draft(actor=p.vendor_x_admin, rfp=rfp, data={"timeline": "Soon"})
    with pytest.raises(ValidationError) as refused:
        services.proposal_submit(actor=p.vendor_x_admin, proposal=proposal)
    assert refused.value.message_dict == {
        "total_price": [services.TOTAL_REQUIRED], "currency": [services.CURRENCY_REQUIRED],
    }  # fmt: skip


def test_no_proposal_is_submitted_changed_or_withdrawn_after_the_deadline(personas):
    p = personas
    rfp = published_rfp(p)
    proposal = draft(p, rfp)
    pass_deadline(rfp)
    with pytest.raises(TransitionError, match=services.DEADLINE_PASSED):
        services.proposal_submit(actor=p.vendor_x_admin, proposal=proposal)
    with pytest.raises(TransitionError, match=services.DEADLINE_PASSED):
        services.proposal_save_draft(actor=p.vendor_x_admin, proposal=proposal, data={"timeline": "Later"})
    with pytest.raises(TransitionError, match=services.DEADLINE_PASSED):
        services.proposal_withdraw(actor=p.vendor_x_admin, proposal=proposal)
    assert Proposal.objects.get(pk=proposal.pk).state == "draft"


def test_a_second_live_proposal_is_refused_but_a_new_one_after_withdrawing_is_not(personas):
    p = personas
    rfp = published_rfp(p)
    first = submitted(p, rfp)
    with pytest.raises(ValidationError) as refused:
        draft(p, rfp)
    assert refused.value.messages == [ONE_LIVE_PROPOSAL]
    services.proposal_withdraw(actor=p.vendor_x_admin, proposal=first, reason="Repricing")
    assert first.state == "withdrawn"
    assert Invitation.objects.get(rfp=rfp, vendor=p.vendor_x).state == "invited"  # open again
    [event] = events("proposal_withdrawn")
    assert event.sponsor == p.sponsor_a
    second = submitted(p, rfp, total="90000.00", milestones=[{**MILESTONES[0], "amount": Decimal("90000.00")}])
    assert second.state == "submitted" and Proposal.objects.filter(rfp=rfp).count() == 2


def test_the_database_turns_a_racing_second_live_proposal_into_a_validation_error(personas, monkeypatch):
    """The window between validation and insert: the unique constraint catches it, the service words it."""
    p = personas
    rfp = published_rfp(p)
    draft(p, rfp)
    monkeypatch.setattr(Proposal, "validate_constraints", lambda self, exclude=None: None)
    with pytest.raises(ValidationError) as refused:
        draft(p, rfp)
    assert refused.value.messages == [ONE_LIVE_PROPOSAL]
    assert Proposal.objects.count() == 1


def test_a_submitted_proposal_is_revised_in_place_only_while_it_stays_complete(personas):
    p = personas
    rfp = published_rfp(p)
    proposal = submitted(p, rfp)
    with pytest.raises(ValidationError) as refused:
        services.proposal_save_draft(actor=p.vendor_x_admin, proposal=proposal, data={"total_price": Decimal("95000")})
    assert "milestones" in refused.value.message_dict
    assert Proposal.objects.get(pk=proposal.pk).total_price == Decimal("100000.00")  # the submitted version stands
    proposal.refresh_from_db()
    revised = services.proposal_save_draft(
        actor=p.vendor_x_admin, proposal=proposal, data={"total_price": Decimal("95000")},
        milestones=[{**MILESTONES[0], "amount": Decimal("95000")}],
    )  # fmt: skip
    assert revised.state == "submitted" and revised.milestones.get().amount == Decimal("95000")


def test_only_the_vendors_acting_people_write_its_proposal(personas):
    p = personas
    rfp = published_rfp(p, vendors=[p.vendor_x, p.vendor_y])
    proposal = draft(p, rfp)
    for actor in (p.vendor_x_viewer, p.vendor_y_admin, p.sponsor_a_admin):
        with pytest.raises(PermissionDenied):
            services.proposal_submit(actor=actor, proposal=proposal)
    with pytest.raises(PermissionDenied):
        draft(p, rfp, actor=p.vendor_x_viewer)
    with pytest.raises(PermissionDenied, match=services.NOT_INVITED):
        draft(p, create_rfp(p, title="Not for X"))


def test_shortlist_and_reject_wait_for_the_rfp_to_close(personas):
    p = personas
    rfp = published_rfp(p, vendors=[p.vendor_x, p.vendor_y])
    x = submitted(p, rfp)
    y = submitted(p, rfp, actor=p.vendor_y_admin)
    with pytest.raises(TransitionError, match=services.EVALUATE_NOT_CLOSED):
        services.proposal_shortlist(actor=p.sponsor_a_admin, proposal=x)
    services.rfp_close(actor=p.sponsor_a_admin, rfp=rfp)
    with pytest.raises(PermissionDenied):
        services.proposal_shortlist(actor=p.sponsor_a_viewer, proposal=x)
    services.proposal_shortlist(actor=p.sponsor_a_admin, proposal=x)
    services.proposal_reject(actor=p.sponsor_a_admin, proposal=y, reason="Over budget")
    assert (x.state, y.state) == ("shortlisted", "rejected")
    [event] = events("proposal_rejected")
    assert event.vendor == p.vendor_y and "Vendor X" not in f"{event.title} {event.body}"
    with pytest.raises(TransitionError, match="This proposal is shortlisted: only a submitted proposal"):
        services.proposal_shortlist(actor=p.sponsor_a_admin, proposal=x)


# --- Award ------------------------------------------------------------------------------------------------


@pytest.fixture
def closed_rfp_with_two_bids(personas):
    p = personas
    rfp = published_rfp(p, vendors=[p.vendor_x, p.vendor_y])
    x = submitted(p, rfp)
    y = submitted(p, rfp, actor=p.vendor_y_admin, total="120000.00",
                  milestones=[{**MILESTONES[0], "amount": Decimal("120000.00")}])  # fmt: skip
    services.rfp_close(actor=p.sponsor_a_admin, rfp=rfp)
    qualify(p, p.vendor_x, p.vendor_y)
    return rfp, x, y


def test_rfp_award_accepts_rejects_the_others_and_creates_the_contract_with_its_milestones(
    personas, closed_rfp_with_two_bids
):
    p = personas
    rfp, x, y = closed_rfp_with_two_bids
    contract = services.rfp_award(actor=p.sponsor_a_admin, proposal=x, reason="Best value")
    x.refresh_from_db()
    y.refresh_from_db()
    rfp.refresh_from_db()
    assert (x.state, y.state, rfp.state) == ("accepted", "rejected", "awarded")
    assert rfp.awarded_at is not None
    assert contract.kind == "standalone" and contract.parent is None and contract.number == "SA-00001"
    assert (contract.sponsor, contract.vendor, contract.program) == (p.sponsor_a, p.vendor_x, p.program_a)
    assert (contract.value, contract.currency, contract.source_proposal) == (Decimal("100000.00"), "EUR", x)
    assert contract.state == "draft" and contract.start == rfp.desired_start
    assert contract.end == max(rfp.desired_end, rfp.desired_start + timedelta(days=120))
    milestones = list(contract.milestones.order_by("position"))
    assert [(m.name, m.due_date, m.baseline_due_date, m.amount, m.state) for m in milestones] == [
        ("Kick-off", rfp.desired_start + timedelta(days=10), rfp.desired_start + timedelta(days=10),
         Decimal("30000.00"), "planned"),
        ("Batch release", rfp.desired_start + timedelta(days=120), rfp.desired_start + timedelta(days=120),
         Decimal("70000.00"), "planned"),
    ]  # fmt: skip
    assert [e.vendor for e in events("proposal_accepted")] == [p.vendor_x]
    assert [e.vendor for e in events("proposal_rejected")] == [p.vendor_y]
    accepted = entries(x)[0]  # the latest
    assert accepted.changes == {"state": ["submitted", "accepted"]}
    assert accepted.reason == "Best value" and accepted.actor == p.sponsor_a_admin


def test_rfp_award_puts_the_work_order_under_the_active_msa(personas, closed_rfp_with_two_bids):
    p = personas
    _, x, _ = closed_rfp_with_two_bids
    msa = ContractFactory(
        sponsor=p.sponsor_a, vendor=p.vendor_x, kind="msa", state="active", sequence=1, number="MSA-00001"
    )
    ContractFactory(sponsor=p.sponsor_b, vendor=p.vendor_x, kind="msa", state="active", sequence=1, number="MSA-00001")
    contract = services.rfp_award(actor=p.sponsor_a_admin, proposal=x)
    assert (contract.kind, contract.parent, contract.number, contract.sequence) == ("work-order", msa, "WO-00002", 2)


@pytest.mark.parametrize(
    "setup,message",
    [
        ("withdrawn", "This proposal is withdrawn: only a submitted or shortlisted proposal can be accepted."),
        ("rejected", "This proposal is rejected: only a submitted or shortlisted proposal can be accepted."),
    ],
)
def test_rfp_award_refuses_a_proposal_that_is_out_and_leaves_everything_as_it_was(
    personas, closed_rfp_with_two_bids, setup, message
):
    p = personas
    rfp, x, y = closed_rfp_with_two_bids
    Proposal.objects.filter(pk=x.pk).update(state=setup)
    x.refresh_from_db()
    with pytest.raises(TransitionError) as refused:
        services.rfp_award(actor=p.sponsor_a_admin, proposal=x)
    assert str(refused.value) == message
    assert RFP.objects.get(pk=rfp.pk).state == "closed"
    assert Proposal.objects.get(pk=y.pk).state == "submitted"
    assert not Contract.objects.exists()


def test_rfp_award_refuses_a_draft_and_an_rfp_still_open(personas):
    p = personas
    rfp = published_rfp(p, vendors=[p.vendor_x, p.vendor_y])
    x = submitted(p, rfp)
    y_draft = draft(p, rfp, actor=p.vendor_y_admin)
    qualify(p, p.vendor_x, p.vendor_y)
    with pytest.raises(TransitionError, match=services.AWARD_NOT_CLOSED):
        services.rfp_award(actor=p.sponsor_a_admin, proposal=x)
    services.rfp_close(actor=p.sponsor_a_admin, rfp=rfp)
    with pytest.raises(TransitionError, match="This proposal is a draft: only a submitted or shortlisted"):
        services.rfp_award(actor=p.sponsor_a_admin, proposal=y_draft)
    with pytest.raises(PermissionDenied):
        services.rfp_award(actor=p.sponsor_b_admin, proposal=x)
    services.rfp_award(actor=p.sponsor_a_admin, proposal=x)
    with pytest.raises(TransitionError, match=r"This RFP is awarded: only a closed RFP can be awarded\."):
        services.rfp_award(actor=p.sponsor_a_admin, proposal=x)
    assert Contract.objects.count() == 1


def test_a_failure_midway_through_an_award_leaves_no_partial_state(personas, closed_rfp_with_two_bids, monkeypatch):
    p = personas
    rfp, x, _ = closed_rfp_with_two_bids
    history_before = HistoryEntry.objects.count()
    events_before = OutboxEvent.objects.count()

    def fail(contract, proposal):
        raise RuntimeError("disk full while copying milestones")

    monkeypatch.setattr(services.awards, "_contract_milestones_create", fail)
    with pytest.raises(RuntimeError):
        services.rfp_award(actor=p.sponsor_a_admin, proposal=x)
    assert RFP.objects.get(pk=rfp.pk).state == "closed"
    assert set(Proposal.objects.values_list("state", flat=True)) == {"submitted"}
    assert not Contract.objects.exists() and not Milestone.objects.exists()
    assert HistoryEntry.objects.count() == history_before
    assert OutboxEvent.objects.count() == events_before


def test_contract_numbers_count_per_sponsor(personas):
    p = personas
    with_a = [services.contract_number_next(p.sponsor_a, "standalone") for _ in range(1)]
    ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, sequence=7, number="SA-00007")
    assert with_a == [(1, "SA-00001")]
    assert services.contract_number_next(p.sponsor_a, "work-order") == (8, "WO-00008")
    assert services.contract_number_next(p.sponsor_b, "msa") == (1, "MSA-00001")


def test_an_award_skips_a_contract_number_typed_by_hand(personas, closed_rfp_with_two_bids):
    p = personas
    _, x, _ = closed_rfp_with_two_bids
    # Numbers are editable before signature: someone already used the number the award would take next.
    ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_y, sequence=1, number="SA-00002")
    contract = services.rfp_award(actor=p.sponsor_a_admin, proposal=x)
    assert (contract.sequence, contract.number) == (3, "SA-00003")


# --- Who sees what ----------------------------------------------------------------------------------------


def who(p, predicate) -> set[str]:
    """The names of the personas for whom ``predicate(user)`` holds."""
    return {name for name in PERSONA_NAMES if predicate(getattr(p, name))}


def visible(p, model, obj, action="view") -> set[str]:
    """The personas for whom ``obj`` is in ``model.objects.for_user(persona, action)``."""
    return who(p, lambda user: model.objects.for_user(user, action).filter(pk=obj.pk).exists())


SPONSOR_A = {"sponsor_a_admin", "sponsor_a_viewer"}
VENDOR_X = {"vendor_x_admin", "vendor_x_viewer"}


def test_rfp_visibility_drafts_are_the_sponsors_published_ones_also_the_invitees(personas):
    p = personas
    rfp = create_rfp(p)
    services.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp, vendors=[p.vendor_x])
    assert visible(p, RFP, rfp) == SPONSOR_A
    assert visible(p, RFP, rfp, "change") == {"sponsor_a_admin"}
    services.rfp_publish(actor=p.sponsor_a_admin, rfp=rfp)
    assert visible(p, RFP, rfp) == SPONSOR_A | VENDOR_X
    assert visible(p, RFP, rfp, "change") == {"sponsor_a_admin"}
    for state in ("closed", "awarded", "cancelled"):
        RFP.objects.filter(pk=rfp.pk).update(state=state)
        assert visible(p, RFP, rfp) == SPONSOR_A | VENDOR_X, state
    assert visible(p, RFPCriterion, rfp.criteria.first()) == SPONSOR_A | VENDOR_X


def test_an_rfp_cancelled_before_publishing_never_reaches_the_invitees(personas):
    p = personas
    rfp = create_rfp(p)
    services.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp, vendors=[p.vendor_x])
    services.rfp_cancel(actor=p.sponsor_a_admin, rfp=rfp, reason="Wrong scope")
    assert visible(p, RFP, rfp) == SPONSOR_A
    assert visible(p, Invitation, rfp.invitations.get()) == SPONSOR_A


def test_invitation_visibility_no_vendor_sees_another_vendors_invitation(personas):
    p = personas
    rfp = published_rfp(p, vendors=[p.vendor_x, p.vendor_y])
    x_invitation = rfp.invitations.get(vendor=p.vendor_x)
    assert visible(p, Invitation, x_invitation) == SPONSOR_A | VENDOR_X
    assert Invitation.objects.for_user(p.vendor_y_admin).filter(rfp=rfp).count() == 1  # its own only
    assert visible(p, Invitation, x_invitation, "change") == {"sponsor_a_admin", "vendor_x_admin"}


def test_question_visibility_own_and_answered_ones_and_the_asker_only_to_sponsor_and_asker(personas):
    p = personas
    rfp = published_rfp(p, vendors=[p.vendor_x, p.vendor_y])
    question = services.question_ask(actor=p.vendor_x_admin, rfp=rfp, text="Batch size?")
    assert visible(p, Question, question) == SPONSOR_A | VENDOR_X
    services.question_answer(actor=p.sponsor_a_admin, question=question, answer="200 L.")
    assert visible(p, Question, question) == SPONSOR_A | VENDOR_X | {"vendor_y_admin"}
    assert visible(p, Question, question, "change") == {"sponsor_a_admin", "vendor_x_admin"}
    assert who(p, lambda user: question.asker_visible_to(user)) == SPONSOR_A | VENDOR_X


@pytest.mark.parametrize("sealed", [False, True])
def test_proposal_visibility_the_vendors_own_the_sponsor_from_submission_sealed_only_after_closing(personas, sealed):
    p = personas
    rfp = published_rfp(p, vendors=[p.vendor_x, p.vendor_y], sealed=sealed)
    proposal = draft(p, rfp, line_items=LINES)
    line, milestone = proposal.line_items.first(), proposal.milestones.first()
    assert visible(p, Proposal, proposal) == VENDOR_X
    services.proposal_submit(actor=p.vendor_x_admin, proposal=proposal)
    before_close = VENDOR_X if sealed else SPONSOR_A | VENDOR_X
    assert visible(p, Proposal, proposal) == before_close
    assert visible(p, ProposalLineItem, line) == before_close
    assert visible(p, ProposedMilestone, milestone) == before_close
    # Sealed: the sponsor still sees who responded and when — the invitation says so.
    assert Invitation.objects.for_user(p.sponsor_a_viewer).get(vendor=p.vendor_x).responded_at is not None
    services.rfp_close(actor=p.sponsor_a_admin, rfp=rfp)
    assert visible(p, Proposal, proposal) == SPONSOR_A | VENDOR_X
    assert visible(p, ProposalLineItem, line) == SPONSOR_A | VENDOR_X
    assert visible(p, Proposal, proposal, "change") == {"sponsor_a_admin", "vendor_x_admin"}


def test_the_opening_of_sealed_bids_is_recorded_with_who_and_when(personas):
    p = personas
    by_hand = published_rfp(p, sealed=True)
    services.rfp_close(actor=p.sponsor_a_admin, rfp=by_hand)
    by_hand.refresh_from_db()
    assert (by_hand.opened_by, by_hand.opened_at) == (p.sponsor_a_admin, by_hand.closed_at)
    entry = HistoryEntry.objects.for_object(by_hand).order_by("-id").first()
    assert entry.changes["opened_by"] == [None, p.sponsor_a_admin.pk]
    # Closed by its deadline: opened by nobody, at that moment; an open RFP is never "opened".
    at_deadline = published_rfp(p, sealed=True)
    open_rfp = published_rfp(p, sealed=False)
    RFP.objects.filter(pk__in=[at_deadline.pk, open_rfp.pk]).update(response_deadline=timezone.now())
    assert services.rfp_close_due() == 2
    at_deadline.refresh_from_db()
    open_rfp.refresh_from_db()
    assert (at_deadline.opened_by, at_deadline.opened_at) == (None, at_deadline.closed_at)
    assert open_rfp.opened_at is None


def test_a_withdrawn_proposal_is_the_vendors_alone(personas):
    p = personas
    rfp = published_rfp(p)
    proposal = submitted(p, rfp)
    services.proposal_withdraw(actor=p.vendor_x_admin, proposal=proposal)
    assert visible(p, Proposal, proposal) == VENDOR_X


def test_proposal_history_follows_the_seal(personas):
    p = personas
    rfp = published_rfp(p, sealed=True)
    proposal = submitted(p, rfp)
    readers = who(p, lambda user: proposal.history_visible_to(user))
    assert readers == VENDOR_X
    services.rfp_close(actor=p.sponsor_a_admin, rfp=rfp)
    readers = who(p, lambda user: proposal.history_visible_to(user))
    assert readers == VENDOR_X | SPONSOR_A
    # The RFP's history (old ceilings) is the sponsor's alone, invited or not.
    assert who(p, lambda user: rfp.history_visible_to(user)) == SPONSOR_A


def test_contract_and_milestone_visibility_both_parties_nobody_else(personas):
    p = personas
    milestone = MilestoneFactory(contract=ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x))
    assert visible(p, Contract, milestone.contract) == SPONSOR_A | VENDOR_X
    assert visible(p, Milestone, milestone) == SPONSOR_A | VENDOR_X
    assert visible(p, Contract, milestone.contract, "change") == {"sponsor_a_admin", "vendor_x_admin"}
    assert who(p, lambda user: milestone.history_visible_to(user)) == SPONSOR_A | VENDOR_X


def test_the_budget_ceiling_is_hidden_from_everyone_but_the_sponsors_people(personas):
    p = personas
    rfp = published_rfp(p)
    shown = who(p, lambda user: not rfp.hidden_fields_for(user))
    assert shown == SPONSOR_A
    assert rfp.hidden_fields_for(p.vendor_x_admin) == RFP_SPONSOR_ONLY_FIELDS == {"budget_ceiling", "budget_currency"}
    assert rfp.hidden_fields_for(p.staff) == frozenset()


def test_no_event_of_a_whole_sourcing_run_carries_the_ceiling(personas, closed_rfp_with_two_bids):
    p = personas
    _, x, _ = closed_rfp_with_two_bids
    services.rfp_award(actor=p.sponsor_a_admin, proposal=x)
    assert OutboxEvent.objects.count() >= 6
    for event in OutboxEvent.objects.all():
        text = f"{event.title} {event.body} {event.payload}"
        assert str(CEILING) not in text and "987654" not in text, event.event_type


# --- Model rules the database holds -----------------------------------------------------------------------


def test_model_validation_catches_what_the_constraints_hold(personas):
    p = personas
    rfp = RFPFactory.build(sponsor=p.sponsor_a, program=p.program_b, desired_start=date(2030, 1, 2),
                           desired_end=date(2030, 1, 1), response_deadline=in_days(5), qa_cutoff=in_days(6))  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        rfp.full_clean()
    assert set(refused.value.message_dict) >= {"program", "desired_end", "qa_cutoff"}
    msa = ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, kind="msa")
    other_vendor = VendorFactory(name="Vendor Z", slug="vendor-z")
    work_order = ContractFactory.build(sponsor=p.sponsor_a, vendor=other_vendor, kind="work-order", parent=msa)
    with pytest.raises(ValidationError) as refused:
        work_order.full_clean()
    assert refused.value.message_dict["parent"] == ["The parent must be an MSA between the same sponsor and vendor."]
    orphan = ContractFactory.build(sponsor=p.sponsor_a, vendor=p.vendor_x, kind="work-order")
    with pytest.raises(ValidationError) as refused:
        orphan.full_clean()
    assert "A work order sits under an MSA: choose it." in refused.value.message_dict["parent"]


@pytest.mark.parametrize(
    "model,values",
    [
        ("milestone", {"due_date": date(2030, 1, 1), "due_offset_days": 3}),
        ("milestone", {"due_date": None, "due_offset_days": None}),
        ("contract", {"kind": "work-order"}),
        ("contract", {"end": date(2000, 1, 1)}),
    ],
)
def test_the_database_refuses_rows_that_bypass_validation(personas, model, values):
    from django.db import IntegrityError, transaction

    p = personas
    with pytest.raises(IntegrityError), transaction.atomic():
        if model == "milestone":
            proposal = ProposalFactory(rfp=RFPFactory(program=p.program_a), vendor=p.vendor_x)
            ProposedMilestone.objects.create(proposal=proposal, name="M", amount=Decimal("1"), **values)
        else:
            ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, **values)


# --- Under real concurrency (PostgreSQL) ------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_racing_awards_of_one_rfp_create_one_contract():
    sponsor = SponsorFactory(name="Race Pharma", slug="race-pharma-award")
    actor = UserFactory(email="ann@race-award.test", sponsor=sponsor)
    rfp = RFPFactory(program=ProgramFactory(sponsor=sponsor), state="closed", published_at=in_days(-2))
    bids = [
        ProposalFactory.complete(rfp=rfp, vendor=VendorFactory(), state="submitted", submitted_at=in_days(-1))
        for _ in range(2)
    ]
    for bid in bids:
        VendorQualification.objects.create(sponsor=sponsor, vendor=bid.vendor, status="approved")
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def run(index):
        try:
            proposal = Proposal.objects.get(pk=bids[index].pk)
            barrier.wait(timeout=30)
            services.rfp_award(actor=actor, proposal=proposal)
            outcomes[index] = "ok"
        except TransitionError as exc:
            outcomes[index] = str(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    assert "This RFP is awarded: only a closed RFP can be awarded." in outcomes
    assert Contract.objects.filter(sponsor=sponsor).count() == 1
    assert sorted(Proposal.objects.filter(rfp=rfp).values_list("state", flat=True)) == ["accepted", "rejected"]
