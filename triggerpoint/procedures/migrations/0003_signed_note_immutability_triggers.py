"""Database triggers that make a signed procedure note immutable.

The model refuses to change a signed note, but any other path (a raw UPDATE, a
bulk `QuerySet.update()`, a script, another service) would bypass it. These
triggers refuse, in the database itself:

* UPDATE or DELETE of a `procedures_procedure` row whose stored status is
  `signed` (signing itself is an update of a draft row, so it is allowed);
* INSERT, UPDATE or DELETE of an injection site or injectate belonging to a
  signed note;
* UPDATE or DELETE of an amendment (append-only).

Both vendors raise an integrity error (SQLite `RAISE(ABORT)`, PostgreSQL
SQLSTATE 23000), which Django surfaces as `django.db.IntegrityError`.
Emptying a whole database (`flush`, used by transactional tests) is handled by
`procedures/management/commands/flush.py` on SQLite; PostgreSQL's TRUNCATE does
not fire row triggers.
"""

from django.db import migrations

SIGNED_MESSAGE = "signed procedure notes are immutable; write an amendment"
CHILD_MESSAGE = "sites and injectates of a signed procedure note are immutable"
AMENDMENT_MESSAGE = "procedure amendments are append-only"

CHILD_TABLES = ("procedures_injectionsite", "procedures_injectate")


def _sqlite_child(table: str) -> list[str]:
    signed = "SELECT 1 FROM procedures_procedure p WHERE p.id = {ref}.procedure_id AND p.status = 'signed'"
    return [
        f"""CREATE TRIGGER {table}_signed_no_insert BEFORE INSERT ON {table}
        FOR EACH ROW WHEN EXISTS ({signed.format(ref="NEW")})
        BEGIN SELECT RAISE(ABORT, '{CHILD_MESSAGE}'); END;""",
        f"""CREATE TRIGGER {table}_signed_no_update BEFORE UPDATE ON {table}
        FOR EACH ROW WHEN EXISTS ({signed.format(ref="OLD")}) OR EXISTS ({signed.format(ref="NEW")})
        BEGIN SELECT RAISE(ABORT, '{CHILD_MESSAGE}'); END;""",
        f"""CREATE TRIGGER {table}_signed_no_delete BEFORE DELETE ON {table}
        FOR EACH ROW WHEN EXISTS ({signed.format(ref="OLD")})
        BEGIN SELECT RAISE(ABORT, '{CHILD_MESSAGE}'); END;""",
    ]


SQLITE_CREATE = [
    f"""CREATE TRIGGER procedures_procedure_signed_no_update BEFORE UPDATE ON procedures_procedure
    FOR EACH ROW WHEN OLD.status = 'signed'
    BEGIN SELECT RAISE(ABORT, '{SIGNED_MESSAGE}'); END;""",
    f"""CREATE TRIGGER procedures_procedure_signed_no_delete BEFORE DELETE ON procedures_procedure
    FOR EACH ROW WHEN OLD.status = 'signed'
    BEGIN SELECT RAISE(ABORT, '{SIGNED_MESSAGE}'); END;""",
    *[statement for table in CHILD_TABLES for statement in _sqlite_child(table)],
    f"""CREATE TRIGGER procedures_amendment_no_update BEFORE UPDATE ON procedures_amendment
    FOR EACH ROW BEGIN SELECT RAISE(ABORT, '{AMENDMENT_MESSAGE}'); END;""",
    f"""CREATE TRIGGER procedures_amendment_no_delete BEFORE DELETE ON procedures_amendment
    FOR EACH ROW BEGIN SELECT RAISE(ABORT, '{AMENDMENT_MESSAGE}'); END;""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS procedures_procedure_signed_no_update;",
    "DROP TRIGGER IF EXISTS procedures_procedure_signed_no_delete;",
    *[f"DROP TRIGGER IF EXISTS {table}_signed_no_{op};" for table in CHILD_TABLES for op in ("insert", "update", "delete")],
    "DROP TRIGGER IF EXISTS procedures_amendment_no_update;",
    "DROP TRIGGER IF EXISTS procedures_amendment_no_delete;",
]

POSTGRES_CREATE = [
    f"""CREATE OR REPLACE FUNCTION procedures_refuse_signed_procedure_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status = 'signed' THEN
            RAISE EXCEPTION '{SIGNED_MESSAGE} (procedure %)', OLD.public_id USING ERRCODE = '23000';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END;
    $$;""",
    """CREATE TRIGGER procedures_procedure_signed_immutable BEFORE UPDATE OR DELETE ON procedures_procedure
    FOR EACH ROW EXECUTE FUNCTION procedures_refuse_signed_procedure_change();""",
    f"""CREATE OR REPLACE FUNCTION procedures_refuse_signed_child_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            IF EXISTS (SELECT 1 FROM procedures_procedure p WHERE p.id = OLD.procedure_id AND p.status = 'signed') THEN
                RAISE EXCEPTION '{CHILD_MESSAGE}' USING ERRCODE = '23000';
            END IF;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            IF EXISTS (SELECT 1 FROM procedures_procedure p WHERE p.id = NEW.procedure_id AND p.status = 'signed') THEN
                RAISE EXCEPTION '{CHILD_MESSAGE}' USING ERRCODE = '23000';
            END IF;
            RETURN NEW;
        END IF;
        RETURN OLD;
    END;
    $$;""",
    *[
        f"""CREATE TRIGGER {table}_signed_immutable BEFORE INSERT OR UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION procedures_refuse_signed_child_change();"""
        for table in CHILD_TABLES
    ],
    f"""CREATE OR REPLACE FUNCTION procedures_refuse_amendment_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{AMENDMENT_MESSAGE}' USING ERRCODE = '23000';
    END;
    $$;""",
    """CREATE TRIGGER procedures_amendment_append_only BEFORE UPDATE OR DELETE ON procedures_amendment
    FOR EACH ROW EXECUTE FUNCTION procedures_refuse_amendment_change();""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS procedures_amendment_append_only ON procedures_amendment;",
    *[f"DROP TRIGGER IF EXISTS {table}_signed_immutable ON {table};" for table in CHILD_TABLES],
    "DROP TRIGGER IF EXISTS procedures_procedure_signed_immutable ON procedures_procedure;",
    "DROP FUNCTION IF EXISTS procedures_refuse_amendment_change();",
    "DROP FUNCTION IF EXISTS procedures_refuse_signed_child_change();",
    "DROP FUNCTION IF EXISTS procedures_refuse_signed_procedure_change();",
]


def create_triggers(apps, schema_editor):
    statements = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(schema_editor.connection.vendor)
    if statements is None:
        raise RuntimeError(
            f"No immutability triggers for database vendor {schema_editor.connection.vendor!r}; "
            "signed notes must be protected in the database (add them here)."
        )
    for statement in statements:
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("procedures", "0002_links_to_screening_consent_assessment")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
