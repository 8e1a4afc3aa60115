"""The one helper that applies declared state transitions: compare-and-set, history, outbox, refusals."""

import threading

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from audit.models import Action, HistoryEntry
from contracts.models import RFP, Proposal
from cro_cmo.services import TransitionError
from cro_cmo.transitions import Notice, Transition, transition_apply, transitions_allowed
from notifications.models import OutboxEvent
from tests.factories import ProgramFactory, ProposalFactory, RFPFactory, SponsorFactory, UserFactory

pytestmark = pytest.mark.django_db


def transition_entries(obj):
    return list(HistoryEntry.objects.for_object(obj).filter(action=Action.TRANSITION))


def models_with_transitions():
    return [model for model in apps.get_models() if getattr(model, "TRANSITIONS", None)]


def test_the_sourcing_and_contract_models_declare_their_transitions():
    names = {model.__name__ for model in models_with_transitions()}
    assert {"RFP", "Invitation", "Proposal", "Contract", "Milestone"} <= names


@pytest.mark.parametrize("model", models_with_transitions(), ids=lambda m: m.__name__)
def test_every_declared_transition_names_real_states(model):
    states = {value for value, _ in model._meta.get_field("state").choices}
    for name, declared in model.TRANSITIONS.items():
        assert isinstance(declared, Transition), name
        assert declared.source, name
        assert declared.source <= states, (name, declared.source - states)
        assert declared.target in states, name
        assert declared.target not in declared.source, f"{name} goes nowhere"


def test_a_transition_updates_the_row_records_history_emits_events_and_refreshes(personas):
    rfp = RFPFactory(program=personas.program_a)
    before = rfp.updated
    now = timezone.now()
    result = transition_apply(
        rfp, "publish", actor=personas.sponsor_a_admin, reason="Go", values={"published_at": now},
        notices=[Notice(title="Invitation to RFP", vendor=personas.vendor_x)],
    )  # fmt: skip
    assert result is rfp
    assert rfp.state == "published" and rfp.published_at == now and rfp.updated > before
    assert RFP.objects.get(pk=rfp.pk).state == "published"
    [entry] = transition_entries(rfp)
    assert entry.actor == personas.sponsor_a_admin and entry.reason == "Go"
    assert entry.changes == {"state": ["draft", "published"], "published_at": [None, now.isoformat()]}
    [event] = OutboxEvent.objects.filter(event_type="rfp_invitation")
    assert event.vendor == personas.vendor_x and event.sponsor is None
    assert event.payload == {"object": "contracts.rfp", "id": rfp.pk, "transition": "publish",
                             "from": "draft", "to": "published"}  # fmt: skip
    # The refreshed snapshot: an ordinary save afterwards records a change, not the transition again.
    rfp.title = "Renamed"
    rfp.save()
    assert len(transition_entries(rfp)) == 1
    assert HistoryEntry.objects.for_object(rfp).filter(action=Action.CHANGED).count() == 1


def test_a_refused_transition_says_why_and_changes_nothing(personas):
    rfp = RFPFactory(program=personas.program_a, state="closed", published_at=timezone.now())
    with pytest.raises(TransitionError) as refused:
        transition_apply(
            rfp, "cancel", actor=personas.sponsor_a_admin, notices=[Notice(title="x", vendor=personas.vendor_x)]
        )
    assert str(refused.value) == "This RFP is closed: only a draft or published RFP can be cancelled."
    assert RFP.objects.get(pk=rfp.pk).state == "closed"
    assert transition_entries(rfp) == []
    assert not OutboxEvent.objects.exists()


def test_a_draft_is_named_as_such_and_several_sources_are_listed_in_order(personas):
    proposal = ProposalFactory(rfp=RFPFactory(program=personas.program_a), vendor=personas.vendor_x)
    with pytest.raises(TransitionError) as refused:
        transition_apply(proposal, "accept", actor=personas.sponsor_a_admin)
    assert str(refused.value) == "This proposal is a draft: only a submitted or shortlisted proposal can be accepted."


def test_a_stale_instance_is_refused_even_when_the_new_state_would_allow_it(personas):
    """Two people load the same draft; one publishes; the other's cancel must not act on what it never saw."""
    first = RFPFactory(program=personas.program_a)
    second = RFP.objects.get(pk=first.pk)
    transition_apply(first, "publish", actor=personas.sponsor_a_admin, values={"published_at": timezone.now()})
    with pytest.raises(TransitionError, match="was changed by someone else meanwhile \\(it is now published\\)"):
        transition_apply(second, "cancel", actor=personas.sponsor_a_admin)
    assert RFP.objects.get(pk=first.pk).state == "published"
    assert len(transition_entries(first)) == 1


