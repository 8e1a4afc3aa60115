"""Sponsors (pharma, biotech and medtech companies) and their drug/device programmes."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django_countries.fields import CountryField

from audit.tracking import HistoryMixin
from cro_cmo.models import BaseModel, VisibleQuerySet
from cro_cmo.money import currency_field, money_field
from sponsors.choices import QUALIFIED_STATUSES, Phase, QualificationStatus, RiskRating, SponsorType
from vendors.models import validate_pdf


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
    # Thresholds and lead times of the background checks (SPEC §4), editable by the sponsor's admins.
    overdue_escalation_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Escalate an overdue milestone to critical after this many days (1–365).",
    )
    budget_warning_percent = models.PositiveSmallIntegerField(
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text="Warn when a contract has invoiced this share of its budget (1–99 %).",
    )
    burn_ahead_points = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Warn when budget burn runs ahead of time elapsed by more than this many points (1–100).",
    )
    contract_ending_days = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Warn about contracts ending within this many days with milestones still open (1–365).",
    )
    certificate_expiring_days = models.PositiveSmallIntegerField(
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Warn about certificates of vendors you have active contracts with expiring within this many days.",
    )
    requalification_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(0), MaxValueValidator(365)],
        help_text="Warn this many days before a qualification audit falls due (0 = on the day).",
    )
    rfp_reminder_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="Remind invited vendors that have not answered this many days before an RFP closes (1–30).",
    )

    objects = SponsorQuerySet.as_manager()
    detail_url_name = "sponsor-detail"

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


class OwnedBySponsorQuerySet(VisibleQuerySet):
    """Records private to one sponsor: its people read them, its members and admins change them."""

    def visible_to(self, user, action):
        if user.sponsor_id is None:
            return self.none()
        return self.filter(sponsor_id=user.sponsor_id)


NOTES_MAX = 5_000
QUALIFICATION_REASON_REQUIRED = "Say why you change this qualification: the reason is kept in its history."


class VendorQualification(HistoryMixin, BaseModel):
    """A sponsor's *private* record of a vendor: how far it is qualified, its CDA, MSA and audits.

    Optionally scoped to some of the vendor's sites and service categories (empty: the whole vendor).
    Vendors never see it — not the record, its history nor its documents: it belongs to the sponsor
    alone (``history_owners`` leaves the vendor out). Changes go through
    ``sponsors.services.qualification_save``, which wants a reason for each.
    """

    sponsor = models.ForeignKey(Sponsor, on_delete=models.CASCADE, related_name="qualifications")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="sponsor_qualifications")
    sites = models.ManyToManyField(
        "vendors.Site", blank=True, related_name="+", help_text="Leave empty when it covers every site."
    )
    categories = models.ManyToManyField(
        "vendors.ServiceCategory", blank=True, related_name="+", verbose_name="service categories",
        help_text="Leave empty when it covers every service.",
    )  # fmt: skip
    status = models.CharField(
        max_length=24, choices=QualificationStatus.choices, default=QualificationStatus.NOT_QUALIFIED
    )
    cda_signed_on = models.DateField("CDA signed on", null=True, blank=True)
    msa_reference = models.CharField("MSA reference", max_length=100, blank=True)
    last_audit_on = models.DateField("last audit", null=True, blank=True)
    next_audit_due = models.DateField(null=True, blank=True)
    risk = models.CharField("risk rating", max_length=8, choices=RiskRating.choices, blank=True)
    notes = models.TextField(blank=True, max_length=NOTES_MAX, validators=[MaxLengthValidator(NOTES_MAX)])

    objects = OwnedBySponsorQuerySet.as_manager()
    detail_url_name = "qualification-detail"

    class Meta:
        ordering = ["vendor__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["sponsor", "vendor"],
                name="qualification_unique_per_sponsor_vendor",
                violation_error_message="Your company already has a qualification record for this vendor: edit that one.",
            ),
            models.CheckConstraint(
                condition=Q(next_audit_due__isnull=True) | Q(last_audit_on__isnull=True)
                | Q(next_audit_due__gt=F("last_audit_on")),
                name="qualification_next_audit_after_last",
                violation_error_message="The next audit must be due after the last audit.",
            ),
        ]  # fmt: skip

    def __str__(self):
        vendor = self.vendor.name if self.vendor_id else "?"
        return f"Qualification of {vendor}"

    def clean(self):
        if self.next_audit_due and self.last_audit_on and self.next_audit_due <= self.last_audit_on:
            raise ValidationError({"next_audit_due": "The next audit must be due after the last audit."})

    def clean_m2m(self, m2m: dict) -> None:
        """The sites must be the qualified vendor's own (also on a partial update that sends none)."""
        sites = m2m.get("sites")
        if sites is None:
            return
        foreign = [site for site in sites if site.vendor_id != self.vendor_id]
        if foreign:
            raise ValidationError({"sites": "Choose sites of the qualified vendor only."})

    def history_owners(self) -> dict[str, set[int]]:
        # The sponsor's record alone: the vendor foreign key does not make the vendor an owner.
        return {"sponsor": {self.sponsor_id}}

    @property
    def audit_overdue(self) -> bool:
        return self.next_audit_due is not None and self.next_audit_due < timezone.localdate()

    @property
    def is_qualified(self) -> bool:
        return self.status in QUALIFIED_STATUSES


DOCUMENT_MAX_BYTES = 10 * 1024 * 1024


def qualification_document_upload_to(instance, filename):
    return f"qualifications/{instance.qualification.sponsor_id}/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class QualificationDocumentQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        if user.sponsor_id is None:
            return self.none()
        return self.filter(qualification__sponsor_id=user.sponsor_id)


class QualificationDocument(BaseModel):
    """An audit report (PDF) attached to a qualification; served only through an access-checked download."""

    qualification = models.ForeignKey(VendorQualification, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200)
    file = models.FileField(
        upload_to=qualification_document_upload_to,
        max_length=255,
        validators=[FileExtensionValidator(["pdf"]), validate_pdf],  # vendors' check, active content included
        help_text="A PDF of at most 10 MB, without active content.",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = QualificationDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return self.title


class Shortlist(BaseModel):
    """A sponsor's named list of vendors it is considering (for an RFP, a program…). Sponsor-only."""

    sponsor = models.ForeignKey(Sponsor, on_delete=models.CASCADE, related_name="shortlists")
    name = models.CharField(max_length=200)
    notes = models.TextField(blank=True, max_length=2_000, validators=[MaxLengthValidator(2_000)])
    vendors = models.ManyToManyField("vendors.Vendor", through="ShortlistEntry", blank=True, related_name="+")

    objects = OwnedBySponsorQuerySet.as_manager()
    detail_url_name = "shortlist-detail"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["sponsor", "name"],
                name="shortlist_name_unique_per_sponsor",
                violation_error_message="Your company already has a shortlist with this name.",
            ),
        ]

    def __str__(self):
        return self.name


class ShortlistEntry(models.Model):
    """One vendor on a shortlist: who added it and when."""

    shortlist = models.ForeignKey(Shortlist, on_delete=models.CASCADE, related_name="entries")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")  # fmt: skip
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["vendor__name"]
        verbose_name_plural = "shortlist entries"
        constraints = [
            models.UniqueConstraint(fields=["shortlist", "vendor"], name="shortlist_vendor_once",
                                    violation_error_message="This vendor is already on the shortlist."),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.vendor} on {self.shortlist}"
