"""The eight fixed service categories (stable codes) and the seeded capability vocabulary."""

from django.db import migrations

from vendors.catalogue_data import ensure_catalogue

GIN_INDEX = "CREATE INDEX IF NOT EXISTS vendor_search_vector_gin ON vendors_vendor USING gin (search_vector)"


def create(apps, schema_editor):
    ensure_catalogue(apps.get_model("vendors", "ServiceCategory"), apps.get_model("vendors", "Capability"))
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GIN_INDEX)


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS vendor_search_vector_gin")


class Migration(migrations.Migration):
    dependencies = [("vendors", "0002_catalogue_models")]
    operations = [migrations.RunPython(create, remove_index)]