def test_a_transition_rolled_back_with_its_transaction_leaves_no_trace(personas):
    rfp = RFPFactory(program=personas.program_a)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        transition_apply(
            rfp, "cancel", actor=personas.sponsor_a_admin, notices=[Notice(title="x", vendor=personas.vendor_x)]
        )
        raise Boom
    assert RFP.objects.get(pk=rfp.pk).state == "draft"
    assert transition_entries(rfp) == []
    assert not OutboxEvent.objects.exists()


def test_programming_errors_are_not_user_errors(personas):
    rfp = RFPFactory(program=personas.program_a)
    with pytest.raises(ValueError, match="declares no transition"):
        transition_apply(rfp, "teleport", actor=personas.sponsor_a_admin)
    proposal = ProposalFactory(rfp=rfp, vendor=personas.vendor_x)
    with pytest.raises(ValueError, match="declares no event type"):
        transition_apply(proposal, "shortlist", notices=[Notice(title="x", vendor=personas.vendor_x)])
    with pytest.raises(ValueError, match="may not set state"):
        transition_apply(rfp, "publish", values={"state": "awarded"})
    assert RFP.objects.get(pk=rfp.pk).state == "draft"


def test_transitions_allowed_lists_what_the_current_state_permits(personas):
    rfp = RFPFactory(program=personas.program_a)
    assert transitions_allowed(rfp) == ["publish", "cancel"]
    proposal = ProposalFactory(rfp=rfp, vendor=personas.vendor_x, state="submitted", submitted_at=timezone.now())
    assert set(transitions_allowed(proposal)) == {"withdraw", "shortlist", "accept", "reject"}


def test_a_system_transition_is_recorded_as_the_system(personas):
    rfp = RFPFactory(program=personas.program_a, state="published", published_at=timezone.now())
    transition_apply(rfp, "close", actor=None, reason="Response deadline passed.", values={"closed_at": timezone.now()})
    [entry] = transition_entries(rfp)
    assert entry.actor is None and entry.actor_name == "system" and entry.reason == "Response deadline passed."


# --- Under real concurrency (PostgreSQL) ------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_of_two_racing_transitions_exactly_one_wins(attempt):
    """Publish and cancel the same draft at the same moment, each in its own connection: one wins, the
    other is refused, and history holds exactly one transition."""
    sponsor = SponsorFactory(name="Race Pharma", slug=f"race-pharma-{attempt}")
    actor = UserFactory(email=f"ann{attempt}@race.test", sponsor=sponsor)
    rfp = RFPFactory(program=ProgramFactory(sponsor=sponsor))
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def run(index, name, values):
        try:
            instance = RFP.objects.get(pk=rfp.pk)
            with transaction.atomic():
                barrier.wait(timeout=30)
                transition_apply(instance, name, actor=actor, values=values)
            outcomes[index] = "ok"
        except TransitionError as exc:
            outcomes[index] = str(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(0, "publish", {"published_at": timezone.now()})),
        threading.Thread(target=run, args=(1, "cancel", {})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    final = RFP.objects.get(pk=rfp.pk).state
    assert final == ("published" if outcomes[0] == "ok" else "cancelled")
    assert len(transition_entries(rfp)) == 1
    loser = next(o for o in outcomes if o != "ok")
    assert "changed by someone else meanwhile" in loser or loser.startswith(f"This RFP is {final}")


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_racing_acceptances_of_one_proposal_record_one_transition():
    sponsor = SponsorFactory(name="Race Bio", slug="race-bio")
    actor = UserFactory(email="bo@race-bio.test", sponsor=sponsor)
    rfp = RFPFactory(program=ProgramFactory(sponsor=sponsor))
    proposal = ProposalFactory(rfp=rfp, state="submitted", submitted_at=timezone.now())
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        try:
            instance = Proposal.objects.get(pk=proposal.pk)
            with transaction.atomic():
                barrier.wait(timeout=30)
                transition_apply(instance, "accept", actor=actor)
            outcomes.append("ok")
        except TransitionError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("ok") == 1, outcomes
    assert len(transition_entries(proposal)) == 1
