"""A signed note cannot change: the model refuses, and so does the database (triggers), on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from triggerpoint.core.errors import ImmutableRecord
from triggerpoint.procedures.models import Amendment, Injectate, InjectionSite, Procedure

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- model level


def test_the_model_refuses_to_save_a_signed_note(signed):
    signed.post_nrs = 0
    with pytest.raises(ImmutableRecord):
        signed.save()
    with pytest.raises(ImmutableRecord):
        signed.save_versioned(signed.version, fields=["post_nrs"])
    with pytest.raises(ImmutableRecord):
        signed.soft_delete()
    assert Procedure.objects.get(pk=signed.pk).post_nrs == 3


def test_the_model_refuses_to_change_add_or_remove_sites_and_injectates_of_a_signed_note(signed):
    site = signed.sites.first()
    site.insertions = 9
    with pytest.raises(ImmutableRecord):
        site.save()
    with pytest.raises(ImmutableRecord):
        site.delete()
    with pytest.raises(ImmutableRecord):
        InjectionSite(procedure=signed, muscle="rhomboids", side="left").save()
    injectate = signed.injectates.first()
    injectate.volume_ml = Decimal("50")
    with pytest.raises(ImmutableRecord):
        injectate.save()
    with pytest.raises(ImmutableRecord):
        Injectate(procedure=signed, drug="saline", volume_ml=Decimal("1")).save()
    assert signed.sites.count() == 3


def test_a_draft_child_cannot_be_moved_into_a_signed_note(signed, physician, patient):
    from triggerpoint.core.context import acting_as
    from triggerpoint.procedures import drafting

    with acting_as(physician):
        other = drafting.create_draft(physician, patient)
    site = InjectionSite.objects.create(procedure=other, muscle="rhomboids", side="left")
    site.procedure = signed
    with pytest.raises(ImmutableRecord):
        site.save()


def test_a_draft_stays_editable(saved_draft):
    saved_draft.notes = "still a draft"
    saved_draft.save()
    site = saved_draft.sites.first()
    site.insertions = 4
    site.save()
    assert InjectionSite.objects.get(pk=site.pk).insertions == 4


# ---------------------------------------------------------------- database level (raw SQL bypasses the model)


def _raw(sql: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_refuses_a_raw_update_of_a_signed_note(signed):
    with pytest.raises(IntegrityError):
        _raw("UPDATE procedures_procedure SET post_nrs = 0 WHERE id = %s", [signed.pk])
    with pytest.raises(IntegrityError):
        _raw("UPDATE procedures_procedure SET status = 'draft' WHERE id = %s", [signed.pk])
    assert Procedure.objects.get(pk=signed.pk).post_nrs == 3


def test_the_database_refuses_a_queryset_update_that_skips_the_model(signed):
    with pytest.raises(IntegrityError), transaction.atomic():
        Procedure.objects.filter(pk=signed.pk).update(notes="rewritten")
    with pytest.raises(IntegrityError), transaction.atomic():
        InjectionSite.objects.filter(procedure=signed).update(side="right")
    with pytest.raises(IntegrityError), transaction.atomic():
        Injectate.objects.filter(procedure=signed).update(volume_ml=Decimal("1"))


def test_the_database_refuses_a_raw_delete_of_a_signed_note_and_its_rows(signed):
    with pytest.raises(IntegrityError):
        _raw("DELETE FROM procedures_injectate WHERE procedure_id = %s", [signed.pk])
    with pytest.raises(IntegrityError):
        _raw("DELETE FROM procedures_injectionsite WHERE procedure_id = %s", [signed.pk])
    with pytest.raises(IntegrityError):
        _raw("DELETE FROM procedures_procedure WHERE id = %s", [signed.pk])
    assert InjectionSite.objects.filter(procedure=signed).count() == 3
    assert Injectate.objects.filter(procedure=signed).count() == 1


def test_the_database_refuses_a_raw_insert_into_a_signed_note(signed):
    with pytest.raises(IntegrityError):
        _raw(
            "INSERT INTO procedures_injectionsite (procedure_id, position, muscle, side, trigger_point, technique, "
            "insertions, immediate_response, uses_shared_mix) VALUES (%s, 9, 'rhomboids', 'left', '', 'injection', "
            "1, '', %s)",
            [signed.pk, True],
        )


def test_the_database_refuses_to_change_or_delete_an_amendment(signed, physician):
    amendment = Amendment.objects.create(procedure=signed, author=physician, reason="r", text="t")
    with pytest.raises(IntegrityError):
        _raw("UPDATE procedures_amendment SET text = 'x' WHERE id = %s", [amendment.pk])
    with pytest.raises(IntegrityError):
        _raw("DELETE FROM procedures_amendment WHERE id = %s", [amendment.pk])


def test_the_database_lets_a_draft_change_and_be_signed(saved_draft):
    _raw("UPDATE procedures_procedure SET notes = 'raw edit' WHERE id = %s", [saved_draft.pk])
    _raw("UPDATE procedures_injectionsite SET insertions = 5 WHERE procedure_id = %s", [saved_draft.pk])
    _raw("UPDATE procedures_procedure SET status = 'signed' WHERE id = %s", [saved_draft.pk])
    stored = Procedure.objects.get(pk=saved_draft.pk)
    assert (stored.notes, stored.status) == ("raw edit", "signed")


def test_the_triggers_exist_after_all_migrations():
    """A later migration that rebuilds a table on SQLite would silently drop its triggers; this catches it."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'procedures_%'")
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'procedures_%%'"
            )
        names = {row[0] for row in cursor.fetchall()}
    if connection.vendor == "sqlite":
        assert len(names) == 13  # 2 procedure + 3 x (sites, injectates, guidance images) + 2 amendment
    else:
        assert names == {
            "procedures_procedure_signed_immutable",
            "procedures_injectionsite_signed_immutable",
            "procedures_injectate_signed_immutable",
            "procedures_guidanceimage_signed_immutable",
            "procedures_amendment_append_only",
        }


@pytest.mark.django_db(transaction=True)  # flush as transactional tests do it: outside a test transaction
def test_flush_empties_a_database_holding_signed_notes_and_keeps_the_triggers(signed):
    """Transactional tests flush after each test; the SQLite flush lifts the triggers for that one statement."""
    call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
    assert not Procedure.all_objects.exists()
    test_the_triggers_exist_after_all_migrations()
