"""The vendor directory: CROs, CMOs and CDMOs, their sites, offerings and certificates."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_countries.fields import CountryField

from audit.tracking import HistoryMixin
from cro_cmo.models import BaseModel, VisibleQuerySet
from vendors.choices import HeadcountBand, VendorKind


class VendorQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        # Everyone signed in reads the directory; a vendor's own members edit its profile.
        if action == "view":
            return self
        if user.vendor_id is None:
            return self.none()
        return self.filter(pk=user.vendor_id)


class Vendor(HistoryMixin, BaseModel):
    """A contract research or manufacturing organisation offering services to sponsors."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField(max_length=8, choices=VendorKind.choices)
    hq_country = CountryField("headquarters country")
    description = models.TextField(blank=True)
    website = models.URLField(blank=True)
    founded_year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1800), MaxValueValidator(2100)]
    )
    headcount_band = models.CharField(max_length=16, choices=HeadcountBand.choices, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True, help_text="Set by platform staff.")

    objects = VendorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(founded_year__isnull=True) | models.Q(founded_year__range=(1800, 2100)),
                name="vendor_founded_year_plausible",
                violation_error_message="Founded year must lie between 1800 and 2100.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("vendor-detail", kwargs={"slug": self.slug})

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None
