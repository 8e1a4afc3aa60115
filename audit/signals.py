"""Recorders connected to every model that inherits HistoryMixin."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from audit.models import Action, history_record
from audit.tracking import HistoryMixin


@receiver(post_save)
def record_save(sender, instance, created, raw=False, **kwargs):
    if raw or not isinstance(instance, HistoryMixin):
        return
    new = instance.history_values()
    if created:
        changes = {name: [None, value] for name, value in new.items() if value not in (None, "")}
        action = Action.CREATED
    else:
        old = getattr(instance, "_history_snapshot", {})
        changes = {name: [old[name], value] for name, value in new.items() if name in old and old[name] != value}
        if not changes:
            return
        action = Action.TRANSITION if "state" in changes else Action.CHANGED
    history_record(instance, action, changes)
    instance._history_snapshot = new


@receiver(post_delete)
def record_delete(sender, instance, **kwargs):
    if isinstance(instance, HistoryMixin):
        history_record(instance, Action.DELETED, {})


@receiver(m2m_changed)
def record_m2m(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Record a many-to-many edit as ``{field: [old ids, new ids]}`` on the tracked side."""
    if reverse or not isinstance(instance, HistoryMixin):
        return
    field = next((f for f in instance._meta.many_to_many if f.remote_field.through is sender), None)
    if field is None:
        return
    if action in ("pre_add", "pre_remove", "pre_clear"):
        instance._history_m2m_before = sorted(getattr(instance, field.name).values_list("pk", flat=True))
    elif action in ("post_add", "post_remove", "post_clear"):
        before = getattr(instance, "_history_m2m_before", None)
        after = sorted(getattr(instance, field.name).values_list("pk", flat=True))
        if before is not None and before != after:
            history_record(instance, Action.CHANGED, {field.name: [before, after]})
