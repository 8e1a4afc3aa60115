"""OpenAPI extras: shared enum names and the error responses every operation can give.

drf-spectacular documents only success responses; integrators need the errors too (400 field
errors, 401, 403 for a viewer's write, 404 out of reach, 409 illegal transition, 429 throttled).
"""

from django_countries import countries
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

COUNTRY_CHOICES = [(code, name) for code, name in countries]


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in words a person can act on.")


class ValidationErrorSerializer(serializers.Serializer):
    """``{"field": ["message", …], "non_field_errors": [...]}`` — DRF's field-error format."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


ERRORS = {
    "400": OpenApiResponse(ValidationErrorSerializer, description="Invalid input: messages per field."),
    "401": OpenApiResponse(ErrorDetailSerializer, description="Not authenticated."),
    "403": OpenApiResponse(ErrorDetailSerializer, description="Your role may not do this (viewers only read)."),
    "404": OpenApiResponse(ErrorDetailSerializer, description="Does not exist or is outside your organisation."),
    "409": OpenApiResponse(ErrorDetailSerializer, description="Not possible in the object's current state."),
    "429": OpenApiResponse(ErrorDetailSerializer, description="Too many requests or sign-in attempts."),
}
WRITE_METHODS = {"POST", "PUT", "PATCH"}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ["400"] if self.method in WRITE_METHODS or self._has_filters() else []
        if self.get_auth():
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if self.method == "POST" and "{" in self.path:
            codes.append("409")  # actions on one object: transitions
        for code in codes:
            responses.setdefault(code, self._get_response_for_code(ERRORS[code], code, direction=direction))
        return responses

    def _has_filters(self) -> bool:
        return self.method == "GET" and self._is_list_view() and getattr(self.view, "filterset_class", None) is not None
