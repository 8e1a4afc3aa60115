"""``HistoryMixin``: a model that inherits it has every save, transition and delete recorded.

The mixin snapshots field values when a row is loaded; the post-save recorder diffs against
that snapshot. A change of the ``state`` field is recorded as a transition.
"""

from django.db import models

from audit.models import serialise_value

# The user's organisation foreign keys; a record owned through one of them is that organisation's.
ORGANISATION_FIELDS = ("sponsor", "vendor")


class HistoryMixin(models.Model):
    history_exclude: tuple[str, ...] = ("created", "updated", "search_vector")

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        instance = super().from_db(db, field_names, values, **kwargs)
        # The values as loaded (a shallow copy: no tracked model has a mutable field value); serialised
        # only when a save asks for the snapshot — a list page loads hundreds of rows and saves none.
        instance.__dict__["_history_loaded"] = instance.__dict__.copy()
        return instance

    @property
    def _history_snapshot(self) -> dict:
        """The tracked values when the row was loaded (or last recorded): what the next save is diffed against."""
        snapshot = self.__dict__.get("_history_snapshot_values")
        if snapshot is None:
            loaded = self.__dict__.get("_history_loaded")
            if loaded is None:
                raise AttributeError("_history_snapshot")  # a new, unsaved instance: nothing to diff against
            snapshot = self.__dict__["_history_snapshot_values"] = self._history_values_of(loaded)
        return snapshot

    @_history_snapshot.setter
    def _history_snapshot(self, values: dict) -> None:
        self.__dict__["_history_snapshot_values"] = values

    def history_values(self) -> dict:
        """Current values of the tracked, loaded fields (deferred fields are left out, not fetched)."""
        return self._history_values_of(self.__dict__)

    def _history_values_of(self, loaded: dict) -> dict:
        return {
            field.name: serialise_value(loaded[field.attname])
            for field in self._meta.concrete_fields
            if field.name not in self.history_exclude and field.attname in loaded
        }

    def history_entries(self):
        from audit.models import HistoryEntry

        return HistoryEntry.objects.for_object(self).select_related("actor")

    def history_owners(self) -> dict[str, set[int]]:
        """The organisations whose record this is: ``{"vendor": {pk}, "sponsor": {pk}}``.

        Read from the model: the object is itself a sponsor or vendor, or it has foreign keys to
        them (a record with both, e.g. a contract, belongs to both sides). Override for anything else.
        """
        from django.contrib.auth import get_user_model

        owners: dict[str, set[int]] = {}
        for name in ORGANISATION_FIELDS:
            org_model = get_user_model()._meta.get_field(name).related_model
            if isinstance(self, org_model):
                owners.setdefault(name, set()).add(self.pk)
                continue
            for field in self._meta.concrete_fields:
                if field.many_to_one and field.related_model is org_model:
                    value = getattr(self, field.attname)
                    if value is not None:
                        owners.setdefault(name, set()).add(value)
        return owners

    def history_visible_to(self, user) -> bool:
        """Who may read this object's audit trail: the one rule for the API and the browser.

        The owning organisation's people (every role: a QA auditor is often a viewer) and platform
        staff (superusers). Not everyone who may *see* the object: a vendor's profile is public in
        the directory, but its history names the vendor's staff and shows old values (prices…).
        """
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        if user.is_superuser:
            return True
        return any(getattr(user, f"{name}_id", None) in ids for name, ids in self.history_owners().items())
