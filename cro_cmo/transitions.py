"""State machines as declarations, applied by one helper.

Each model with a ``state`` field declares its transitions once, as data::

    class RFP(...):
        TRANSITIONS = {
            "publish": Transition(source={"draft"}, target="published", event="rfp_invitation"),
            "cancel": Transition(source={"draft", "published"}, target="cancelled", event="rfp_cancelled"),
        }

and services name the business step and call ``transition_apply(rfp, "publish", actor=…)``. No view,
serializer or service sets ``state`` itself. The helper, in one transaction:

1. claims the transition with a compare-and-set UPDATE (``WHERE pk = … AND state = <the state the
   caller saw>``): of two concurrent transitions of the same row exactly one updates it, the other
   updates nothing and is refused — no lock held while the service works, no lost update;
2. records it in the audit trail (a queryset ``update()`` fires no save signal, so it is written
   explicitly, with actor and reason);
3. writes the outbox events the service asks for (delivered after commit);
4. refreshes the instance (and its history snapshot, so a later ``save()`` does not record the
   transition a second time).

It raises ``TransitionError`` (the API answers 409) with a message a user can act on when the current
state does not allow the transition.

Why not django-fsm-2 (it installs with Django 6.1): it changes ``state`` on the instance and relies on a
later ``save()`` (a whole-row write) and on its own signals; its optimistic-lock mixin reports a race
only at save time as its own exception. What we need — a single compare-and-set UPDATE, our append-only
history with a reason, outbox events in the same transaction and a user-facing message — is this
small module; a dependency would add mapping code, not remove it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from audit.context import audit_context
from audit.models import Action, history_record, serialise_value
from cro_cmo.services import TransitionError

STATE_FIELD = "state"


@dataclass(frozen=True)
class Transition:
    """One declared transition: from any state in ``source`` to ``target``.

    ``event`` is the outbox event type written for each ``Notice`` the service passes (None: the
    transition notifies nobody). ``verb`` is the past participle used in refusals ("… can be
    *started*"); it defaults to the target state's label ("… can be *published*").
    """

    source: frozenset[str]
    target: str
    event: str | None = None
    verb: str | None = None

    def __init__(self, source: Iterable[str], target: str, event: str | None = None, verb: str | None = None):
        # A frozen dataclass with a friendlier constructor: accept any iterable of states.
        object.__setattr__(self, "source", frozenset(str(state) for state in source))
        object.__setattr__(self, "target", str(target))
        object.__setattr__(self, "event", event)
        object.__setattr__(self, "verb", verb)


@dataclass(frozen=True)
class Notice:
    """An outbox event to write with a transition: for a sponsor and/or a vendor.

    The text is the service's business: it must never carry what the audience may not see (an RFP's
    budget ceiling, another vendor's name or price).
    """

    title: str
    body: str = ""
    sponsor: Any = None
    vendor: Any = None
    payload: dict = field(default_factory=dict)


def _state_label(model: type[models.Model], state: str) -> str:
    return str(dict(model._meta.get_field(STATE_FIELD).flatchoices).get(state, state)).lower()


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _state_phrase(model: type[models.Model], state: str) -> str:
    """The state after "is": "closed", "pending signature" — but "a draft" (the one state named by a noun)."""
    label = _state_label(model, state)
    return f"a {label}" if state == "draft" else label


def transition_refusal(model: type[models.Model], name: str, current: str) -> str:
    """The user-facing refusal, e.g. "This RFP is closed: only a draft or published RFP can be cancelled."."""
    transition = model.TRANSITIONS[name]
    noun = str(model._meta.verbose_name)
    # Name the allowed states in the order the choices declare them (draft before published …).
    choices = model._meta.get_field(STATE_FIELD).flatchoices
    sources = [_state_label(model, value) for value, _ in choices if value in transition.source]
    allowed = sources[0] if len(sources) == 1 else ", ".join(sources[:-1]) + " or " + sources[-1]
    verb = transition.verb or _state_label(model, transition.target)
    return f"This {noun} is {_state_phrase(model, current)}: only {_article(allowed)} {allowed} {noun} can be {verb}."


def transitions_allowed(instance: models.Model) -> list[str]:
    """Names of the transitions the instance's current state allows (for buttons; no permission check)."""
    state = getattr(instance, STATE_FIELD)
    return [name for name, t in instance.TRANSITIONS.items() if state in t.source]


@transaction.atomic
def transition_apply(
    instance: models.Model,
    name: str,
    *,
    actor=None,
    reason: str = "",
    values: Mapping[str, Any] | None = None,
    notices: Iterable[Notice] = (),
) -> models.Model:
    """Apply the declared transition ``name`` to ``instance``; return the refreshed instance.

    1. Look up the declaration (an unknown name is a programming error: ValueError).
    2. Compare-and-set: ``UPDATE … SET state = target, updated = now, **values WHERE pk = … AND
       state = <instance.state>`` — only if that state is a declared source. One row updated = ours.
    3. Otherwise read the current state and raise ``TransitionError``: not allowed from there, or
       changed by someone else since the caller loaded it (reload and decide again).
    4. Record the transition (state and ``values``, old → new) in history as ``actor`` with ``reason``.
    5. Write one outbox event of the declared type per notice, in this transaction.
    6. Refresh the instance from the database, history snapshot included.

    ``values`` are further columns set in the same UPDATE (``published_at``, ``submitted_at`` …).
    ``actor`` None means the system (a scheduled scan).
    """
    model = type(instance)
    transition = getattr(model, "TRANSITIONS", {}).get(name)
    if transition is None:
        raise ValueError(f"{model.__name__} declares no transition {name!r}")
    notices = list(notices)
    if notices and transition.event is None:
        raise ValueError(f"{model.__name__}.{name} declares no event type; it cannot notify anyone")
    values = dict(values or {})
    if STATE_FIELD in values or "updated" in values:
        raise ValueError("values may not set state or updated: the transition does")

    expected = getattr(instance, STATE_FIELD)
    now = timezone.now()
    rows = model._base_manager.filter(pk=instance.pk)
    claimed = expected in transition.source and (
        rows.filter(**{STATE_FIELD: expected}).update(**{STATE_FIELD: transition.target, "updated": now}, **values) == 1
    )
    if not claimed:
        current = rows.values_list(STATE_FIELD, flat=True).first()
        if current is None:
            raise TransitionError(f"This {model._meta.verbose_name} no longer exists.")
        if current in transition.source:
            # Allowed from where it is now, but not from where the caller saw it: someone changed it meanwhile.
            raise TransitionError(
                f"This {model._meta.verbose_name} was changed by someone else meanwhile (it is now "
                f"{_state_label(model, current)}). Reload it and try again."
            )
        raise TransitionError(transition_refusal(model, name, current))

    old_values = {key: serialise_value(getattr(instance, model._meta.get_field(key).attname)) for key in values}
    instance.refresh_from_db()
    if hasattr(instance, "history_values"):
        instance._history_snapshot = instance.history_values()
    changes = {STATE_FIELD: [expected, transition.target]}
    for key in values:
        new = serialise_value(getattr(instance, model._meta.get_field(key).attname))
        if new != old_values[key]:
            changes[key] = [old_values[key], new]
    with audit_context(actor=actor, reason=reason):
        history_record(instance, Action.TRANSITION, changes, reason=reason)

    if notices:
        from notifications.services import event_emit  # notifications imports accounts; keep this module light

        url = (instance.get_absolute_url() or "") if hasattr(instance, "get_absolute_url") else ""
        for notice in notices:
            payload = {
                "object": model._meta.label_lower, "id": instance.pk, "transition": name,
                "from": expected, "to": transition.target, **notice.payload,
            }  # fmt: skip
            event_emit(
                transition.event, title=notice.title, body=notice.body, url=url, sponsor=notice.sponsor,
                vendor=notice.vendor, payload=payload,
            )  # fmt: skip
    return instance
