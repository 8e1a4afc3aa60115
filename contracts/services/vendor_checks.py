"""What a sponsor should know about a vendor before inviting it or awarding it a contract.

Two facts, read for many vendors at once in two queries (``vendor_checks``):
- the sponsor's own qualification of the vendor (``sponsors.VendorQualification``: private to the
  sponsor — these texts go to the sponsor's people only, never into a vendor's notice);
- the vendor's expired certificates.

The same texts serve the invite warnings, the picker's preview, the award gate and its confirmation
page, so a sponsor reads one wording everywhere. Messages are asserted by tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from contracts.services._common import CERTIFICATE_EXPIRED
from sponsors.choices import QUALIFIED_STATUSES, QualificationStatus
from sponsors.models import VendorQualification
from vendors.models import Certification, Vendor

# A qualification note is quoted in a warning only when it is short; a long one is on the record's page.
NOTE_QUOTED_MAX = 200

# What the sponsor's record says, after "<vendor> is …" / "<vendor>: …".
STATUS_PHRASES = {
    None: "not qualified by your company (no qualification record)",
    QualificationStatus.NOT_QUALIFIED: "not qualified by your company",
    QualificationStatus.IN_QUALIFICATION: "still in qualification with your company",
    QualificationStatus.APPROVED: "approved by your company",
    QualificationStatus.CONDITIONALLY_APPROVED: "conditionally approved by your company",
    QualificationStatus.DISQUALIFIED: "disqualified by your company",
}

QUALIFICATION_WARNING = "{vendor}: {phrase}."
CONDITION_WARNING = "{vendor} is only conditionally approved by your company: the award stands on its conditions."
NOTE_SUFFIX = " Note: {note}"


@dataclass
class VendorCheck:
    """One vendor as its sponsor sees it: the qualification record (or none) and expired certificates."""

    vendor: Vendor
    qualification: VendorQualification | None = None
    expired: list[Certification] = field(default_factory=list)

    @property
    def status(self) -> str | None:
        return self.qualification.status if self.qualification else None

    @property
    def status_label(self) -> str:
        return QualificationStatus(self.status).label if self.status else "No qualification record"

    @property
    def phrase(self) -> str:
        return STATUS_PHRASES[self.status]

    @property
    def qualified(self) -> bool:
        """Approved or conditionally approved: invited without a warning, awarded without an override."""
        return self.status in QUALIFIED_STATUSES

    @property
    def conditional(self) -> bool:
        return self.status == QualificationStatus.CONDITIONALLY_APPROVED

    @property
    def note(self) -> str:
        """The qualification's note when short enough to quote, else ""."""
        notes = (self.qualification.notes if self.qualification else "").strip()
        return notes if notes and len(notes) <= NOTE_QUOTED_MAX else ""

    def _with_note(self, text: str) -> str:
        return text + (NOTE_SUFFIX.format(note=self.note) if self.note else "")

    def qualification_warning(self) -> str | None:
        """Why to think twice about this vendor's qualification (None when it is approved)."""
        if self.qualified:
            return None
        return self._with_note(QUALIFICATION_WARNING.format(vendor=self.vendor.name, phrase=self.phrase))

    def condition_warning(self) -> str | None:
        """For an award: a conditional approval passes, but its condition is said (with the note if short)."""
        if not self.conditional:
            return None
        return self._with_note(CONDITION_WARNING.format(vendor=self.vendor.name))

    def certificate_warnings(self) -> list[str]:
        return [
            CERTIFICATE_EXPIRED.format(vendor=self.vendor.name, certificate=c.get_type_display(), date=c.expires_on)
            for c in self.expired
        ]

    def invite_warnings(self) -> list[str]:
        warning = self.qualification_warning()
        return [*([warning] if warning else []), *self.certificate_warnings()]

    @property
    def warnings(self) -> list[str]:
        """For templates: what the picker's preview lists under the vendor."""
        return self.invite_warnings()


def vendor_checks(sponsor_id: int, vendors: Iterable[Vendor]) -> dict[int, VendorCheck]:
    """vendor id → its check for this sponsor, in two queries whatever the number of vendors."""
    checks = {vendor.pk: VendorCheck(vendor=vendor) for vendor in vendors}
    if not checks:
        return checks
    for qualification in VendorQualification.objects.filter(sponsor_id=sponsor_id, vendor_id__in=checks):
        checks[qualification.vendor_id].qualification = qualification
    expired = Certification.objects.filter(vendor_id__in=checks, expires_on__lt=timezone.localdate())
    for certificate in expired.order_by("expires_on", "pk"):
        checks[certificate.vendor_id].expired.append(certificate)
    return checks


def vendor_check(sponsor_id: int, vendor: Vendor) -> VendorCheck:
    return vendor_checks(sponsor_id, [vendor])[vendor.pk]
