"""Generic write services for plain records (profiles, sites, programmes…).

Domain transitions have their own ``<entity>_<action>`` services; this is the single path for
"validate and save this record" used by browser forms, API serializers and the admin alike.
"""

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


@transaction.atomic
def object_delete(*, actor, instance: models.Model, reason: str = "") -> None:
    with audit_context(actor=actor, reason=reason):
        instance.delete()
