"""The base of every FilterSet (browser lists and API lists share them)."""

from datetime import UTC, timedelta

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField, ModelMultipleChoiceField
from django_filters.rest_framework import DjangoFilterBackend

# Real UTC offsets run from -12:00 to +14:00. Python accepts up to ±23:59 but PostgreSQL refuses anything
# beyond ±15:59 with a DataError (a 500), so an impossible offset is an invalid date/time here.
MAX_UTC_OFFSET = timedelta(hours=14)


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time with a real offset, returned in UTC.

    Converting here means the database only ever sees UTC, and a value that cannot be expressed in UTC
    (``0001-01-01T00:00:00+01:00``) is a field error instead of an ``OverflowError``.
    """

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        offset = value.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class StrictBooleanWidget(forms.NullBooleanSelect):
    """Hands the raw text to the field: NullBooleanSelect turns every unknown word into "no filter"."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (also ``1``/``0``, any case); blank means "no filter"; anything else is an error.

    ``?valid=null`` or ``?is_active=maybe`` used to be ignored silently, returning every row: a typo in an
    integration then looked like an answer.
    """

    widget = StrictBooleanWidget
    default_error_messages = {"invalid": "Enter true or false."}
    WORDS = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self.WORDS[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value):
        pass


BIGINT_MAX = 2**63 - 1


class BoundedModelMultipleChoiceField(ModelMultipleChoiceField):
    """Ids by primary key, refused before the query when no 64-bit column can hold them.

    SQLite raises OverflowError (a 500, and a broken transaction) when a bound integer passes 2**63.
    """

    def _check_values(self, value):
        if self.to_field_name is None:
            for pk in value:
                text = str(pk).strip()
                if text.lstrip("-").isascii() and text.lstrip("-").isdigit() and abs(int(text[:25])) > BIGINT_MAX:
                    raise forms.ValidationError(
                        self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": text[:25]}
                    )
        return super()._check_values(value)


class StrictFilterSet(django_filters.FilterSet):
    """Every boolean filter, declared or generated from ``filterset_fields``, refuses words it does not know;
    every filter by id refuses ids beyond 64 bits."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():  # a per-instance copy of the declared filters
            # A form field built on the class-level filter (the schema generator builds them) is copied along
            # and cached: drop it, so this instance's changes (field class, visible choices) take effect.
            filter_.__dict__.pop("_field", None)
            if isinstance(filter_, django_filters.BooleanFilter):
                filter_.field_class = StrictBooleanField
                filter_.extra["widget"] = StrictBooleanWidget
            elif type(filter_) is django_filters.ModelMultipleChoiceFilter:
                filter_.field_class = BoundedModelMultipleChoiceField


class FilterBackend(DjangoFilterBackend):
    """DRF's django-filter backend, generating ``filterset_fields`` filtersets on StrictFilterSet."""

    filterset_base = StrictFilterSet


class BaseFilterSet(StrictFilterSet):
    """Every list filters by ``updated_after`` (incremental sync for integrations)."""

    updated_after = UtcIsoDateTimeFilter(
        field_name="updated", lookup_expr="gte", label="Changed at or after (ISO 8601 date-time)"
    )
