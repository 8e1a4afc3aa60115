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
# A list's 404 is not about an object: DRF's page-number pagination answers it for a page past the end
# or a page that is not a number.
INVALID_PAGE = OpenApiResponse(ErrorDetailSerializer, description="Invalid page: past the last page, or not a number.")
WRITE_METHODS = {"POST", "PUT", "PATCH"}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ["400"] if self.method in WRITE_METHODS or self._has_filters() else []
        if self.get_auth():
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "DELETE") and "{" in self.path:
            codes.append("409")  # actions on one object: transitions; a DELETE that others' records refuse
        for code in codes:
            responses.setdefault(code, self._get_response_for_code(ERRORS[code], code, direction=direction))
        if self._is_paginated_list():
            responses.setdefault("404", self._get_response_for_code(INVALID_PAGE, "404", direction=direction))
        return responses

    def _get_filter_parameters(self):
        # A filter sent empty (``?side=``, as a browser form sends an unused field) means "no filter":
        # say so, or a client that validates against the schema thinks it is an error.
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            if parameter.get("in") == "query":
                parameter["allowEmptyValue"] = True
        return parameters

    def _is_paginated_list(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None

    def _has_filters(self) -> bool:
        view = self.view
        filtered = getattr(view, "filterset_class", None) is not None or bool(getattr(view, "filterset_fields", None))
        paginated = self._get_paginator() is not None  # page_size is validated: 400 "page_size"
        return self.method == "GET" and self._is_list_view() and (filtered or paginated)
