"""Alerts raised by the background checks (SPEC §4).

An alert is a *condition* that holds for one subject (a milestone, a contract, a programme, a certificate,
a qualification) as one organisation sees it. The checks raise it once — a partial unique constraint on
``(kind, key)`` among open alerts makes a second run, or a second worker, insert nothing — and resolve it
when the condition clears. If the condition comes back later, a new alert is raised: the history of an
alert is its own row.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from cro_cmo.models import BaseModel, VisibleQuerySet


class AlertKind(models.TextChoices):
    MILESTONE_DUE_SOON = "milestone_due_soon", "Milestone due soon"
    MILESTONE_OVERDUE = "milestone_overdue", "Milestone overdue"
    BUDGET_WARNING = "budget_warning", "Budget warning"
    BUDGET_EXCEEDED = "budget_exceeded", "Budget exceeded"
    BURN_AHEAD_OF_SCHEDULE = "burn_ahead_of_schedule", "Burn ahead of schedule"
    PROGRAM_OVER_BUDGET = "program_over_budget", "Programme over its budget cap"
    CONTRACT_ENDING = "contract_ending", "Contract ending with open milestones"
    CERTIFICATE_EXPIRING = "certificate_expiring", "Certificate expiring"
    CERTIFICATE_EXPIRED = "certificate_expired", "Certificate expired"
    REQUALIFICATION_DUE = "requalification_due", "Requalification audit due"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class Audience(models.TextChoices):
    """Which side's people an alert is for. Each side gets its own row, so each acknowledges its own."""

    SPONSOR = "sponsor", "Sponsor"
    VENDOR = "vendor", "Vendor"


# The kinds a vendor's people can receive (the others are the sponsor's own business: budgets, caps, audits),
# so a vendor's filters offer only these.
VENDOR_KINDS = (
    AlertKind.MILESTONE_DUE_SOON, AlertKind.MILESTONE_OVERDUE, AlertKind.CERTIFICATE_EXPIRING,
    AlertKind.CERTIFICATE_EXPIRED,
)  # fmt: skip

# Severity in the order people should read alerts (critical first); used to sort lists and dashboards.
SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


class AlertQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        """A sponsor's people see their sponsor's alerts; a vendor's people the alerts addressed to the vendor."""
        if user.sponsor_id is not None:
            return self.filter(audience=Audience.SPONSOR, sponsor_id=user.sponsor_id)
        if user.vendor_id is not None:
            return self.filter(audience=Audience.VENDOR, vendor_id=user.vendor_id)
        return self.none()

    def open(self):
        return self.filter(resolved_at__isnull=True)

    def severity_first(self):
        """Open before resolved, critical before warning before info, newest first."""
        rank = models.Case(
            *(models.When(severity=severity, then=models.Value(rank)) for severity, rank in SEVERITY_RANK.items()),
            output_field=models.IntegerField(),
        )
        return self.order_by(models.F("resolved_at").desc(nulls_first=True), rank, "-raised_at", "-id")


class Alert(BaseModel):
    """One condition found by a check, for one audience (a sponsor or a vendor).

    ``key`` names the subject and the audience (``milestone:12:s3``, ``certification:7:v``); together
    with ``kind`` it is unique among open alerts. The subject columns (contract, milestone, programme,
    certificate, qualification) are what the alert is about, for filters and links; ``vendor`` is the
    vendor concerned (and, with audience ``vendor``, the one told).
    """

    kind = models.CharField(max_length=32, choices=AlertKind.choices)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    audience = models.CharField(max_length=16, choices=Audience.choices)
    key = models.CharField(max_length=100, editable=False)
    title = models.CharField(max_length=300)
    sponsor = models.ForeignKey(
        "sponsors.Sponsor", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    vendor = models.ForeignKey("vendors.Vendor", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    contract = models.ForeignKey(
        "contracts.Contract", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    milestone = models.ForeignKey(
        "contracts.Milestone", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    program = models.ForeignKey(
        "sponsors.Program", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    certification = models.ForeignKey(
        "vendors.Certification", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    qualification = models.ForeignKey(
        "sponsors.VendorQualification", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    raised_at = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledge_comment = models.TextField(blank=True, max_length=2000)

    objects = AlertQuerySet.as_manager()
    detail_url_name = "alert-detail"

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            # Idempotence: a check inserts with ON CONFLICT DO NOTHING against this index, so two runs
            # (or two workers at once) raise each open condition once.
            models.UniqueConstraint(
                fields=["kind", "key"], condition=Q(resolved_at__isnull=True), name="alert_open_once_per_key"
            ),
            models.CheckConstraint(
                condition=Q(audience="vendor", vendor__isnull=False) | Q(audience="sponsor", sponsor__isnull=False),
                name="alert_audience_has_organisation",
            ),
        ]
        indexes = [
            models.Index(fields=["sponsor", "resolved_at"], name="alert_sponsor_open_idx"),
            models.Index(fields=["vendor", "resolved_at"], name="alert_vendor_open_idx"),
            models.Index(fields=["kind"], condition=Q(resolved_at__isnull=True), name="alert_open_kind_idx"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def subject_url(self) -> str:
        """Where the alert's subject lives in the browser (the page a person acts on)."""
        if self.milestone_id:
            return _reverse("milestone-detail", self.milestone_id)
        if self.contract_id:
            return _reverse("contract-detail", self.contract_id)
        if self.program_id:
            return _reverse("program-detail", self.program_id)
        if self.qualification_id:
            return _reverse("qualification-detail", self.qualification_id)
        if self.certification_id and self.audience == Audience.VENDOR:
            return _reverse("certification-detail", self.certification_id)
        if self.vendor_id:  # a sponsor's copy of a certificate alert: the vendor's profile shows it
            from django.urls import reverse

            return reverse("vendor-detail", kwargs={"slug": self.vendor.slug})
        return ""


def _reverse(name: str, pk: int) -> str:
    from django.urls import reverse

    return reverse(name, kwargs={"pk": pk})
