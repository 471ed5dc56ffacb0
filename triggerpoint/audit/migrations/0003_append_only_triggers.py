"""Database triggers that make the audit trail append-only.

The model and its queryset refuse update and delete, but raw SQL,
``QuerySet._raw_delete`` or a plain ``QuerySet.update`` went straight past them
(and emptied the table). These triggers refuse UPDATE and DELETE of any
``audit_auditevent`` row in the database itself, as the signed-note triggers do
(procedures/migrations/0003): SQLite ``RAISE(ABORT)``, PostgreSQL SQLSTATE
23000, both surfacing as ``django.db.IntegrityError``.

Emptying the whole database (``flush``, used by transactional tests) still
works: the project's ``flush`` lifts SQLite triggers for that one command and
PostgreSQL flushes with TRUNCATE, which row triggers do not see. In production
TRUNCATE is kept away by the database role (README, "Audit trail"), and any
change made around the triggers breaks the hash chain (``triggerpoint audit verify``).
"""

from django.db import migrations

MESSAGE = "audit events are append-only"

SQLITE_CREATE = [
    f"""CREATE TRIGGER audit_auditevent_no_update BEFORE UPDATE ON audit_auditevent
    FOR EACH ROW BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER audit_auditevent_no_delete BEFORE DELETE ON audit_auditevent
    FOR EACH ROW BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_auditevent_no_update;",
    "DROP TRIGGER IF EXISTS audit_auditevent_no_delete;",
]
POSTGRES_CREATE = [
    f"""CREATE OR REPLACE FUNCTION audit_refuse_event_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (event %)', OLD.id USING ERRCODE = '23000';
    END;
    $$;""",
    """CREATE TRIGGER audit_auditevent_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_event_change();""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;",
    "DROP FUNCTION IF EXISTS audit_refuse_event_change();",
]


def create_triggers(apps, schema_editor):
    statements = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(schema_editor.connection.vendor)
    if statements is None:
        raise RuntimeError(
            f"No append-only triggers for database vendor {schema_editor.connection.vendor!r}; "
            "the audit trail must be protected in the database (add them here)."
        )
    for statement in statements:
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_hash_chain")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
