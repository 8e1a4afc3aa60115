"""On PostgreSQL, the database itself refuses UPDATE and DELETE of history rows (21 CFR 11.10(e))."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_historyentry is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_history_append_only
    BEFORE UPDATE OR DELETE ON audit_historyentry
    FOR EACH ROW EXECUTE FUNCTION audit_history_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_history_append_only ON audit_historyentry;
DROP FUNCTION IF EXISTS audit_history_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
