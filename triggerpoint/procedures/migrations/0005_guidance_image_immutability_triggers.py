"""Database triggers that freeze the guidance images of a signed procedure note.

Same rule as the sites and injectates (migration 0003): INSERT, UPDATE or DELETE
of a `procedures_guidanceimage` row whose note is signed is refused in the
database (SQLite `RAISE(ABORT)`, PostgreSQL SQLSTATE 23000 → `IntegrityError`).
Removing an image from a draft is a soft delete (an UPDATE of a draft's row),
which stays allowed. `flush` lifts every SQLite trigger generically, so nothing
else is needed there.
"""

from django.db import migrations

TABLE = "procedures_guidanceimage"
MESSAGE = "guidance images of a signed procedure note are immutable"
SIGNED = "SELECT 1 FROM procedures_procedure p WHERE p.id = {ref}.procedure_id AND p.status = 'signed'"

SQLITE_CREATE = [
    f"""CREATE TRIGGER {TABLE}_signed_no_insert BEFORE INSERT ON {TABLE}
    FOR EACH ROW WHEN EXISTS ({SIGNED.format(ref="NEW")})
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER {TABLE}_signed_no_update BEFORE UPDATE ON {TABLE}
    FOR EACH ROW WHEN EXISTS ({SIGNED.format(ref="OLD")}) OR EXISTS ({SIGNED.format(ref="NEW")})
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER {TABLE}_signed_no_delete BEFORE DELETE ON {TABLE}
    FOR EACH ROW WHEN EXISTS ({SIGNED.format(ref="OLD")})
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {TABLE}_signed_no_{op};" for op in ("insert", "update", "delete")]

POSTGRES_CREATE = [
    f"""CREATE OR REPLACE FUNCTION procedures_refuse_signed_image_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            IF EXISTS (SELECT 1 FROM procedures_procedure p WHERE p.id = OLD.procedure_id AND p.status = 'signed') THEN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = '23000';
            END IF;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            IF EXISTS (SELECT 1 FROM procedures_procedure p WHERE p.id = NEW.procedure_id AND p.status = 'signed') THEN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = '23000';
            END IF;
            RETURN NEW;
        END IF;
        RETURN OLD;
    END;
    $$;""",
    f"""CREATE TRIGGER {TABLE}_signed_immutable BEFORE INSERT OR UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION procedures_refuse_signed_image_change();""",
]
POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_signed_immutable ON {TABLE};",
    "DROP FUNCTION IF EXISTS procedures_refuse_signed_image_change();",
]


def create_triggers(apps, schema_editor):
    statements = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(schema_editor.connection.vendor)
    if statements is None:
        raise RuntimeError(
            f"No immutability triggers for database vendor {schema_editor.connection.vendor!r}; "
            "images of signed notes must be protected in the database (add them here)."
        )
    for statement in statements:
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("procedures", "0004_guidance_image")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
