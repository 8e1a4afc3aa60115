"""The eight fixed service categories (stable codes) and the seeded capability vocabulary."""

from django.db import migrations
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

GIN_INDEX = "CREATE INDEX IF NOT EXISTS vendor_search_vector_gin ON vendors_vendor USING gin (search_vector)"


def create(apps, schema_editor):
    ServiceCategory = apps.get_model("vendors", "ServiceCategory")
    Capability = apps.get_model("vendors", "Capability")
    for position, (code, name, side, capabilities) in enumerate(CATEGORIES):
        category, _ = ServiceCategory.objects.update_or_create(
            code=code, defaults={"name": name, "side": side, "position": position}
        )
        for capability in capabilities:
            Capability.objects.get_or_create(
                category=category, name=capability, defaults={"slug": slugify(capability.replace("/", " "))}
            )
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GIN_INDEX)


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS vendor_search_vector_gin")


class Migration(migrations.Migration):
    dependencies = [("vendors", "0002_catalogue_models")]
    operations = [migrations.RunPython(create, remove_index)]
