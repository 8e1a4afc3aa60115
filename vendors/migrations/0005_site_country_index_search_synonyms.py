"""The directory's second pass: an index for "vendors with a site in these countries", and the stored search
text rebuilt with the synonyms and spelling variants of vendors.search_synonyms."""

from django.db import migrations, models


def refresh_search_text(apps, schema_editor):
    # The service reads the current models; it only fills the denormalised search columns (no schema).
    from vendors.services import vendor_search_refresh

    # No change record: its table comes in 0006 (and no facet index exists while migrating).
    vendor_search_refresh(record_change=False)


class Migration(migrations.Migration):
    dependencies = [
        ("vendors", "0004_text_caps"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="site",
            index=models.Index(fields=["country", "vendor"], name="site_country_vendor_idx"),
        ),
        migrations.RunPython(refresh_search_text, migrations.RunPython.noop, elidable=True),
    ]
