"""Demo vendors (idempotent: keyed by slug)."""

from vendors.models import Vendor

DEMO_VENDORS = [
    {"slug": "northwind-clinical", "name": "Northwind Clinical", "kind": "cro", "hq_country": "GB", "founded_year": 2004,
     "headcount_band": "1000-4999", "website": "https://northwind.example",
     "description": "Full-service CRO for Phase I–III trials in oncology and CNS, with in-house data management and biostatistics."},
    {"slug": "helix-manufacturing", "name": "Helix Manufacturing", "kind": "cmo", "hq_country": "DE", "founded_year": 1987,
     "headcount_band": "250-999", "website": "https://helix.example",
     "description": "GMP manufacturing of oral solid doses and sterile injectables, including aseptic fill-finish and lyophilisation."},
    {"slug": "orbital-cdmo", "name": "Orbital CDMO", "kind": "cdmo", "hq_country": "IE", "founded_year": 2011,
     "headcount_band": "250-999", "website": "https://orbital.example",
     "description": "Integrated CDMO: small-molecule and HPAPI development, scale-up and commercial supply, with QC release testing."},
]  # fmt: skip


def seed() -> dict[str, Vendor]:
    vendors = {}
    for data in DEMO_VENDORS:
        vendor, _ = Vendor.objects.update_or_create(slug=data["slug"], defaults=data)
        vendors[vendor.slug] = vendor
    return vendors
