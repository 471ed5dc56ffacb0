"""A new procedure note opens with what was planned, each value marked with its source and left to the user."""

from __future__ import annotations

import copy

import pytest

from triggerpoint.core.context import acting_as
from triggerpoint.procedures import drafting, note_reads
from triggerpoint.procedures.tests.conftest import PROCEDURE_DAY
from triggerpoint.screening import services as screening_services
from triggerpoint.screening.tests.test_prefill import signed_plan_visit

pytestmark = pytest.mark.django_db

ULTRASOUND_PLAN = {
    "sites": [{"muscle": "upper_trapezius", "side": "right"}, {"muscle": "levator_scapulae", "side": "left"}],
    "injectates": [{"drug": "lidocaine"}],
    "guidance": "ultrasound",
    "technique": "injection",
}


@pytest.fixture
def planned(on_procedure_day, physician, patient):
    """A signed assessment (right upper trapezius, 1 % lidocaine, M79.12), the day's screening (ultrasound), a payer."""
    visit = signed_plan_visit(physician, patient)
    with acting_as(physician):
        screening = screening_services.create_screening(physician, patient, PROCEDURE_DAY, copy.deepcopy(ULTRASOUND_PLAN))
    patient.payer = "medicare"
    patient.save()
    return visit, screening


def _new_draft(physician, patient, **kwargs):
    with acting_as(physician):
        return drafting.create_draft(physician, patient, procedure_date=PROCEDURE_DAY, **kwargs)


def test_the_screening_and_the_plan_prefill_a_new_note(planned, physician, patient):
    visit, screening = planned
    procedure = _new_draft(physician, patient)
    document = note_reads.note_document(procedure)
    assert procedure.screening == screening and procedure.assessment == visit
    assert [(s["muscle"], s["side"], s["technique"]) for s in document["sites"]] == [
        ("upper_trapezius", "right", "injection"),
        ("levator_scapulae", "left", "injection"),
    ]
    assert document["guidance"] == "ultrasound"
    # The drug from the screening; its concentration from the assessment plan ("1%"); volumes left to the clinician.
    assert [(m["drug"], m["concentration_percent"], m["ml_per_site"]) for m in document["mix"]] == [("lidocaine", 1.0, None)]
    assert document["diagnosis_codes"] == ["M79.12"]
    assert document["payer"] == "medicare"
    sources = {name: (source["source"], source.get("id")) for name, source in procedure.prefilled_from.items()}
    assert sources == {
        "sites": ("screening", str(screening.public_id)),
        "mix": ("screening", str(screening.public_id)),
        "guidance": ("screening", str(screening.public_id)),
        "diagnosis_codes": ("assessment", str(visit.public_id)),
        "payer": ("patient", str(patient.public_id)),
    }


def test_without_a_screening_the_assessment_plan_gives_sites_and_drugs(on_procedure_day, physician, patient):
    visit = signed_plan_visit(physician, patient)
    procedure = _new_draft(physician, patient)
    document = note_reads.note_document(procedure)
    assert [(s["muscle"], s["side"]) for s in document["sites"]] == [("upper_trapezius", "right")]
    assert [m["drug"] for m in document["mix"]] == ["lidocaine"]
    assert document["guidance"] == "ultrasound"  # the assessment planned it; no screening said otherwise
    assert procedure.prefilled_from["guidance"]["source"] == "assessment"
    assert procedure.prefilled_from["sites"]["id"] == str(visit.public_id)
    assert procedure.prefilled_from["sites"]["label"] == "from the assessment of 2026-11-20"
    assert "payer" not in procedure.prefilled_from and document["payer"] == ""


def test_the_guidance_chosen_when_opening_the_note_wins_over_the_screening(planned, physician, patient):
    procedure = _new_draft(physician, patient, guidance="landmark")
    assert procedure.guidance == "landmark" and "guidance" not in procedure.prefilled_from


def test_what_the_user_changed_stays_theirs_and_a_second_draft_does_not_touch_it(planned, physician, patient):
    first = _new_draft(physician, patient)
    edited = note_reads.note_document(first)
    edited.update(guidance="landmark", payer="", sites=edited["sites"][:1])
    with acting_as(physician):
        first = drafting.autosave_draft(physician, first, edited.pop("version"), edited)
    assert set(first.prefilled_from) == {"mix", "diagnosis_codes"}  # the changed fields are no longer "prefilled"

    second = _new_draft(physician, patient)
    assert second.guidance == "ultrasound" and len(second.sites.all()) == 2  # a new note starts from the plan again

    first.refresh_from_db()
    kept = note_reads.note_document(first)
    assert kept["guidance"] == "landmark" and kept["payer"] == "" and len(kept["sites"]) == 1
    # Saving again, unchanged, copies nothing back and marks nothing again.
    with acting_as(physician):
        first = drafting.autosave_draft(physician, first, kept.pop("version"), kept)
    assert set(first.prefilled_from) == {"mix", "diagnosis_codes"}
    assert note_reads.note_document(first)["guidance"] == "landmark"


def test_no_plan_prefills_nothing_and_opens_a_blank_note(on_procedure_day, physician, patient):
    procedure = _new_draft(physician, patient)
    document = note_reads.note_document(procedure)
    assert procedure.prefilled_from == {}
    assert document["sites"] == [] and document["mix"] == [] and document["diagnosis_codes"] == []
    assert document["guidance"] == "landmark" and document["payer"] == ""


def test_the_editor_marks_each_prefilled_field_with_its_source(planned, login_as, physician, patient):
    procedure = _new_draft(physician, patient)
    url = f"/procedures/patients/{patient.public_id}/{procedure.public_id}/edit/"
    html = login_as(physician).get(url).content.decode()
    for field, label in (
        ("guidance", "from the screening for 2026-11-20"),
        ("sites", "from the screening for 2026-11-20"),
        ("mix", "from the screening for 2026-11-20"),
        ("diagnosis_codes", "from the assessment of 2026-11-20"),
        ("payer", "from the patient&#x27;s chart"),
    ):
        assert f'<span class="pill prefilled" data-prefilled-for="{field}">Prefilled {label}</span>' in html, field
    assert 'id="note-prefilled"' in html


def test_starting_a_note_from_the_page_takes_the_screenings_guidance(planned, login_as, physician, patient):
    client = login_as(physician)
    client.post(f"/procedures/patients/{patient.public_id}/new/", {"procedure_date": "2026-11-20", "guidance": ""})
    procedure = patient.procedures.get()
    assert procedure.guidance == "ultrasound" and procedure.prefilled_from["guidance"]["source"] == "screening"
