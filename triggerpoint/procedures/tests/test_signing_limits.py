"""Signing gates that read the patient's signed history: toxin limits and interval, steroid exposure,
billable diagnoses and the payer's same-region repeat limits. Real notes, real signing."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.procedures import drafting, note_reads, selectors, signing
from triggerpoint.procedures.tests.conftest import PROCEDURE_DAY, THREE_MUSCLE_NOTE

pytestmark = pytest.mark.django_db

UNIVERSAL_PROTOCOL = {
    key: THREE_MUSCLE_NOTE[key]
    for key in ("timeout_performed", "timeout_time", "site_marked", "skin_prep_agent", "sterile_technique")
}


def _note(muscle="upper_trapezius", injectates=(), mix=None, diagnosis_codes=("M79.18",)):
    note = {
        "guidance": "landmark",
        "pre_nrs": 6,
        "post_nrs": 2,
        "observation_minutes": 15,
        "discharge_condition": "stable",
        "diagnosis_codes": list(diagnosis_codes),
        **UNIVERSAL_PROTOCOL,
        "mix": copy.deepcopy(mix) if mix is not None else [],
        "sites": [
            {"muscle": muscle, "side": "left", "technique": "injection", "insertions": 1,
             "uses_shared_mix": mix is not None, "injectates": [dict(row) for row in injectates]},
        ],
    }
    return note


def _toxin(units):
    return {"drug": "onabotulinumtoxinA", "concentration_units_per_ml": 100, "volume_ml": units / 100}


def _triamcinolone(mg):
    return {"drug": "triamcinolone", "concentration_mg_per_ml": 40, "volume_ml": mg / 40}


def _draft(physician, patient, on, document):
    with acting_as(physician):
        procedure = drafting.create_draft(physician, patient, procedure_date=on)
        return drafting.autosave_draft(
            physician, procedure, procedure.version, dict(document, procedure_date=on.isoformat())
        )


def _signed(physician, patient, on, document, **overrides):
    procedure = _draft(physician, patient, on, document)
    with acting_as(physician):
        return signing.sign_procedure(physician, procedure, procedure.version, **overrides)


def _blocked(physician, procedure, **overrides) -> str:
    with acting_as(physician), pytest.raises(signing.SigningBlocked) as error:
        signing.sign_procedure(physician, procedure, procedure.version, **overrides)
    return " ".join(error.value.problems)


# --- botulinum toxin ---------------------------------------------------------------------------


def test_500_units_of_onabotulinumtoxin_block_signing_until_a_physician_overrides(on_procedure_day, physician, patient):
    procedure = _draft(physician, patient, PROCEDURE_DAY, _note(injectates=[_toxin(500)]))
    assert "over the product's maximum of 400 units" in _blocked(physician, procedure)
    with acting_as(physician):
        signed = signing.sign_procedure(
            physician, procedure, procedure.version, dose_override_reason="Cervical dystonia protocol, neurology plan"
        )
    assert signed.dose_check["ok"] is False
    event = AuditEvent.objects.get(action="procedures.procedure.dose_overridden", object_id=str(signed.public_id))
    assert [f["rule"] for f in event.details["findings"]] == ["DOSE-TOXIN-MAX"]


def test_400_units_of_onabotulinumtoxin_sign_without_override(on_procedure_day, physician, patient):
    signed = _signed(physician, patient, PROCEDURE_DAY, _note(injectates=[_toxin(400)]))
    assert signed.dose_check["ok"] is True


def test_a_toxin_83_days_after_a_signed_toxin_note_blocks_signing(on_procedure_day, physician, patient):
    _signed(physician, patient, PROCEDURE_DAY - timedelta(days=83), _note("quadratus_lumborum", [_toxin(100)]))
    procedure = _draft(physician, patient, PROCEDURE_DAY, _note(injectates=[_toxin(100)]))
    problems = _blocked(physician, procedure)
    assert "last given 83 days ago" in problems and "not before 2026-11-21" in problems


def test_a_toxin_84_days_after_a_signed_toxin_note_signs(on_procedure_day, physician, patient):
    _signed(physician, patient, PROCEDURE_DAY - timedelta(days=84), _note("quadratus_lumborum", [_toxin(100)]))
    signed = _signed(physician, patient, PROCEDURE_DAY, _note(injectates=[_toxin(100)]))
    assert signed.dose_check["last_toxin_dose"] == {"date": "2026-08-28", "drug": "onabotulinumtoxinA", "units": 100.0}


def test_a_draft_or_discarded_toxin_note_is_not_history(on_procedure_day, physician, patient):
    _draft(physician, patient, PROCEDURE_DAY - timedelta(days=10), _note("quadratus_lumborum", [_toxin(100)]))
    assert selectors.toxin_last_dose(patient) is None
    signed = _signed(physician, patient, PROCEDURE_DAY, _note(injectates=[_toxin(100)]))
    assert signed.status == "signed"


# --- corticosteroids -----------------------------------------------------------------------------


def test_400_mg_triamcinolone_needs_a_physician_review_to_sign(on_procedure_day, physician, patient):
    procedure = _draft(physician, patient, PROCEDURE_DAY, _note(injectates=[_triamcinolone(400)]))
    assert "above the review threshold of 80 mg" in _blocked(physician, procedure)


def test_the_12_month_steroid_total_comes_from_signed_notes_and_shows_on_the_note(
    on_procedure_day, physician, patient, login_as
):
    _signed(physician, patient, PROCEDURE_DAY - timedelta(days=200), _note("quadratus_lumborum", [_triamcinolone(40)]))
    _signed(physician, patient, PROCEDURE_DAY - timedelta(days=365), _note("gluteus_medius", [_triamcinolone(40)]))
    signed = _signed(physician, patient, PROCEDURE_DAY, _note(injectates=[_triamcinolone(20)]))
    # 365 days before is outside the 12 months; 200 days before is inside.
    assert signed.dose_check["steroid_12_month_triamcinolone_equivalent_mg"] == 60.0
    exposure = selectors.steroid_exposure_12m(patient, PROCEDURE_DAY)
    assert float(exposure.total_mg) == 60.0
    page = login_as(physician).get(
        f"/procedures/patients/{patient.public_id}/{signed.public_id}/"
    ).content.decode()
    assert "60.0 mg over the 12 months" in page


# --- diagnoses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "says"),
    [("M79.1", "category header"), ("G44.2", "category header"), ("S16.1XX", "unknown ICD-10-CM code")],
)
def test_a_diagnosis_not_billable_on_the_date_of_service_blocks_signing(on_procedure_day, physician, patient, code, says):
    procedure = _draft(physician, patient, PROCEDURE_DAY, _note(injectates=[_triamcinolone(20)], diagnosis_codes=[code]))
    problems = _blocked(physician, procedure, dose_override_reason="irrelevant", repeat_override_reason="irrelevant")
    assert f"diagnosis {code}" in problems and says in problems


def test_billable_leaf_diagnoses_sign(on_procedure_day, physician, patient):
    signed = _signed(
        physician, patient, PROCEDURE_DAY, _note(injectates=[_triamcinolone(20)], diagnosis_codes=["M79.18", "G44.209"])
    )
    assert signed.status == "signed"


# --- payer repeat limits (Medicare: 42 days in the same region, 3 sessions in 12 months) --------


def test_the_same_region_41_days_later_blocks_signing_until_a_physician_overrides(on_procedure_day, physician, patient):
    _signed(physician, patient, PROCEDURE_DAY - timedelta(days=41), _note("levator_scapulae", [_triamcinolone(20)]))
    procedure = _draft(physician, patient, PROCEDURE_DAY, _note(injectates=[_triamcinolone(20)]))
    problems = _blocked(physician, procedure)
    assert "repeat injection" in problems and "41 days ago; at least 42 days" in problems
    with acting_as(physician):
        signed = signing.sign_procedure(
            physician, procedure, procedure.version, repeat_override_reason="Flare after fall; payer pre-approval 7731"
        )
    assert signed.repeat_override_reason.startswith("Flare after fall")
    event = AuditEvent.objects.get(action="procedures.procedure.repeat_overridden", object_id=str(signed.public_id))
    assert event.details["findings"][0]["rule"] == "PAYER-INTERVAL-SAME-REGION"


def test_the_same_region_42_days_later_signs(on_procedure_day, physician, patient):
    _signed(physician, patient, PROCEDURE_DAY - timedelta(days=42), _note("levator_scapulae", [_triamcinolone(20)]))
    assert _signed(physician, patient, PROCEDURE_DAY, _note(injectates=[_triamcinolone(20)])).status == "signed"


def test_a_fourth_session_in_12_months_blocks_signing(on_procedure_day, physician, patient):
    for days, muscle in ((300, "quadratus_lumborum"), (200, "gluteus_medius"), (100, "infraspinatus")):
        _signed(physician, patient, PROCEDURE_DAY - timedelta(days=days), _note(muscle, [_triamcinolone(10)]))
    procedure = _draft(physician, patient, PROCEDURE_DAY, _note(injectates=[_triamcinolone(10)]))
    assert "this would be session 4 in 12 months; at most 3" in _blocked(physician, procedure)


# --- the screening result shows the signed history -----------------------------------------------


def test_the_screening_result_shows_the_12_month_steroid_total_last_toxin_and_repeat_check(
    on_procedure_day, physician, patient, login_as
):
    from triggerpoint.screening import services as screening_services

    _signed(physician, patient, PROCEDURE_DAY - timedelta(days=30), _note("levator_scapulae", [_triamcinolone(40)]))
    _signed(physician, patient, PROCEDURE_DAY - timedelta(days=100), _note("quadratus_lumborum", [_toxin(100)]))
    plan = {"sites": [{"muscle": "upper_trapezius", "side": "right"}], "injectates": [{"drug": "lidocaine"}],
            "guidance": "landmark"}
    planned = PROCEDURE_DAY + timedelta(days=5)  # 35 days after the cervical session; Medicare wants 42
    with acting_as(physician):
        screening = screening_services.create_screening(physician, patient, planned, plan)
    html = login_as(physician).get(f"/screening/patient/{patient.public_id}/{screening.public_id}/").content.decode()
    section = html[html.index('id="signed-history"'):]
    assert "40.0 mg triamcinolone-equivalent" in section
    assert "100 units OnabotulinumtoxinA on 2026-08-12" in section
    assert "the same region was treated 35 days ago; at least 42 days are required" in section


def test_the_screening_result_says_when_the_repeat_limits_are_met(on_procedure_day, physician, patient, login_as):
    from triggerpoint.screening import services as screening_services

    _signed(physician, patient, PROCEDURE_DAY - timedelta(days=37), _note("levator_scapulae", [_triamcinolone(40)]))
    plan = {"sites": [{"muscle": "upper_trapezius", "side": "right"}], "injectates": [{"drug": "lidocaine"}],
            "guidance": "landmark"}
    with acting_as(physician):
        screening = screening_services.create_screening(physician, patient, PROCEDURE_DAY + timedelta(days=5), plan)
    html = login_as(physician).get(f"/screening/patient/{patient.public_id}/{screening.public_id}/").content.decode()
    section = html[html.index('id="signed-history"'):]
    assert "within the payer&#x27;s interval and 12-month count" in section or "within the payer's interval" in section
    assert "too soon" not in section


# --- single-dose vials on the note: NDC and JW/JZ reach the stored codes -------------------------


def test_the_note_keeps_the_ndc_and_discarded_amount_and_the_codes_carry_jw(on_procedure_day, physician, patient):
    toxin = dict(_toxin(60), ndc="00023-1145-01", discarded=40)
    signed = _signed(physician, patient, PROCEDURE_DAY, _note(injectates=[toxin]))
    row = note_reads.note_document(signed)["sites"][0]["injectates"][0]
    assert (row["ndc"], row["discarded"]) == ("00023-1145-01", 40.0)
    lines = [(line["code"], line["units"], line["modifiers"], line["ndc"]) for line in signed.codes["hcpcs"]]
    assert lines == [("J0585", 60, [], "00023-1145-01"), ("J0585", 40, ["JW"], "00023-1145-01")]


def test_a_signed_note_with_a_payer_id_the_coder_does_not_know_falls_back_to_the_clinic_default(
    on_procedure_day, physician, patient
):
    from triggerpoint.procedures.models import InjectionSite, Procedure

    # As written by other apps' fixtures and imports: a repeat-policy id, not a coder payer id.
    procedure = _draft(physician, patient, PROCEDURE_DAY - timedelta(days=20), _note("levator_scapulae", [_triamcinolone(20)]))
    assert InjectionSite.objects.filter(procedure=procedure).exists()
    Procedure.objects.filter(pk=procedure.pk).update(payer="medicare_lcd", status="signed")
    assert selectors.latest_payer(patient, PROCEDURE_DAY) is None
    checks = selectors.planned_session_checks(patient, PROCEDURE_DAY, ["upper_trapezius"])
    assert checks.payer == "medicare"
    assert [f.rule for f in checks.repeat_findings] == ["PAYER-INTERVAL-SAME-REGION"]
