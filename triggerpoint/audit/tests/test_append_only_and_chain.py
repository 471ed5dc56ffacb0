"""The audit trail is append-only in the database, and a change made around the triggers is detected.

ONC 170.315(d)(10): audit records cannot be changed or deleted, and an attempt
that succeeds anyway (by someone who controls the database) is detectable.
"""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, models, transaction

from triggerpoint.audit import chain
from triggerpoint.audit import services as audit
from triggerpoint.audit.models import AuditChainHead, AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.core.errors import ImmutableRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(clinic_a, physician, patient, other_patient):
    """Five chained events of clinic A, written the way the application writes them."""
    with acting_as(physician, ip="203.0.113.9"):
        audit.record("patients.patient.viewed", obj=patient, details={"channel": "ui"})
        audit.record_patient_views("patients.patient.listed", [patient, other_patient], details={"channel": "api"})
        audit.record("patients.patient.viewed", obj=other_patient, details={"channel": "ui", "score": 0.1, "big": 1e20})
        audit.record("patients.patient.viewed", obj=patient, details={"channel": "ui", "note": "ñandú"})
    return list(AuditEvent.objects.filter(clinic=clinic_a).order_by("chain_seq"))


def _raw(sql: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _around_the_triggers(sql: str, params=()) -> None:
    """What a database administrator could do: lift the triggers, change the table, put them back."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_auditevent'")
            triggers = cursor.fetchall()
            assert triggers
            for name, _ in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
            cursor.execute(sql, params)
            for _, definition in triggers:
                cursor.execute(definition)
        else:
            # A superuser's switch that silences ordinary triggers for the transaction.
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, params)
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def _verify() -> str:
    from io import StringIO

    out = StringIO()
    try:
        call_command("audit", "verify", stdout=out)
    except CommandError as exc:
        raise AssertionError(out.getvalue()) from exc
    return out.getvalue()


def _verify_fails() -> str:
    from io import StringIO

    out = StringIO()
    with pytest.raises(CommandError, match="broken"):
        call_command("audit", "verify", stdout=out)
    return out.getvalue()


# ---------------------------------------------------------------- the database refuses changes


def test_the_database_refuses_a_raw_update_or_delete_of_an_audit_event(trail):
    target = trail[0]
    with pytest.raises(IntegrityError):
        _raw("UPDATE audit_auditevent SET action = 'nothing.happened' WHERE id = %s", [target.pk])
    with pytest.raises(IntegrityError):
        _raw("DELETE FROM audit_auditevent WHERE id = %s", [target.pk])
    with pytest.raises(IntegrityError):
        _raw("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.get(pk=target.pk).action == "patients.patient.viewed"
    assert AuditEvent.objects.count() == len(trail)


def test_the_database_refuses_orm_paths_that_skip_the_model(trail):
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.all()._raw_delete(AuditEvent.objects.db)
    with pytest.raises(IntegrityError), transaction.atomic():
        models.QuerySet(AuditEvent).filter(pk=trail[0].pk).update(action="rewritten")
    with pytest.raises(ImmutableRecord):
        AuditEvent.objects.all().delete()
    with pytest.raises(ImmutableRecord):
        AuditEvent.objects.bulk_update(trail, ["action"])
    assert AuditEvent.objects.count() == len(trail)


def test_the_triggers_exist_after_all_migrations():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_auditevent'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'audit_%%'")
        names = {row[0] for row in cursor.fetchall()}
    if connection.vendor == "sqlite":
        assert names == {"audit_auditevent_no_update", "audit_auditevent_no_delete"}
    else:
        assert names == {"audit_auditevent_append_only"}


# ---------------------------------------------------------------- the chain


def test_every_event_is_chained_per_clinic_including_batched_list_events(trail, clinic_b, patient_in_b):
    assert [e.chain_seq for e in trail] == [1, 2, 3, 4, 5]
    assert trail[0].prev_hash == chain.GENESIS_HASH
    for previous, event in zip(trail, trail[1:], strict=False):
        assert event.prev_hash == previous.hash
        assert len(event.hash) == 64
    # Another clinic's events form their own chain, starting at 1.
    audit.record("patients.patient.viewed", obj=patient_in_b)
    other = AuditEvent.objects.get(clinic=clinic_b)
    assert (other.chain_seq, other.prev_hash) == (1, chain.GENESIS_HASH)
    # Events without a clinic (system) have their own chain too.
    audit.record("shell.worklist.viewed")
    assert AuditEvent.objects.get(clinic__isnull=True).chain_seq == 1
    head = AuditChainHead.objects.get(key=f"clinic:{trail[0].clinic_id}")
    assert (head.last_seq, head.last_hash) == (5, trail[-1].hash)


def test_verify_passes_on_an_intact_trail_read_back_from_the_database(trail):
    """Floats, large numbers, non-ASCII text and the IP survive the database round trip unchanged."""
    output = _verify()
    assert f"OK     clinic:{trail[0].clinic_id}: 5 events, head {trail[-1].hash}" in output


def test_verify_detects_an_event_edited_around_the_triggers(trail):
    edited = trail[2]
    _around_the_triggers("UPDATE audit_auditevent SET actor_label = 'someone.else' WHERE id = %s", [edited.pk])
    output = _verify_fails()
    assert f"event id {edited.pk} (seq 3): content does not match its hash (edited)" in output


def test_verify_detects_an_edited_event_whose_hash_was_recomputed(trail):
    """Rewriting the row and its own hash still breaks the next event's link."""
    edited = AuditEvent.objects.get(pk=trail[1].pk)
    edited.details = {"channel": "forged"}
    new_hash = chain.content_hash(edited, edited.prev_hash)
    _around_the_triggers(
        "UPDATE audit_auditevent SET details = %s, hash = %s WHERE id = %s",
        ['{"channel": "forged"}', new_hash, edited.pk],
    )
    output = _verify_fails()
    assert f"event id {trail[2].pk} (seq 3): prev_hash does not match" in output


def test_verify_detects_a_deleted_event(trail):
    _around_the_triggers("DELETE FROM audit_auditevent WHERE id = %s", [trail[1].pk])
    output = _verify_fails()
    assert "seq 2): event seq 2 is missing" in output


def test_verify_detects_the_newest_events_deleted(trail):
    _around_the_triggers("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", [trail[3].pk, trail[4].pk])
    output = _verify_fails()
    assert "chain head says 5 events" in output and "the table holds 3" in output


def test_verify_detects_a_forged_event_inserted_with_raw_sql(trail):
    _raw(
        "INSERT INTO audit_auditevent (at, actor_label, action, object_type, object_id, clinic_id, request_id, "
        "details, prev_hash, hash) VALUES (%s, 'ghost', 'patients.patient.viewed', '', '', %s, '', '{}', '', '')",
        [trail[-1].at, trail[0].clinic_id],
    )
    _verify_fails()


def test_verify_reports_each_broken_chain_and_leaves_intact_ones_ok(trail, patient_in_b):
    audit.record("patients.patient.viewed", obj=patient_in_b)
    _around_the_triggers("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [trail[0].pk])
    output = _verify_fails()
    assert f"BROKEN clinic:{trail[0].clinic_id}" in output
    assert f"OK     clinic:{patient_in_b.clinic_id}: 1 events" in output


# ---------------------------------------------------------------- PostgreSQL: the app role cannot change the table


@pytest.mark.skipif(connection.vendor != "postgresql", reason="roles and GRANTs are PostgreSQL features; SQLite has none")
def test_a_role_with_insert_and_select_only_cannot_update_or_delete_audit_events(trail):
    """The README's app role: INSERT and SELECT on audit_auditevent, nothing else: the database refuses before any trigger runs."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = 'triggerpoint_audit_test_app'")
        if not cursor.fetchone():
            cursor.execute("CREATE ROLE triggerpoint_audit_test_app NOLOGIN")
        cursor.execute("GRANT INSERT, SELECT ON audit_auditevent TO triggerpoint_audit_test_app")
        cursor.execute("SET LOCAL ROLE triggerpoint_audit_test_app")
        for statement in ("UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent",
                          "TRUNCATE audit_auditevent"):
            cursor.execute("SAVEPOINT attempt")
            with pytest.raises(Exception, match="permission denied"):
                cursor.execute(statement)
            cursor.execute("ROLLBACK TO SAVEPOINT attempt")
        cursor.execute("SELECT count(*) FROM audit_auditevent")
        assert cursor.fetchone()[0] == len(trail)
        cursor.execute("RESET ROLE")


# ---------------------------------------------------------------- concurrency


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="the test database on SQLite is in memory, one connection; SQLite's IMMEDIATE "
                           "transactions serialise writers anyway")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_to_one_clinic_keep_a_single_unbroken_chain(clinic_a, patient, other_patient):
    """Eight threads, each with its own connection, append singles and batches to the same chain at once."""
    import threading

    from django.db import connections

    errors = []
    start = threading.Barrier(8)

    def writer(n):
        try:
            start.wait()
            for _ in range(10):
                if n % 2:
                    audit.record("patients.patient.viewed", obj=patient, details={"writer": n})
                else:
                    audit.record_patient_views("patients.patient.listed", [patient, other_patient], details={"writer": n})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    seqs = list(AuditEvent.objects.filter(clinic=clinic_a).order_by("chain_seq").values_list("chain_seq", flat=True))
    assert seqs == list(range(1, 4 * 10 + 4 * 10 * 2 + 1))  # 40 singles + 40 batches of 2, no gap or fork
    assert f"OK     clinic:{clinic_a.pk}: 120 events" in _verify()


# ---------------------------------------------------------------- events stored before the chain existed


@pytest.mark.django_db(transaction=True)
def test_events_written_before_the_chain_are_linked_by_the_migration(clinic_a, patient):
    from django.db.migrations.executor import MigrationExecutor

    before_chain = [("audit", "0001_initial")]
    executor = MigrationExecutor(connection)
    executor.migrate(before_chain)
    try:
        old = executor.loader.project_state(before_chain).apps.get_model("audit", "AuditEvent")
        for n in range(3):
            old.objects.create(action="patients.patient.viewed", patient_id=patient.pk, clinic_id=clinic_a.pk,
                               actor_label="before", details={"n": n, "score": 0.5})
        old.objects.create(action="shell.worklist.viewed", actor_label="system")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate([("audit", "0003_append_only_triggers")])
    stored = list(AuditEvent.objects.filter(clinic=clinic_a).order_by("id"))
    assert [e.chain_seq for e in stored] == [1, 2, 3] and stored[0].prev_hash == chain.GENESIS_HASH
    audit.record("patients.patient.viewed", obj=patient)  # new events continue the linked chain
    output = _verify()
    assert f"OK     clinic:{clinic_a.pk}: 4 events" in output and "OK     system: 1 events" in output
    test_the_triggers_exist_after_all_migrations()
