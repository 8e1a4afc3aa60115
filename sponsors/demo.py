"""Demo sponsors and programmes (idempotent: keyed by slug and code)."""

from decimal import Decimal

from sponsors.models import Program, Sponsor

SPONSORS = [
    {"slug": "acme-pharma", "name": "Acme Pharma", "type": "pharma", "country": "US", "default_currency": "USD"},
    {"slug": "borealis-bio", "name": "Borealis Bio", "type": "biotech", "country": "SE", "default_currency": "EUR"},
]
PROGRAMS = {
    "acme-pharma": [
        ("ACM-101", "Acmezumab in NSCLC", "phase-3", "Oncology", Decimal("45000000"), "USD"),
        # A cap on the programme's outsourced CMC work, which its EUR contracts now exceed (an alert for alice).
        ("ACM-204", "Oral GLP-1 agonist", "phase-2", "Metabolic", Decimal("750000"), "EUR"),
        ("ACM-310", "Long-acting injectable antipsychotic", "phase-1", "CNS", None, ""),
    ],
    "borealis-bio": [
        ("BOR-01", "Gene therapy for Stargardt disease", "phase-1", "Rare disease", Decimal("9000000"), "EUR"),
        ("BOR-07", "mRNA RSV vaccine", "preclinical", "Infectious disease", None, ""),
    ],
}


def seed() -> dict[str, Sponsor]:
    sponsors = {}
    for data in SPONSORS:
        sponsor, _ = Sponsor.objects.update_or_create(slug=data["slug"], defaults=data)
        sponsors[sponsor.slug] = sponsor
        for code, name, phase, area, cap, currency in PROGRAMS[sponsor.slug]:
            Program.objects.update_or_create(
                sponsor=sponsor, code=code,
                defaults={"name": name, "phase": phase, "therapeutic_area": area, "budget_cap": cap, "budget_currency": currency},
            )  # fmt: skip
    return sponsors


# Acme's private records of demo vendors: (vendor slug, status, risk, last audit, next audit due, notes), the
# audit dates in days from the day of the seed so the data stays alive: Helix's requalification audit is 12 days
# overdue (a critical alert; the qualification pages show it overdue), Northwind's falls due later.
QUALIFICATIONS = [
    ("northwind-clinical", "approved", "low", -620, 110, "Full GCP audit passed; MSA in force."),
    ("helix-manufacturing", "conditionally_approved", "medium", -742, -12,
     "Two major findings on line clearance, CAPA accepted; requalification audit due."),
    ("orbital-cdmo", "in_qualification", "medium", None, None, "Questionnaire returned; audit to be scheduled."),
    ("rheinland-sterile", "disqualified", "high", -430, None,
     "Critical finding on aseptic process simulation; do not award until requalified."),
]  # fmt: skip
SHORTLIST = ("Sterile fill-finish candidates", ["helix-manufacturing", "rheinland-sterile", "lyon-aseptic"])


def seed_sourcing(sponsors: dict, vendors: dict) -> None:
    """Acme's qualifications of some demo vendors (one disqualified, one with its audit due) and a shortlist.

    Idempotent: keyed by sponsor and vendor, and by shortlist name.
    """
    from datetime import timedelta

    from django.utils import timezone

    from sponsors.models import Shortlist, ShortlistEntry, VendorQualification

    today = timezone.localdate()

    def day(offset):
        return None if offset is None else today + timedelta(days=offset)

    acme = sponsors["acme-pharma"]
    for slug, status, risk, last, due, notes in QUALIFICATIONS:
        VendorQualification.objects.update_or_create(
            sponsor=acme, vendor=vendors[slug],
            defaults={"status": status, "risk": risk, "notes": notes, "last_audit_on": day(last),
                      "next_audit_due": day(due), "msa_reference": f"ACME-MSA-{slug[:4].upper()}"},
        )  # fmt: skip
    name, slugs = SHORTLIST
    shortlist, _ = Shortlist.objects.update_or_create(
        sponsor=acme, name=name, defaults={"notes": "For the ACM-101 drug product RFP."}
    )
    for slug in slugs:
        ShortlistEntry.objects.get_or_create(shortlist=shortlist, vendor=vendors[slug])
