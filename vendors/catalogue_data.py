"""The fixed service catalogue: eight categories with stable codes and the seeded capability vocabulary.

Used by the data migration and by ``seed_demo`` (a database flushed by tests or by hand gets it back).
"""

from django.utils.text import slugify

CATEGORIES = [
    ("clinical-trials", "Clinical Trials", "cro", [
        "Phase I", "Phase II", "Phase III", "Phase IV", "Site monitoring", "Patient recruitment",
        "Decentralised trials", "Oncology", "CNS", "Cardiology", "Infectious disease", "Rare disease",
        "Immunology", "Paediatrics",
    ]),
    ("data-management", "Data Management", "cro", [
        "EDC build", "CDISC SDTM/ADaM", "Biostatistics", "Medical coding", "Safety database",
        "Pharmacovigilance",
    ]),
    ("regulatory-affairs", "Regulatory Affairs", "cro", [
        "IND/CTA", "NDA/BLA/MAA", "eCTD publishing", "FDA meetings", "EMA meetings", "PMDA meetings",
        "MHRA meetings", "Orphan designation",
    ]),
    ("project-management", "Project Management", "cro", [
        "Full-service study management", "Vendor oversight", "Risk-based monitoring plans",
        "Feasibility studies",
    ]),
    ("api-production", "API Production", "cmo", [
        "Small molecule", "HPAPI", "Peptides", "Biologics (mammalian)", "Biologics (microbial)",
        "Oligonucleotides", "Kilo-lab scale", "Commercial scale",
    ]),
    ("finished-dosage-forms", "Finished Dosage Forms", "cmo", [
        "Tablets", "Capsules", "Injectables", "Sterile fill-finish", "Lyophilisation", "Oral liquids",
        "Topicals", "Inhalation",
    ]),
    ("packaging", "Packaging", "cmo", [
        "Blister packs", "Bottles", "Prefilled syringes", "Vials", "Serialisation",
        "Clinical trial supplies", "Cold chain",
    ]),
    ("quality-control", "Quality Control", "cmo", [
        "Release testing", "ICH stability studies", "Method validation", "Microbiology",
        "Extractables & leachables",
    ]),
]  # fmt: skip


def ensure_catalogue(category_model, capability_model) -> None:
    """Create or refresh the categories and add missing capabilities (staff additions are kept)."""
    for position, (code, name, side, capabilities) in enumerate(CATEGORIES):
        category, _ = category_model.objects.update_or_create(
            code=code, defaults={"name": name, "side": side, "position": position}
        )
        for capability in capabilities:
            capability_model.objects.get_or_create(
                category=category, name=capability, defaults={"slug": slugify(capability.replace("/", " "))}
            )
