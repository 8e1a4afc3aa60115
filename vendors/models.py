"""The vendor directory: CROs, CMOs and CDMOs, their sites, service offerings and certificates."""

import uuid
from datetime import date, timedelta

from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField

from audit.tracking import HistoryMixin
from cro_cmo.models import BaseModel, VisibleQuerySet
from cro_cmo.money import currency_field, money_field
from vendors.choices import Authority, CertificateStatus, CertificationType, HeadcountBand, Side, VendorKind

EXPIRING_WITHIN_DAYS = 90
AUTHORITY_SHORT = {"fda": "FDA", "ema": "EMA", "mhra": "MHRA", "pmda": "PMDA", "health-canada": "HC", "tga": "TGA",
                   "swissmedic": "Swissmedic", "nmpa": "NMPA", "cdsco": "CDSCO", "national": "EU"}  # fmt: skip
CERTIFICATE_MAX_BYTES = 10 * 1024 * 1024
# Free text is capped (max_length for forms and the API, a validator so that full_clean() — and so the
# catalogue import — enforces it too; Django does not enforce max_length on a TextField by itself):
# unbounded text made PostgreSQL's search vector overflow ("string is too long for tsvector").


class VendorQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        # Everyone signed in reads the directory; a vendor's own admins and members edit its profile.
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
    description = models.TextField(blank=True, max_length=10_000, validators=[MaxLengthValidator(10_000)])
    website = models.URLField(blank=True)
    founded_year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1800), MaxValueValidator(2100)]
    )
    headcount_band = models.CharField(max_length=16, choices=HeadcountBand.choices, blank=True)
    verified_at = models.DateTimeField(
        null=True, blank=True, help_text="Set by platform staff after checking the vendor."
    )
    # Denormalised search text kept by vendors.services.vendor_search_refresh: category and capability
    # names (weight B) and offering/site descriptions (weight C). The SQLite fallback searches them;
    # PostgreSQL builds the weighted, GIN-indexed search_vector from name (A), tags (B) and text (C).
    search_tags = models.TextField(blank=True, editable=False)
    search_text = models.TextField(blank=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)

    objects = VendorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(founded_year__isnull=True) | Q(founded_year__range=(1800, 2100)),
                name="vendor_founded_year_plausible",
                violation_error_message="Founded year must lie between 1800 and 2100.",
            ),
        ]
        indexes = [models.Index(fields=["hq_country"], name="vendor_country_idx")]

    history_exclude = ("created", "updated", "search_tags", "search_text", "search_vector")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("vendor-detail", kwargs={"slug": self.slug})

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def sides(self) -> set[str]:
        return {Side.CRO, Side.CMO} if self.kind == VendorKind.CDMO else {self.kind}


class ReferenceQuerySet(VisibleQuerySet):
    """Reference data: everyone signed in reads it; only platform staff change it (in the admin)."""

    def visible_to(self, user, action):
        return self if action == "view" else self.none()


class ServiceCategory(models.Model):
    """One of the eight fixed service categories (created by a data migration, stable ``code``)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    side = models.CharField(max_length=8, choices=Side.choices)
    description = models.TextField(blank=True, max_length=2_000, validators=[MaxLengthValidator(2_000)])
    position = models.PositiveSmallIntegerField(default=0)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["position"]
        verbose_name_plural = "service categories"

    def __str__(self):
        return self.name


class Capability(models.Model):
    """A controlled-vocabulary tag within a category (Phase III, HPAPI, lyophilisation…); staff extend it."""

    category = models.ForeignKey(ServiceCategory, on_delete=models.PROTECT, related_name="capabilities")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["category__position", "name"]
        verbose_name_plural = "capabilities"
        constraints = [
            models.UniqueConstraint(
                fields=["category", "name"],
                name="capability_name_unique_in_category",
                violation_error_message="This category already has a capability with this name.",
            )
        ]

    def __str__(self):
        return self.name


class OwnedByVendorQuerySet(VisibleQuerySet):
    """Directory records: everyone reads them; the owning vendor's admins and members change them."""

    def visible_to(self, user, action):
        if action == "view":
            return self
        if user.vendor_id is None:
            return self.none()
        return self.filter(vendor_id=user.vendor_id)


