"""The demo's sourcing pipeline: RFPs in every state, played through the services, idempotent, and each demo
user sees their own side of it only."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from audit.models import HistoryEntry
from contracts import demo
from contracts.models import (
    RFP,
    Contract,
    Invitation,
    Milestone,
    Proposal,
    ProposalLineItem,
    ProposalScore,
    ProposedMilestone,
    Question,
)
from notifications.models import OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    call_command("seed_demo", vendors=5, verbosity=0)


def user(email):
    return User.objects.get(email=email)


def test_acme_has_a_living_pipeline_in_every_state(seeded):
    acme = RFP.objects.filter(sponsor__slug="acme-pharma")
    assert set(acme.values_list("state", flat=True)) == {"draft", "published", "closed", "awarded", "cancelled"}

    draft = acme.get(title=demo.DRAFT_TITLE)
    assert draft.state == "draft" and draft.invitations.count() == 2 and draft.published_at is None

    sealed = acme.get(title=demo.OPEN_SEALED_TITLE)
    assert (sealed.state, sealed.sealed) == ("published", True)
    assert sealed.response_deadline > sealed.published_at + datetime.timedelta(days=3)  # open for days yet
    assert sorted(sealed.invitations.values_list("vendor__name", "state")) == [
        ("Helix Manufacturing", "invited"), ("Lyon Aseptic", "invited"), ("Orbital CDMO", "responded"),
    ]  # fmt: skip
    assert sorted(sealed.proposals.values_list("vendor__name", "state")) == [
        ("Helix Manufacturing", "draft"), ("Orbital CDMO", "submitted"),
    ]  # fmt: skip
    [question] = sealed.questions.all()
    assert question.asked_by_vendor.name == "Helix Manufacturing" and question.answered_by == user("alice@acme.test")
    assert "Liquid fill only" in question.answer
    # alice sees who responded, not what: the sealed proposal stays closed to her until the RFP closes.
    assert not Proposal.objects.for_user(user("alice@acme.test")).filter(rfp=sealed).exists()

    closed = acme.get(title=demo.AWAITING_AWARD_TITLE)
    assert (closed.state, closed.sealed) == ("closed", True)
    assert closed.opened_at is not None and closed.opened_by == user("alice@acme.test")
    bids = list(closed.proposals.order_by("total_price"))
    assert len(bids) >= 3 and len({b.total_price for b in bids}) == len(bids)
    assert {b.state for b in bids} <= {"submitted", "shortlisted"}
    assert [b.total_price > closed.budget_ceiling for b in bids] == [False, False, True]  # one over the ceiling
    scorers = set(ProposalScore.objects.filter(proposal__rfp=closed).values_list("scorer__email", flat=True))
    assert "alice@acme.test" in scorers
    assert ProposalScore.objects.filter(proposal__rfp=closed, scorer__email="alice@acme.test").count() == 3 * 4
    for bid in bids:  # each breakdown adds up, pass-through costs marked apart
        assert sum(item.line_total for item in bid.line_items.all()) == bid.total_price
        assert sum(m.amount for m in bid.milestones.all()) == bid.total_price
        assert bid.line_items.filter(pass_through=True).exists()

    awarded = acme.get(title=demo.AWARDED_TITLE)
    accepted = awarded.proposals.get(state="accepted")
    assert accepted.vendor.name == "Northwind Clinical"
    contract = Contract.objects.get(source_proposal=accepted)
    assert (contract.value, contract.currency, contract.vendor) == (accepted.total_price, "USD", accepted.vendor)
    proposed = [(m.name, m.amount, awarded.desired_start + datetime.timedelta(days=m.due_offset_days))
                for m in accepted.milestones.order_by("position")]  # fmt: skip
    assert [(m.name, m.amount, m.due_date) for m in contract.milestones.order_by("position")] == proposed
    assert sum(m.amount for m in contract.milestones.all()) == contract.value
    assert set(awarded.proposals.exclude(pk=accepted.pk).values_list("state", flat=True)) == {"rejected"}

    cancelled = acme.get(title=demo.CANCELLED_TITLE)
    assert cancelled.state == "cancelled" and cancelled.published_at is not None

    assert {r.budget_currency for r in acme} == {"EUR", "USD", "CHF"}
    assert [(c.name, c.weight) for c in sealed.criteria.all()] == [
        ("Price", 40), ("Timeline", 20), ("Experience", 20), ("Quality and compliance", 20),
    ]  # fmt: skip


def test_the_stories_left_their_history_and_notifications(seeded):
    awarded = RFP.objects.get(title=demo.AWARDED_TITLE)
    transitions = HistoryEntry.objects.for_object(awarded).filter(action="transition").order_by("timestamp", "id")
    assert [e.changes["state"][1] for e in transitions] == ["published", "closed", "awarded"]
    assert {e.actor.email for e in transitions} == {"alice@acme.test"}
    northwind = OutboxEvent.objects.filter(vendor__slug="northwind-clinical")
    assert northwind.filter(event_type="proposal_accepted", title__contains=demo.AWARDED_TITLE).exists()
    assert OutboxEvent.objects.filter(event_type="proposal_rejected", payload__rfp=awarded.pk).count() == 2
    orbital = OutboxEvent.objects.filter(vendor__slug="orbital-cdmo")
    assert orbital.filter(event_type="rfp_cancelled", title__contains=demo.CANCELLED_TITLE).exists()
    assert orbital.filter(event_type="rfp_question_answered").exists()
    # No ceiling of any demo RFP reaches a vendor: not in events, not in their texts.
    ceilings = {f"{r.budget_ceiling:,.0f}" for r in RFP.objects.all()} | {
        f"{r.budget_ceiling:.2f}" for r in RFP.objects.all()
    }
    for event in OutboxEvent.objects.filter(vendor__isnull=False):
        text = f"{event.title} {event.body} {event.payload}"
        assert not [c for c in ceilings if c in text], event.title


def test_a_second_seed_creates_nothing_new(seeded):
    models = [RFP, Invitation, Question, Proposal, ProposalLineItem, ProposedMilestone, ProposalScore, Contract,
              Milestone, OutboxEvent, User]  # fmt: skip
    before = {m.__name__: m.objects.count() for m in models}
    history = HistoryEntry.objects.filter(content_type__app_label="contracts").count()
    states = dict(RFP.objects.values_list("title", "state"))
    call_command("seed_demo", vendors=5, verbosity=0)
    assert {m.__name__: m.objects.count() for m in models} == before
    assert HistoryEntry.objects.filter(content_type__app_label="contracts").count() == history
    assert dict(RFP.objects.values_list("title", "state")) == states
    assert before["RFP"] == len(demo.STORIES)


def test_each_demo_user_sees_their_own_side_only(seeded):
    acme = set(RFP.objects.filter(sponsor__slug="acme-pharma").values_list("title", flat=True))
    borealis = set(RFP.objects.filter(sponsor__slug="borealis-bio").values_list("title", flat=True))
    assert borealis == {demo.BOREALIS_TITLE}

    def titles(email):
        return set(RFP.objects.for_user(user(email)).values_list("title", flat=True))

    assert titles("alice@acme.test") == acme
    assert titles("bob@borealis.test") == borealis
    erin_invited = set(
        Invitation.objects.filter(vendor__slug="orbital-cdmo", rfp__published_at__isnull=False).values_list(
            "rfp__title", flat=True
        )
    )
    assert titles("erin@orbital.test") == erin_invited
    assert erin_invited == {demo.OPEN_SEALED_TITLE, demo.AWAITING_AWARD_TITLE, demo.CANCELLED_TITLE}
    # dave is invited to Acme's draft too, but a draft reaches no vendor.
    assert demo.DRAFT_TITLE not in titles("dave@helix.test") and demo.BOREALIS_TITLE in titles("dave@helix.test")
    assert not Proposal.objects.for_user(user("erin@orbital.test")).exclude(vendor__slug="orbital-cdmo").exists()
    assert not ProposalScore.objects.for_user(user("erin@orbital.test")).exists()

    client = Client()
    client.force_login(user("alice@acme.test"), backend="django.contrib.auth.backends.ModelBackend")
    page = client.get("/rfps/").content.decode()
    assert demo.AWAITING_AWARD_TITLE in page and demo.BOREALIS_TITLE not in page
    client.force_login(user("erin@orbital.test"), backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(f"/rfps/{RFP.objects.get(title=demo.OPEN_SEALED_TITLE).pk}/").content.decode()
    assert demo.OPEN_SEALED_TITLE in page and "1,200,000" not in page and "Helix" not in page
    assert Decimal("1200000") == RFP.objects.get(title=demo.OPEN_SEALED_TITLE).budget_ceiling
