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
        ("ACM-204", "Oral GLP-1 agonist", "phase-2", "Metabolic", Decimal("18000000"), "USD"),
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