class OfferingQuerySet(OwnedByVendorQuerySet):
    """Active offerings are in the directory for everyone; an inactive one only for its vendor's people.

    The one rule for the profile page, the offering pages and ``/api/v1/offerings/`` (platform
    staff see everything through ``for_user``).
    """

    def visible_to(self, user, action):
        if action != "view":
            return super().visible_to(user, action)
        if user.vendor_id is None:
            return self.filter(is_active=True)
        return self.filter(Q(is_active=True) | Q(vendor_id=user.vendor_id))


class Site(HistoryMixin, BaseModel):
    """A place where a vendor works: a plant, a lab, a clinical operations office."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    country = CountryField()
    activities = models.TextField(
        "what is made or done there", blank=True, max_length=5_000, validators=[MaxLengthValidator(5_000)]
    )

    objects = OwnedByVendorQuerySet.as_manager()
    detail_url_name = "site-detail"

    class Meta:
        ordering = ["vendor", "country", "city"]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "name"],
                name="site_name_unique_per_vendor",
                violation_error_message="This vendor already has a site with this name.",
            )
        ]
        # The directory's "where the work is done" filters: vendors with a site in these countries.
        indexes = [models.Index(fields=["country", "vendor"], name="site_country_vendor_idx")]

    def __str__(self):
        return f"{self.name} ({self.city}, {self.country.code})"


class ServiceOffering(HistoryMixin, BaseModel):
    """What a vendor offers in one category: capabilities, lead time, indicative price, delivering sites."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="offerings")
    category = models.ForeignKey(ServiceCategory, on_delete=models.PROTECT, related_name="offerings")
    capabilities = models.ManyToManyField(Capability, blank=True, related_name="offerings")
    description = models.TextField(blank=True, max_length=5_000, validators=[MaxLengthValidator(5_000)])
    lead_time_weeks = models.PositiveSmallIntegerField(
        "typical lead time (weeks)", null=True, blank=True, validators=[MaxValueValidator(520)]
    )
    price_min = money_field("indicative price from", null=True, blank=True)
    price_max = money_field("indicative price to", null=True, blank=True)
    currency = currency_field(blank=True)
    sites = models.ManyToManyField(Site, blank=True, related_name="offerings", help_text="Sites that deliver it.")
    is_active = models.BooleanField("active", default=True)

    objects = OfferingQuerySet.as_manager()
    detail_url_name = "offering-detail"

    class Meta:
        ordering = ["vendor", "category__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "category"],
                name="offering_one_per_vendor_and_category",
                violation_error_message="This vendor already has an offering in this category: edit that one.",
            ),
            models.CheckConstraint(
                condition=Q(price_min__isnull=True) | Q(price_max__isnull=True) | Q(price_min__lte=F("price_max")),
                name="offering_price_range_ordered",
                violation_error_message="The price range is reversed: “from” must not exceed “to”.",
            ),
            models.CheckConstraint(
                condition=(Q(price_min__isnull=True) & Q(price_max__isnull=True)) | ~Q(currency=""),
                name="offering_price_has_currency",
                violation_error_message="A price needs a currency.",
            ),
        ]
        indexes = [models.Index(fields=["category", "vendor"], name="offering_category_vendor_idx")]

    def __str__(self):
        return f"{self.vendor} · {self.category}"

    def clean(self):
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            raise ValidationError({"price_max": "The price range is reversed: “from” must not exceed “to”."})
        if (self.price_min is not None or self.price_max is not None) and not self.currency:
            raise ValidationError({"currency": "A price needs a currency."})
        if self.vendor_id and self.category_id and self.category.side not in self.vendor.sides:
            raise ValidationError(
                {
                    "category": f"A {self.vendor.get_kind_display()} cannot offer {self.category} ({self.category.get_side_display()})."
                }
            )

    def clean_m2m(self, m2m: dict) -> None:
        """Capabilities must belong to the offering's category; sites to the offering's vendor.

        A relation left out of ``m2m`` (a partial update: only a new category) is checked with the
        offering's current values, so a category change cannot keep the old category's capabilities.
        """
        errors = {}
        if self.pk is not None:
            m2m = {"capabilities": self.capabilities.all(), "sites": self.sites.all()} | dict(m2m)
        capabilities = m2m.get("capabilities")
        if capabilities is not None:
            foreign = [c.name for c in capabilities if c.category_id != self.category_id]
            if foreign:
                errors["capabilities"] = f"Not capabilities of {self.category}: {', '.join(foreign)}."
        sites = m2m.get("sites")
        if sites is not None:
            foreign = [s.name for s in sites if s.vendor_id != self.vendor_id]
            if foreign:
                errors["sites"] = f"Not sites of {self.vendor}: {', '.join(foreign)}."
        if errors:
            raise ValidationError(errors)


