"""Generic write services for plain records (profiles, sites, programmes…).

Domain transitions have their own ``<entity>_<action>`` services; this is the single path for
"validate and save this record" used by browser forms, API serializers and the admin alike.
"""

from collections import Counter

from django.db import models, transaction

from audit.context import audit_context


class TransitionError(Exception):
    """An illegal state transition: the API answers 409, the browser shows the message."""


@transaction.atomic
def object_save(*, actor, instance: models.Model, m2m: dict | None = None, reason: str = "") -> models.Model:
    """Validate ``instance`` against its model (fields, clean(), constraints), save it, then set ``m2m``.

    History is attributed to ``actor`` with ``reason``.
    """
    with audit_context(actor=actor, reason=reason):
        instance.full_clean()
        if hasattr(instance, "clean_m2m"):
            # Rules across relations (capabilities of the right category), also when a partial update
            # sends no relation at all: clean_m2m checks what it is not given with the current values.
            instance.clean_m2m(m2m or {})
        instance.save()
        for name, values in (m2m or {}).items():
            getattr(instance, name).set(values)
    return instance


class DeleteRefused(TransitionError):
    """Other records depend on this one (a programme with RFPs): 409 in the API, a message in the browser."""


def delete_refused_message(instance: models.Model, blocking) -> str:
    """What blocks a deletion, counted by kind: 'This program cannot be deleted: 2 RFPs refer to it. …'."""
    counts = Counter(type(obj) for obj in blocking)
    parts = [
        f"{n} {model._meta.verbose_name_plural if n > 1 else model._meta.verbose_name}" for model, n in counts.items()
    ]
    verb, pronoun = ("refers", "it") if sum(counts.values()) == 1 else ("refer", "them")
    return (
        f"This {instance._meta.verbose_name} cannot be deleted: {', '.join(parts) or 'other records'} {verb} "
        f"to it. Remove or reassign {pronoun} first."
    )


@transaction.atomic
def object_delete(*, actor, instance: models.Model, reason: str = "") -> None:
    """Delete through the audit trail; refuse (``DeleteRefused``) when protected records depend on it."""
    try:
        with transaction.atomic(), audit_context(actor=actor, reason=reason):
            instance.delete()
    except (models.ProtectedError, models.RestrictedError) as exc:
        blocking = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", [])
        raise DeleteRefused(delete_refused_message(instance, list(blocking))) from None
