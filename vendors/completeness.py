"""How complete a vendor's profile is: what sponsors can judge it by, and what is missing.

Three things decide whether a sponsor can take a profile seriously: its offerings say what they cost
(an indicative price), it names the sites where the work is done, and its certificates come with the
document. ``profile_completeness`` counts them from lists the caller already holds (the profile page's,
no query); ``vendor_completeness`` reads them in three queries whatever the size of the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse

from vendors.models import Certification, ServiceOffering, Site, Vendor


@dataclass(frozen=True)
class Missing:
    """One thing to add, with the page where it is added."""

    text: str
    url: str
    action: str


@dataclass
class Completeness:
    offerings: int
    priced: int
    sites: int
    certificates: int
    documented: int
    missing: list[Missing] = field(default_factory=list)

    @property
    def checks(self) -> tuple[int, int]:
        """(done, total): one point per active offering priced, per certificate with its document, and one
        for having any offering and any site at all."""
        done = self.priced + self.documented + (self.offerings > 0) + (self.sites > 0)
        return done, self.offerings + self.certificates + 2

    @property
    def percent(self) -> int:
        done, total = self.checks
        return (200 * done + total) // (2 * total)  # rounded half up

    @property
    def is_complete(self) -> bool:
        return not self.missing

    @property
    def summary(self) -> str:
        """E.g. "4 of 6 offerings priced; 2 sites; 3 of 4 certificates with a document"."""
        return "; ".join(
            [
                f"{self.priced} of {self.offerings} offering{'s' if self.offerings != 1 else ''} priced",
                f"{self.sites} site{'s' if self.sites != 1 else ''}",
                f"{self.documented} of {self.certificates} certificate{'s' if self.certificates != 1 else ''} "
                "with a document",
            ]
        )


def profile_completeness(*, offerings, sites, certifications) -> Completeness:
    """Completeness from loaded rows (inactive offerings, hidden from the directory, do not count)."""
    active = [o for o in offerings if o.is_active]
    unpriced = [o for o in active if o.price_min is None and o.price_max is None]
    undocumented = [c for c in certifications if not c.document]
    missing = []
    if not active:
        missing.append(
            Missing("No active offering: sponsors search by service.", reverse("offering-add"), "Add an offering")
        )
    for offering in unpriced:
        missing.append(
            Missing(
                f"{offering.category.name}: no indicative price.",
                reverse("offering-edit", args=[offering.pk]),
                f"Add a price to {offering.category.name}",
            )
        )
    if not sites:
        missing.append(
            Missing("No site: sponsors filter by where the work is done.", reverse("site-add"), "Add a site")
        )
    for certification in undocumented:
        label = f"{certification.get_type_display()} ({certification.get_authority_display()})"
        missing.append(
            Missing(
                f"{label}: no certificate document.",
                reverse("certification-edit", args=[certification.pk]),
                f"Upload the PDF of {label}",
            )
        )
    return Completeness(
        offerings=len(active),
        priced=len(active) - len(unpriced),
        sites=len(sites),
        certificates=len(certifications),
        documented=len(certifications) - len(undocumented),
        missing=missing,
    )


def vendor_completeness(*, vendor: Vendor) -> Completeness:
    """The vendor's completeness in three queries (offerings with their category, sites, certificates)."""
    offerings = list(
        ServiceOffering.objects.filter(vendor=vendor, is_active=True)
        .select_related("category")
        .only("pk", "is_active", "price_min", "price_max", "category__name", "category__position")
        .order_by("category__position")
    )
    sites = list(Site.objects.filter(vendor=vendor).only("pk"))
    certifications = list(
        Certification.objects.filter(vendor=vendor).only("pk", "type", "authority", "document").order_by("type")
    )
    return profile_completeness(offerings=offerings, sites=sites, certifications=certifications)
