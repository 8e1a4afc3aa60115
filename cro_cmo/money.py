"""Money is a Decimal amount with an ISO 4217 currency code; never a float."""

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

CURRENCY_CODES = [
    "USD", "EUR", "GBP", "CHF", "JPY", "CNY", "INR", "CAD", "AUD", "SEK", "DKK", "NOK",
    "PLN", "CZK", "HUF", "SGD", "KRW", "BRL", "MXN", "ILS", "ZAR", "NZD", "HKD", "TWD",
]  # fmt: skip
CURRENCY_CHOICES = [(code, code) for code in CURRENCY_CODES]
currency_validator = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 currency code, e.g. EUR.")


def money_field(verbose_name=None, **kwargs) -> models.DecimalField:
    """An amount: 16 digits, 2 decimals, never negative unless the caller says otherwise."""
    kwargs.setdefault("max_digits", 16)
    kwargs.setdefault("decimal_places", 2)
    kwargs.setdefault("validators", [MinValueValidator(Decimal("0"))])
    return models.DecimalField(verbose_name, **kwargs)


def currency_field(**kwargs) -> models.CharField:
    kwargs.setdefault("max_length", 3)
    kwargs.setdefault("choices", CURRENCY_CHOICES)
    kwargs.setdefault("validators", [currency_validator])
    return models.CharField(**kwargs)
