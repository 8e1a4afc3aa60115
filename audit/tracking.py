"""``HistoryMixin``: a model that inherits it has every save, transition and delete recorded.

The mixin snapshots field values when a row is loaded; the post-save recorder diffs against
that snapshot. A change of the ``state`` field is recorded as a transition.
"""

from django.db import models

from audit.models import serialise_value


class HistoryMixin(models.Model):
    history_exclude: tuple[str, ...] = ("created", "updated", "search_vector")

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._history_snapshot = instance.history_values()
        return instance

    def history_values(self) -> dict:
        """Current values of the tracked, loaded fields (deferred fields are left out, not fetched)."""
        loaded = self.__dict__
        return {
            field.name: serialise_value(loaded[field.attname])
            for field in self._meta.concrete_fields
            if field.name not in self.history_exclude and field.attname in loaded
        }

    def history_entries(self):
        from audit.models import HistoryEntry

        return HistoryEntry.objects.for_object(self).select_related("actor")
