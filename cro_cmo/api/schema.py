"""Names for shared enums in the OpenAPI schema (one ``CountryEnum`` instead of one per field)."""

from django_countries import countries

COUNTRY_CHOICES = [(code, name) for code, name in countries]
