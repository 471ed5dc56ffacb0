"""A signed consent cannot be changed (nor, on PostgreSQL, deleted), even by code that bypasses the model.

The model refuses already; these triggers make the database refuse too, so no
queryset .update(), raw SQL or admin slip can alter what a patient signed.
"""

from django.db import migrations

SQLITE_FORWARD = [
    """
    CREATE TRIGGER screening_consent_signed_no_update
    BEFORE UPDATE ON screening_consent
    FOR EACH ROW WHEN OLD.signed_at IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'A signed consent cannot be changed'); END;
    """,
]
# No DELETE trigger on SQLite: Django's test flush empties tables with DELETE there (PostgreSQL
# truncates, which row triggers do not see). Deletes are refused by the model and queryset anyway.
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS screening_consent_signed_no_update;",
]
POSTGRES_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION screening_consent_signed_immutable() RETURNS trigger AS $$
    BEGIN
        IF OLD.signed_at IS NOT NULL THEN
            RAISE EXCEPTION 'A signed consent cannot be changed or deleted';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER screening_consent_signed_immutable
    BEFORE UPDATE OR DELETE ON screening_consent
    FOR EACH ROW EXECUTE FUNCTION screening_consent_signed_immutable();
    """,
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS screening_consent_signed_immutable ON screening_consent;",
    "DROP FUNCTION IF EXISTS screening_consent_signed_immutable();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("screening", "0002_policy_and_missing_facts")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
