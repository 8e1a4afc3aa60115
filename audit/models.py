"""The append-only audit trail (21 CFR 11.10(e)): who, when, what changed from what to what, why."""

import datetime
import decimal
import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.fields.files import FieldFile

from audit.context import current_audit_context


class Action(models.TextChoices):
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    TRANSITION = "transition", "State change"
    DELETED = "deleted", "Deleted"


class AppendOnlyError(Exception):
    """Raised on any attempt to alter or remove a history entry."""


class HistoryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("History entries are append-only.")

    def delete(self):
        raise AppendOnlyError("History entries are append-only.")

    def for_object(self, obj):
        return self.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))


class HistoryEntry(models.Model):
    """One recorded create, change, state transition or deletion of a tracked object.

    Entries are never updated or deleted: the model, its queryset and (on PostgreSQL) a
    database trigger all refuse it. ``actor_name`` keeps the printed name at the time, so the
    record stays readable even if the user is later renamed or removed.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=200, blank=True)
    timestamp = models.DateTimeField(auto_now_add=True)
    changes = models.JSONField(default=dict, help_text="{field: [old, new]}")
    reason = models.TextField(blank=True)

    objects = HistoryQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-timestamp"], name="history_object_idx")]
        verbose_name_plural = "history entries"

    def __str__(self):
        return f"{self.get_action_display()} {self.object_repr} by {self.actor_name or 'system'}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("History entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("History entries are append-only.")


def serialise_value(value):
    """A JSON-safe, human-readable form of a field value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or None
    if isinstance(value, list | tuple):
        return [serialise_value(item) for item in value]
    return str(value)


def history_record(instance, action: str, changes: dict, *, reason: str = "") -> HistoryEntry:
    """Append one entry for ``instance``; actor and reason default to the current audit context."""
    context = current_audit_context()
    actor = context.actor if getattr(context.actor, "is_authenticated", False) else None
    return HistoryEntry.objects.create(
        content_type=ContentType.objects.get_for_model(instance),
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        action=action,
        actor=actor,
        actor_name=(actor.get_full_name() or actor.email) if actor else "system",
        changes=changes,
        reason=reason or context.reason,
    )
