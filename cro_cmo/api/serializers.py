from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from rest_framework import serializers

from cro_cmo.api.exceptions import django_errors_as_drf
from cro_cmo.services import object_save


def _skip_blank(validator):
    def validate(value):
        if value not in ("", None):
            validator(value)

    return validate


class ValidatedModelSerializer(serializers.ModelSerializer):
    """Validates through the model's ``full_clean()`` (fields, ``clean()``, database constraints),
    which DRF does not do, and saves through ``object_save`` so history records the actor.

    Owner fields (the vendor or sponsor) come from the view's ``owner_fields`` context, never the body.
    """

    save_service = staticmethod(object_save)

    def build_standard_field(self, field_name, model_field):
        """Like Django, skip a field's validators on an allowed blank value.

        DRF runs model validators on "" where Django's ``full_clean`` does not, so a blank optional
        currency read from the API could not be written back (PUT of the object's own representation
        answered 400).
        """
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        if field_kwargs.get("allow_blank") and field_kwargs.get("validators"):
            field_kwargs["validators"] = [_skip_blank(v) for v in field_kwargs["validators"]]
        return field_class, field_kwargs

    def _m2m_names(self):
        return {f.name for f in self.Meta.model._meta.many_to_many}

    def to_internal_value(self, data):
        # JSON has types; DRF would turn {"name": 0.6} into "0.6" and {"founded_year": "1990"} into 1990.
        # The schema says string / integer / boolean, so a value of another JSON type is a field error.
        if isinstance(data, dict) and not hasattr(data, "getlist"):  # JSON, not a form's QueryDict
            errors = {}
            for name, field in self.fields.items():
                value = data.get(name)
                if field.read_only or value is None or name not in data:
                    continue
                expected = _json_type(field)
                if expected is not None and not _is_json_type(value, expected):
                    errors[name] = [f"Must be a {expected}."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        plain = {k: v for k, v in attrs.items() if k not in self._m2m_names()}
        if self.instance is None:
            instance = self.Meta.model(**plain, **self.context.get("owner_fields", {}))
        else:
            instance = self.instance
            for name, value in plain.items():
                setattr(instance, name, value)
        try:
            instance.full_clean()
        except DjangoValidationError as exc:
            if self.instance is not None:
                self.instance.refresh_from_db()
            raise django_errors_as_drf(exc) from None
        self._validated_instance = instance
        return attrs

    def _save(self, validated_data):
        m2m = {k: v for k, v in validated_data.items() if k in self._m2m_names()}
        return self.save_service(actor=self.context["request"].user, instance=self._validated_instance, m2m=m2m)

    def create(self, validated_data):
        return self._save(validated_data)

    def update(self, instance, validated_data):
        return self._save(validated_data)


class ProtectedFileField(serializers.FileField):
    """Uploads like a ``FileField``; reads as the URL of the view that serves the file after checking
    who may read it (``<model>-<field>``, e.g. ``certification-document``), never the storage path
    under MEDIA_URL, which is not served at all."""

    def to_representation(self, value):
        if not value:
            return None
        url = reverse(f"{value.instance._meta.model_name}-{self.source}", kwargs={"pk": value.instance.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


def _json_type(field) -> str | None:
    if isinstance(field, serializers.BooleanField):
        return "boolean"
    if isinstance(field, serializers.IntegerField):
        return "whole number"
    if isinstance(field, serializers.CharField):  # also slug, e-mail, URL; choices are checked by choice
        return "string"
    return None


def _is_json_type(value, expected: str) -> bool:
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "whole number":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)