def validate_pdf(file) -> None:
    """A certificate is a plain PDF of at most 10 MB: checked by size, by its first bytes (not by its
    name alone) and for active content (vendors.documents). The one check for the form and the API:
    both validate through the model."""
    from vendors.documents import PDF_ACTIVE_CONTENT, active_content

    if file.size > CERTIFICATE_MAX_BYTES:
        raise ValidationError(f"The file is {file.size / 1024 / 1024:.1f} MB; certificates may be at most 10 MB.")
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    data = file.read(CERTIFICATE_MAX_BYTES + 1)
    file.seek(position)
    if not data.startswith(b"%PDF-"):
        raise ValidationError("The file is not a PDF. Upload the certificate as a PDF document.")
    found = active_content(data)
    if found:
        raise ValidationError(PDF_ACTIVE_CONTENT.format(found=", ".join(found)))


def certificate_upload_to(instance, filename):
    return f"certificates/{instance.vendor_id}/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class CertificationQuerySet(OwnedByVendorQuerySet):
    def valid_on(self, day: date):
        return self.filter(Q(expires_on__isnull=True) | Q(expires_on__gte=day))


class Certification(HistoryMixin, BaseModel):
    """A GMP/GLP/GCP/ISO certificate or inspection outcome held by a vendor, optionally for one site."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="certifications")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="certifications")
    type = models.CharField(max_length=16, choices=CertificationType.choices)
    authority = models.CharField("issuing authority", max_length=16, choices=Authority.choices)
    number = models.CharField("certificate number", max_length=100, blank=True)
    issued_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    document = models.FileField(
        upload_to=certificate_upload_to, blank=True,
        validators=[FileExtensionValidator(["pdf"]), validate_pdf],
        help_text="The certificate as a PDF, at most 10 MB.",
    )  # fmt: skip

    objects = CertificationQuerySet.as_manager()
    detail_url_name = "certification-detail"

    class Meta:
        ordering = ["vendor", "type", "-expires_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=F("issued_on")),
                name="certification_expires_after_issue",
                violation_error_message="A certificate must expire after it was issued.",
            )
        ]
        indexes = [models.Index(fields=["type", "expires_on"], name="certification_type_expiry_idx")]

    def __str__(self):
        return f"{self.get_type_display()} · {self.vendor}"

    def clean(self):
        if self.expires_on and self.issued_on and self.expires_on <= self.issued_on:
            raise ValidationError({"expires_on": "A certificate must expire after it was issued."})
        if self.site_id and self.vendor_id and self.site.vendor_id != self.vendor_id:
            raise ValidationError({"site": "This site belongs to another vendor."})

    @property
    def authority_short(self) -> str:
        return AUTHORITY_SHORT.get(self.authority, "")

    def status_on(self, day: date) -> str:
        if self.expires_on is None or self.expires_on > day + timedelta(days=EXPIRING_WITHIN_DAYS):
            return CertificateStatus.VALID
        return CertificateStatus.EXPIRED if self.expires_on < day else CertificateStatus.EXPIRING

    @property
    def status(self) -> str:
        return self.status_on(timezone.localdate())


def new_change_token() -> str:
    return uuid.uuid4().hex


class DirectoryChange(models.Model):
    """A row per write to the directory's facet data, inserted in the writing transaction.

    The facet index (``vendors.facet_index``) of each process is tagged with the newest id and the number of
    rows it saw; a search compares the tag with the table's (one query) and rebuilds when it moved. Rows are
    inserted, never updated, so concurrent writers never wait on each other here; the count catches changes
    that commit out of id order; the newest row's random token keeps a rolled-back change from bringing back
    a tag whose index held its data. Old rows are pruned by the writers.
    """

    id = models.BigAutoField(primary_key=True)
    # Random: SQLite reuses the id of a rolled-back insert (its sequence rolls back too); the token does not.
    token = models.CharField(max_length=32, default=new_change_token, editable=False)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"directory change {self.pk}"
