"""The procedure note's life: draft, autosave with a version check, signing gates, amendments, audit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.core.errors import ImmutableRecord, StaleVersion
from triggerpoint.core.rules import RuleInputError
from triggerpoint.procedures import amendments, drafting, note_reads, signing
from triggerpoint.procedures.models import Amendment, Injectate, Procedure
from triggerpoint.procedures.signals import procedure_signed
from triggerpoint.procedures.tests.conftest import PROCEDURE_DAY

pytestmark = pytest.mark.django_db


def _actions(procedure):
    return list(AuditEvent.objects.filter(object_id=str(procedure.public_id)).order_by("id").values_list("action", flat=True))


def _screening(patient, status, on=PROCEDURE_DAY, **extra):
    from triggerpoint.screening.models import ScreeningRecord

    return ScreeningRecord.objects.create(
        clinic=patient.clinic, patient=patient, planned_procedure_date=on, status=status, **extra
    )


# ---------------------------------------------------------------- drafts and autosave


def test_a_draft_is_linked_to_the_screening_planned_for_that_day(on_procedure_day, physician, patient):
    screening = _screening(patient, "ready")
    _screening(patient, "ready", on=date(2026, 10, 1))
    with acting_as(physician):
        procedure = drafting.create_draft(physician, patient, procedure_date=PROCEDURE_DAY)
    assert procedure.screening == screening
    assert procedure.status == "draft"
    assert procedure.performed_by == physician
    assert _actions(procedure) == ["procedures.procedure.created"]


def test_a_nurse_may_open_and_fill_a_draft_but_front_desk_may_not(on_procedure_day, nurse, front_desk, patient, note_payload):
    from django.core.exceptions import PermissionDenied

    with acting_as(nurse):
        procedure = drafting.create_draft(nurse, patient, procedure_date=PROCEDURE_DAY)
        drafting.autosave_draft(nurse, procedure, 1, note_payload)
    with pytest.raises(PermissionDenied):
        drafting.create_draft(front_desk, patient)


def test_autosave_stores_sites_and_the_shared_mix_total(saved_draft):
    assert saved_draft.version == 2
    sites = list(saved_draft.sites.all())
    assert [(s.muscle, s.side, s.insertions) for s in sites] == [
        ("upper_trapezius", "left", 3),
        ("upper_trapezius", "right", 2),
        ("levator_scapulae", "left", 1),
    ]
    mix = Injectate.objects.get(procedure=saved_draft, site__isnull=True)
    assert (mix.drug, mix.ml_per_site, mix.volume_ml, mix.dose_mg) == ("lidocaine", Decimal("2"), Decimal("6"), Decimal("60"))
    assert mix.lot_number == "LD2291" and mix.expiry == date(2027, 8, 31)


def test_a_site_can_receive_more_mix_and_its_own_injectate(draft, physician, note_payload):
    note_payload["sites"][0]["mix_volume_ml"] = 4  # twice the standard 2 mL
    note_payload["sites"][1]["injectates"] = [
        {"drug": "triamcinolone", "concentration_mg_per_ml": 40, "volume_ml": 0.5}
    ]
    with acting_as(physician):
        procedure = drafting.autosave_draft(physician, draft, 1, note_payload)
    mix = procedure.injectates.get(site__isnull=True)
    assert mix.volume_ml == Decimal("8")  # 4 + 2 + 2
    steroid = procedure.injectates.get(site__isnull=False)
    assert steroid.site.side == "right" and steroid.dose_mg == Decimal("20")


def test_the_editor_document_round_trips(saved_draft, note_payload):
    document = note_reads.note_document(saved_draft)
    assert document["version"] == 2
    assert [s["muscle"] for s in document["sites"]] == [s["muscle"] for s in note_payload["sites"]]
    assert document["mix"][0]["ml_per_site"] == 2.0
    assert note_reads.parse_document(document) == note_reads.parse_document(note_payload)


def test_two_clinicians_editing_one_draft_cannot_overwrite_each_other(draft, physician, nurse, note_payload):
    """Both read version 1; the first save wins, the second is refused and writes nothing."""
    first = dict(note_payload, notes="saved by the physician")
    second = dict(note_payload, notes="saved by the nurse", sites=note_payload["sites"][:1])
    with acting_as(physician):
        drafting.autosave_draft(physician, draft, 1, first)
    with acting_as(nurse), pytest.raises(StaleVersion) as error:
        drafting.autosave_draft(nurse, draft, 1, second)
    assert "version 1" in str(error.value) and "now version 2" in str(error.value)
    stored = Procedure.objects.get(pk=draft.pk)
    assert stored.notes == "saved by the physician" and stored.version == 2
    assert stored.sites.count() == 3


def test_autosave_lists_every_problem_of_a_malformed_note(draft, physician, note_payload):
    note_payload["sites"][0]["muscle"] = "unknown_muscle"
    note_payload["sites"][1]["side"] = "both"
    note_payload["mix"][0]["drug"] = "aspirin"
    note_payload["pre_nrs"] = 11
    with acting_as(physician), pytest.raises(RuleInputError) as error:
        drafting.autosave_draft(physician, draft, 1, note_payload)
    text = " | ".join(error.value.problems)
    assert "unknown muscle 'unknown_muscle'" in text
    assert "sites[1].side" in text
    assert "unknown drug 'aspirin'" in text and "lidocaine" in text
    assert "pre_nrs must be from 0 to 10" in text
    assert Procedure.objects.get(pk=draft.pk).version == 1


def test_a_draft_may_be_incomplete_but_cannot_be_signed_so(draft, physician):
    incomplete = {"sites": [{"muscle": "upper_trapezius", "side": "left"}], "mix": [{"drug": "lidocaine"}]}
    with acting_as(physician):
        procedure = drafting.autosave_draft(physician, draft, 1, incomplete)
        with pytest.raises(signing.SigningBlocked) as error:
            signing.sign_procedure(physician, procedure, procedure.version)
    text = " | ".join(error.value.problems)
    for expected in ("pre-procedure pain score", "post-procedure pain score", "observation time",
                     "discharge condition", "mL per site", "concentration"):
        assert expected in text
    assert Procedure.objects.get(pk=draft.pk).status == "draft"


# ---------------------------------------------------------------- signing


def test_signing_stores_the_dose_check_and_codes_and_sends_the_signal_once(saved_draft, physician):
    received = []

    def receiver(sender, procedure, **kwargs):
        from django.db import connection

        received.append((procedure.pk, procedure.status, connection.in_atomic_block))

    procedure_signed.connect(receiver)
    try:
        with acting_as(physician):
            procedure = signing.sign_procedure(physician, saved_draft, saved_draft.version)
    finally:
        procedure_signed.disconnect(receiver)
    assert received == [(procedure.pk, "signed", True)]
    assert procedure.signed_by == physician and procedure.signed_at is not None
    assert procedure.dose_check["ok"] is True
    assert procedure.dose_check["items"][0]["total_mg"] == 60.0
    assert procedure.dose_check["items"][0]["max_mg"] == 300.0
    assert [line["code"] for line in procedure.codes["cpt"]] == ["20553"]
    assert procedure.weight_kg_used == Decimal("70.0")
    assert _actions(procedure)[-1] == "procedures.procedure.signed"


def test_only_a_physician_signs(saved_draft, nurse):
    from django.core.exceptions import PermissionDenied

    with acting_as(nurse), pytest.raises(PermissionDenied):
        signing.sign_procedure(nurse, saved_draft, saved_draft.version)


def test_signing_a_stale_version_is_refused(saved_draft, physician):
    with acting_as(physician), pytest.raises(StaleVersion):
        signing.sign_procedure(physician, saved_draft, saved_draft.version - 1)


def _overdosed(draft, physician, note_payload):
    note_payload["mix"][0]["ml_per_site"] = 12  # 3 x 12 mL of 1 % = 360 mg > 300 mg
    with acting_as(physician):
        return drafting.autosave_draft(physician, draft, 1, note_payload)


def test_a_dose_over_the_maximum_blocks_signing(draft, physician, note_payload):
    procedure = _overdosed(draft, physician, note_payload)
    with acting_as(physician), pytest.raises(signing.SigningBlocked) as error:
        signing.sign_procedure(physician, procedure, procedure.version)
    assert "over its maximum of 300 mg" in " ".join(error.value.problems)


def test_a_physician_may_override_the_dose_check_with_a_reason_and_it_is_audited(draft, physician, note_payload):
    procedure = _overdosed(draft, physician, note_payload)
    with acting_as(physician):
        procedure = signing.sign_procedure(
            physician, procedure, procedure.version, dose_override_reason="Weighed today: 96 kg, chart not updated"
        )
    assert procedure.status == "signed"
    assert procedure.dose_check["ok"] is False
    assert procedure.dose_override_reason.startswith("Weighed today")
    event = AuditEvent.objects.get(action="procedures.procedure.dose_overridden", object_id=str(procedure.public_id))
    assert event.actor == physician and "96 kg" in event.details["reason"]
    assert event.details["findings"][0]["rule"] == "DOSE-LA-MAX"


def test_an_old_weight_blocks_signing_when_a_local_anaesthetic_is_given(draft, physician, patient, note_payload):
    patient.weight_measured_on = date(2026, 8, 21)  # 91 days before the procedure (limit 90)
    patient.save()
    with acting_as(physician):
        procedure = drafting.autosave_draft(physician, draft, 1, note_payload)
        with pytest.raises(signing.SigningBlocked) as error:
            signing.sign_procedure(physician, procedure, procedure.version)
    assert "measured 91 days ago" in " ".join(error.value.problems)


def test_a_weight_measured_90_days_ago_is_still_used(draft, physician, patient, note_payload):
    patient.weight_measured_on = date(2026, 8, 22)
    patient.save()
    with acting_as(physician):
        procedure = drafting.autosave_draft(physician, draft, 1, note_payload)
        procedure = signing.sign_procedure(physician, procedure, procedure.version)
    assert procedure.dose_check["ok"] is True


@pytest.mark.parametrize("status", ["defer", "contraindicated"])
def test_a_blocking_screening_stops_signing_without_an_override(status, on_procedure_day, physician, patient, note_payload):
    _screening(patient, status)
    with acting_as(physician):
        procedure = drafting.create_draft(physician, patient, procedure_date=PROCEDURE_DAY)
        procedure = drafting.autosave_draft(physician, procedure, 1, note_payload)
        with pytest.raises(signing.SigningBlocked) as error:
            signing.sign_procedure(physician, procedure, procedure.version)
        assert f"screening status is {status}" in " ".join(error.value.problems)
        procedure = signing.sign_procedure(
            physician, procedure, procedure.version, screening_override_reason="Reviewed with cardiology today"
        )
    assert procedure.screening_override_reason == "Reviewed with cardiology today"
    assert "procedures.procedure.screening_overridden" in _actions(procedure)


@pytest.mark.parametrize("status", ["ready", "review"])
def test_a_ready_or_reviewed_screening_does_not_block(status, on_procedure_day, physician, patient, note_payload):
    _screening(patient, status)
    with acting_as(physician):
        procedure = drafting.create_draft(physician, patient, procedure_date=PROCEDURE_DAY)
        procedure = drafting.autosave_draft(physician, procedure, 1, note_payload)
        procedure = signing.sign_procedure(physician, procedure, procedure.version)
    assert procedure.status == "signed"


def test_a_screening_created_after_the_draft_is_still_checked_at_signing(saved_draft, physician, patient):
    _screening(patient, "contraindicated")
    with acting_as(physician), pytest.raises(signing.SigningBlocked):
        signing.sign_procedure(physician, saved_draft, saved_draft.version)


# ---------------------------------------------------------------- signed notes and amendments


def test_a_signed_note_refuses_autosave_and_discard(signed, physician, note_payload):
    with acting_as(physician):
        with pytest.raises(ImmutableRecord):
            drafting.autosave_draft(physician, signed, signed.version, note_payload)
        with pytest.raises(ImmutableRecord):
            drafting.discard_draft(physician, signed, signed.version)
        with pytest.raises(ImmutableRecord):
            signing.sign_procedure(physician, signed, signed.version)


def test_an_amendment_keeps_the_original_and_records_reason_author_and_time(signed, physician):
    with acting_as(physician):
        amendment = amendments.amend_procedure(
            physician, signed, reason="Side recorded wrongly", text="Levator scapulae was the RIGHT side."
        )
    stored = Procedure.objects.get(pk=signed.pk)
    assert stored.version == signed.version  # the signed note itself did not change
    assert list(stored.sites.values_list("side", flat=True)) == ["left", "right", "left"]
    assert amendment.author == physician and amendment.created_at is not None
    assert list(stored.amendments.all()) == [amendment]
    event = AuditEvent.objects.get(action="procedures.procedure.amended")
    assert event.details["reason"] == "Side recorded wrongly"


def test_an_amendment_needs_a_reason_and_a_text_and_a_signed_note(saved_draft, signed, physician):
    with acting_as(physician), pytest.raises(RuleInputError) as error:
        amendments.amend_procedure(physician, signed, reason=" ", text="")
    assert len(error.value.problems) == 2


def test_amendments_cannot_be_edited_or_deleted(signed, physician):
    from triggerpoint.core.errors import HardDeleteRefused

    with acting_as(physician):
        amendment = amendments.amend_procedure(physician, signed, reason="r", text="t")
    amendment.text = "changed"
    with pytest.raises(ImmutableRecord):
        amendment.save()
    with pytest.raises(HardDeleteRefused):
        amendment.delete()
    assert Amendment.objects.get(pk=amendment.pk).text == "t"


def test_a_draft_can_be_discarded_and_disappears_from_lists(draft, physician):
    with acting_as(physician):
        drafting.discard_draft(physician, draft, draft.version)
    assert not Procedure.objects.filter(pk=draft.pk).exists()
    assert Procedure.all_objects.get(pk=draft.pk).deleted_at is not None


def test_the_audit_trail_names_each_step_in_order(signed, physician):
    with acting_as(physician):
        amendments.amend_procedure(physician, signed, reason="r", text="t")
        note_reads.view_procedure(physician, signed)
    assert _actions(signed) == [
        "procedures.procedure.created",
        "procedures.procedure.autosaved",
        "procedures.procedure.signed",
        "procedures.procedure.amended",
        "procedures.procedure.viewed",
    ]
    events = AuditEvent.objects.filter(object_id=str(signed.public_id))
    assert {e.actor_id for e in events} == {physician.pk}
    assert {e.patient_id for e in events} == {signed.patient_id}
