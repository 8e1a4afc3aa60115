"""Sponsors (pharma, biotech and medtech companies) and their drug/device programmes."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField

from audit.tracking import HistoryMixin
from cro_cmo.models import BaseModel, VisibleQuerySet
from cro_cmo.money import currency_field, money_field
from sponsors.choices import Phase, SponsorType


class SponsorQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        # A sponsor is private to its own people; admins alone change its settings.
        if user.sponsor_id is None or (action == "change" and not user.is_org_admin):
            return self.none()
        return self.filter(pk=user.sponsor_id)


class Sponsor(HistoryMixin, BaseModel):
    """A company that outsources development or manufacturing: the buyer side."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    type = models.CharField(max_length=16, choices=SponsorType.choices, default=SponsorType.PHARMA)
    country = CountryField()
    default_currency = currency_field(default="EUR")
    due_soon_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="Warn about milestones due within this many days (1–90).",
    )

    objects = SponsorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ProgramQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        if user.sponsor_id is None:
            return self.none()
        return self.filter(sponsor_id=user.sponsor_id)


class Program(HistoryMixin, BaseModel):
    """A sponsor's drug or device programme; contracts and RFPs hang off it."""

    sponsor = models.ForeignKey(Sponsor, on_delete=models.CASCADE, related_name="programs")
    code = models.CharField(max_length=32, help_text="The sponsor's own code, e.g. ACM-101.")
    name = models.CharField(max_length=200)
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.PRECLINICAL)
    therapeutic_area = models.CharField(max_length=100, blank=True)
    budget_cap = money_field(null=True, blank=True, help_text="Optional ceiling for all its contracts.")
    budget_currency = currency_field(blank=True)

    objects = ProgramQuerySet.as_manager()
    detail_url_name = "program-detail"

    class Meta:
        ordering = ["sponsor", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["sponsor", "code"],
                name="program_code_unique_per_sponsor",
                violation_error_message="This sponsor already has a programme with this code.",
            ),
            models.CheckConstraint(
                condition=Q(budget_cap__isnull=True) | ~Q(budget_currency=""),
                name="program_budget_cap_has_currency",
                violation_error_message="A budget cap needs a currency.",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean(self):
        if self.budget_cap is not None and not self.budget_currency:
            raise ValidationError({"budget_currency": "A budget cap needs a currency."})
