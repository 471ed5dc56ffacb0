"""The clinical mappers (issue 18): records of the demo clinic mapped to FHIR R4 and read back by the
``fhir.resources`` R4B models, with the clinically important fields checked against the records."""

from __future__ import annotations

import base64
import io
from datetime import UTC, timedelta

import pytest
from django.urls import resolve
from django.utils import timezone
from fhir.resources.R4B.bodystructure import BodyStructure
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.detectedissue import DetectedIssue
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.provenance import Provenance
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from triggerpoint.catalogues import standard_codes
from triggerpoint.core.context import acting_as
from triggerpoint.fhir.mapping import (
    body_structure,
    care_plan,
    consent,
    document_reference,
    flag,
    medication_administration,
    observation,
    procedure,
    provenance,
    questionnaire_response,
)
from triggerpoint.fhir.mapping.clinical_common import CPT, LOINC, SNOMED, UCUM
from triggerpoint.outcomes import services as outcome_services
from triggerpoint.procedures import selectors as procedure_selectors
from triggerpoint.shell import demo_clinic as demo

BASE = "https://clinic.example/fhir/R4"
LATERALITY = {"left": "7771000", "right": "24028007"}  # SNOMED CT qualifier values (shared/fhir README)


@pytest.fixture
def clinic(db):
    return demo.build_demo(patients=8, seed=7)


def _note(ctx, **having):
    """A signed note of the first demo clinic with an assessment, injectates and CPT codes."""
    notes = (procedure_selectors.signed_procedures(clinic=ctx.clinics[0], assessment__isnull=False, **having)
             .exclude(codes=None).order_by("procedure_date", "pk"))
    for note in notes:
        if note.injectates.exists() and (note.codes or {}).get("cpt"):
            return procedure.get(str(note.public_id), ctx.clinics[0])
    pytest.fail("the demo clinic has no signed note with an assessment, injectates and CPT codes")


def test_a_signed_note_is_a_us_core_procedure_with_its_cpt_codes_sites_and_diagnoses(clinic):
    note = _note(clinic)
    data = procedure.to_resource(note, base_url=BASE)
    parsed = Procedure.model_validate(data)

    assert parsed.meta.profile == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-procedure"]
    assert parsed.status == "completed" and parsed.performedDateTime is not None  # us-core-7
    assert [(c.system, c.code) for c in parsed.code.coding] == [(CPT, line["code"]) for line in note.codes["cpt"]]
    assert parsed.subject.reference == f"Patient/{note.patient.public_id}"
    assert parsed.encounter.reference == f"Encounter/{note.public_id}"
    diagnoses = {d.code: d for d in note.assessment.diagnoses.all()}
    expected = [f"Condition/{diagnoses[code].public_id}" for code in note.diagnosis_codes if code in diagnoses]
    assert expected and [r.reference for r in parsed.reasonReference] == expected
    sites = body_structure.ordered_sites(note)
    assert len(parsed.bodySite) == len(sites)
    for concept, site in zip(parsed.bodySite, sites, strict=True):
        assert concept.text.lower().startswith(site.side)
    targets = [e.valueReference.reference for e in parsed.extension]
    assert targets == [f"BodyStructure/{note.public_id}-{n}" for n in range(1, len(sites) + 1)]


def test_each_site_is_a_body_structure_with_the_snomed_laterality_and_the_patient(clinic):
    note = _note(clinic)
    sites = [s for s in body_structure.resources_for_patient([note.patient_id], clinic.clinics[0]) if s.procedure_id == note.pk]
    assert len(sites) == note.sites.count()
    ids = []
    for site in sites:
        parsed = BodyStructure.model_validate(body_structure.to_resource(site, base_url=BASE))
        assert [(c.system, c.code) for c in parsed.locationQualifier[0].coding] == [(SNOMED, LATERALITY[site.side])]
        assert parsed.patient.reference == f"Patient/{note.patient.public_id}"
        assert body_structure.get(parsed.id, clinic.clinics[0]).pk == site.pk
        assert body_structure.get(parsed.id, clinic.clinics[1]) is None
        ids.append(parsed.id)
    # the ids the Procedure points at are the BodyStructures served
    targets = [e["valueReference"]["reference"] for e in procedure.to_resource(note, base_url=BASE)["extension"]]
    assert sorted(targets) == sorted(f"BodyStructure/{i}" for i in ids)


def test_each_injectate_is_given_as_part_of_the_procedure_with_ucum_dose_route_and_lot(clinic):
    note = _note(clinic)
    rows = medication_administration.ordered_injectates(note)
    for n, row in enumerate(rows, start=1):
        data = medication_administration.to_resource(row, base_url=BASE)
        assert data["id"] == f"{note.public_id}-m{n}"
        parsed = MedicationAdministration.model_validate(data)
        assert [p.reference for p in parsed.partOf] == [f"Procedure/{note.public_id}"]
        assert parsed.context.reference == f"Encounter/{note.public_id}"
        dose = parsed.dosage.dose
        assert dose.system == UCUM
        if row.dose_mg is not None:
            assert (float(dose.value), dose.code) == (float(row.dose_mg), "mg")
        elif row.volume_ml is not None and row.dose_units is None:
            assert (float(dose.value), dose.code) == (float(row.volume_ml), "mL")
        medication = data["contained"][0]
        assert medication["batch"].get("lotNumber") == (row.lot_number or None)
        assert parsed.dosage.route.text == "Intramuscular"
        drug = standard_codes.lookup("drug", row.drug)
        coding = medication["code"]["coding"][0]
        if drug is not None and drug.verified:
            assert (coding["system"], coding["code"]) == (drug.system, drug.code)
        else:  # not verified: our own system with the catalogue id, never an RxNorm code
            assert coding["system"] == f"{BASE}/CodeSystem/drug" and coding["code"] == row.drug
        assert medication_administration.get(parsed.id, clinic.clinics[0]).pk == row.pk


def _record_outcomes(note):
    with acting_as(note.performed_by):
        return outcome_services.record_measurements(
            patient=note.patient, procedure=note, time_point="6w", source="portal",
            measured_at=timezone.now() - timedelta(hours=1),
            instrument_answers={"peg3": {"pain": 6, "enjoyment": 4, "activity": 5}, "pgic": {"change": 2},
                                "percent_relief": {"relief": 60}, "nrs_pain": {"now": 3, "average": 4, "worst": 6}},
        )


def _expected_code(kind, key):
    found = standard_codes.lookup(kind, key)
    return (found.system, found.code) if found is not None and found.verified else None


def test_outcomes_are_survey_observations_linked_to_the_procedure_with_verified_codes_only(clinic):
    note = _note(clinic)
    measurements = {m.instrument: m for m in _record_outcomes(note)}
    by_id = {}
    for measurement in measurements.values():
        for data in observation.to_resources(measurement, base_url=BASE):
            parsed = Observation.model_validate(data)
            by_id[parsed.id] = parsed
            assert [c.code for c in parsed.category[0].coding] == ["survey"]
            assert [p.reference for p in parsed.partOf] == [f"Procedure/{note.public_id}"]
            assert [d.reference for d in parsed.derivedFrom] == [f"QuestionnaireResponse/{measurement.public_id}"]
            assert observation.get(parsed.id, clinic.clinics[0]) is not None

    nrs = measurements["nrs_pain"]
    now = by_id[f"{nrs.public_id}-now"]
    assert (now.code.coding[0].system, now.code.coding[0].code) == (LOINC, "72514-3")
    assert (float(now.valueQuantity.value), now.valueQuantity.code) == (3, "{score}")
    result = by_id[str(nrs.public_id)]  # scored by average pain: the result is that item, not sent twice
    assert float(result.valueQuantity.value) == 4 and f"{nrs.public_id}-average" not in by_id
    assert sorted(m.reference for m in result.hasMember) == sorted(
        f"Observation/{nrs.public_id}-{item}" for item in ("now", "worst"))
    worst = by_id[f"{nrs.public_id}-worst"].code.coding[0]
    assert (worst.system, worst.code) == _expected_code("instrument_item", "nrs_pain/worst") or (
        worst.system == f"{BASE}/CodeSystem/instrument-item" and worst.code == "nrs_pain/worst")

    peg = measurements["peg3"]
    panel = by_id[str(peg.public_id)]
    assert float(panel.valueQuantity.value) == pytest.approx(5.0)
    expected = _expected_code("instrument_score", "peg3") or (f"{BASE}/CodeSystem/instrument-score", "peg3")
    assert (panel.code.coding[0].system, panel.code.coding[0].code) == expected
    assert sorted(m.reference for m in panel.hasMember) == sorted(
        f"Observation/{peg.public_id}-{item}" for item in ("pain", "enjoyment", "activity"))
    for item in ("pain", "enjoyment", "activity"):
        coding = by_id[f"{peg.public_id}-{item}"].code.coding[0]
        expected = _expected_code("instrument_item", f"peg3/{item}")
        if expected:
            assert (coding.system, coding.code) == expected
        else:  # not verified in the standard-codes table: ours, not LOINC
            assert coding.system == f"{BASE}/CodeSystem/instrument-item" and coding.system != LOINC

    relief = by_id[str(measurements["percent_relief"].public_id)]
    assert (float(relief.valueQuantity.value), relief.valueQuantity.code) == (60, "%")
    pgic = by_id[str(measurements["pgic"].public_id)]
    assert pgic.valueCodeableConcept.coding[0].code == "2"
    assert pgic.valueCodeableConcept.text == "Much improved"
    assert pgic.code.coding[0].system != LOINC or _expected_code("instrument_item", "pgic/change")


def test_each_measurement_is_a_questionnaire_response_answering_its_instruments_questionnaire(clinic):
    note = _note(clinic)
    for measurement in _record_outcomes(note):
        response = QuestionnaireResponse.model_validate(questionnaire_response.to_resource(measurement, base_url=BASE))
        url, _, version = response.questionnaire.partition("|")
        form_id = url.rsplit("/", 1)[1]
        form = Questionnaire.model_validate(questionnaire_response.questionnaire(form_id, base_url=BASE))
        assert (form.url, form.version) == (url, version)
        asked = {item.linkId: item for item in form.item}
        assert {item.linkId for item in response.item} == {k for k, v in measurement.answers.items() if v is not None}
        for item in response.item:
            answer = item.answer[0]
            if asked[item.linkId].type == "choice":
                options = [o.valueCoding.code for o in asked[item.linkId].answerOption]
                assert answer.valueCoding.code in options
            else:
                assert answer.valueInteger == measurement.answers[item.linkId]
        assert response.subject.reference == f"Patient/{note.patient.public_id}"
        assert [p.reference for p in response.partOf] == [f"Procedure/{note.public_id}"]
    assert questionnaire_response.questionnaire("instrument-nope-1.0", base_url=BASE) is None


def test_an_answered_check_in_is_a_questionnaire_response_to_the_check_in_questionnaire(clinic):
    responses = [r for r in questionnaire_response.resources_for_patient([p.pk for p in clinic.patients], clinic.clinics[0])
                 if hasattr(r, "triage")]
    assert responses
    form = Questionnaire.model_validate(questionnaire_response.checkin_questionnaire(base_url=BASE))
    asked = {item.linkId: item for item in form.item}
    symptom_codes = {o.valueCoding.code for o in asked["symptoms"].answerOption}
    for checkin in responses:
        parsed = QuestionnaireResponse.model_validate(questionnaire_response.to_resource(checkin, base_url=BASE))
        assert parsed.questionnaire == f"{form.url}|{form.version}"
        assert [p.reference for p in parsed.partOf] == [f"Procedure/{checkin.procedure.public_id}"]
        answered = {item.linkId: item for item in parsed.item}
        assert set(answered) <= set(asked)
        symptoms = [a.valueCoding.code for a in answered["symptoms"].answer] if "symptoms" in answered else []
        assert symptoms == list(checkin.answers.get("symptoms") or []) and set(symptoms) <= symptom_codes
        if checkin.answers.get("pain_now") is not None:
            assert answered["pain_now"].answer[0].valueInteger == checkin.answers["pain_now"]
        assert questionnaire_response.get(parsed.id, clinic.clinics[0]).pk == checkin.pk
        assert questionnaire_response.get(parsed.id, clinic.clinics[1]) is None
    pain = asked["pain_now"].code[0]
    assert (pain.system, pain.code) == (LOINC, "72514-3")


def test_the_signed_note_has_its_pdf_as_a_document_reference_and_its_signature_as_provenance(clinic):
    note = _note(clinic)
    document = DocumentReference.model_validate(document_reference.to_resource(note, base_url=BASE))
    assert (document.type.coding[0].system, document.type.coding[0].code) == (LOINC, "28570-0")
    assert document.category[0].coding[0].code == "clinical-note"
    attachment = document.content[0].attachment
    assert attachment.contentType == "application/pdf"
    assert attachment.url.startswith("https://clinic.example/")
    assert attachment.url == f"{BASE}/Binary/{document.id}"  # the PDF as a Binary (fhir/binary.py)
    assert resolve(attachment.url.removeprefix("https://clinic.example")).view_name == "fhir:binary"
    assert document_reference.get(document.id, clinic.clinics[0]).pk == note.pk

    visit = note.assessment
    visit_document = DocumentReference.model_validate(document_reference.to_resource(visit, base_url=BASE))
    assert visit_document.type.coding[0].code == "11488-4"
    assert visit_document.content[0].attachment.url == f"{BASE}/Binary/visit-{visit.public_id}"
    assert visit_document.context.encounter[0].reference == f"Encounter/{visit.public_id}"
    listed = list(document_reference.resources_for_patient([note.patient_id], clinic.clinics[0]))
    assert note in listed and visit in listed

    signature = Provenance.model_validate(provenance.to_resource(note, base_url=BASE))
    targets = [t.reference for t in signature.target]
    assert f"Procedure/{note.public_id}" in targets and f"DocumentReference/{document.id}" in targets
    assert signature.recorded.astimezone(UTC) == note.signed_at.replace(microsecond=0)
    agent = signature.agent[0]
    assert agent.type.coding[0].code == "author"
    assert agent.who.display == note.signed_by.get_full_name()
    assert agent.onBehalfOf.reference == f"Organization/{note.clinic.public_id}"


def test_the_aftercare_plan_is_an_assess_plan_care_plan_with_its_narrative(clinic):
    plans = list(care_plan.resources_for_patient([p.pk for p in clinic.patients], clinic.clinics[0]))
    assert plans
    plan = plans[0]
    parsed = CarePlan.model_validate(care_plan.to_resource(plan, base_url=BASE))
    assert parsed.category[0].coding[0].code == "assess-plan"
    assert parsed.intent == "plan" and parsed.status in ("active", "completed")
    first_task = plan.days[0]["tasks"][0]["text"]
    assert first_task.split(".")[0] in parsed.text.div
    assert f"Procedure/{plan.procedure.public_id}" in [s.reference for s in parsed.supportingInfo]
    assert care_plan.get(parsed.id, clinic.clinics[0]).pk == plan.pk
    assert care_plan.get(parsed.id, clinic.clinics[1]) is None


def _png_data_url() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (60, 20), (0, 0, 0, 255)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _screening(ctx, **today):
    from triggerpoint.patients.models import Patient
    from triggerpoint.screening import services as screening_services

    physician, nurse = ctx.staff["dr.rivera"], ctx.staff["nurse.okafor"]
    patient = next(p for p in ctx.patients if p.clinic_id == ctx.clinics[0].pk)
    Patient.objects.filter(pk=patient.pk).update(allergy_status="nkda")
    patient.refresh_from_db()
    plan = {"sites": [{"muscle": "upper_trapezius", "side": "left"}], "injectates": [{"drug": "lidocaine"}],
            "guidance": "landmark"}
    answers = {"events": [], "pregnant": "no", "prior_vasovagal": False,
               "today": {"feels_unwell": False, "on_antibiotics": False, "infection_at_site": False,
                         "temperature": {"value": 98.2, "unit": "F"}, **today}}
    with acting_as(physician):
        screening = screening_services.create_screening(physician, patient, timezone.localdate() + timedelta(days=3), plan)
    with acting_as(nurse):
        return screening_services.record_answers(screening, answers, source="staff", user=nurse), nurse


def test_a_signed_consent_is_a_treatment_consent_with_its_pdf(clinic):
    from triggerpoint.screening import consent_records

    screening, nurse = _screening(clinic)
    with acting_as(nurse):
        unsigned = consent_records.generate_consent(nurse, screening)
        consent_records.sign_consent(nurse, unsigned, signer_name="Pat Example", signature_kind="drawn",
                                     signature_image=_png_data_url(), acknowledged=True, witness_name="Nina Nurse",
                                     expected_version=unsigned.version)
    assert list(consent.resources_for_patient([screening.patient_id], clinic.clinics[1])) == []
    signed = consent.get(str(unsigned.public_id), clinic.clinics[0])
    parsed = Consent.model_validate(consent.to_resource(signed, base_url=BASE))
    assert parsed.scope.coding[0].code == "treatment"
    assert (parsed.category[0].coding[0].system, parsed.category[0].coding[0].code) == (LOINC, "59284-0")
    assert parsed.patient.reference == f"Patient/{screening.patient.public_id}"
    assert parsed.sourceAttachment.contentType == "application/pdf"
    assert parsed.sourceAttachment.url == f"{BASE}/Binary/consent-{signed.public_id}"
    assert resolve(parsed.sourceAttachment.url.removeprefix("https://clinic.example")).view_name == "fhir:binary"
    assert parsed.dateTime is not None and parsed.policyRule is not None  # ppc-1


def test_screening_findings_are_detected_issues_and_triage_alerts_are_flags(clinic):
    screening, _nurse = _screening(clinic, feels_unwell=True)
    assert screening.status == "defer"
    issues = list(flag.detected_issues_for_patient([screening.patient_id], clinic.clinics[0]))
    assert [i.pk for i in issues] == [screening.pk]
    parsed = DetectedIssue.model_validate(flag.to_resource(screening, base_url=BASE))
    assert parsed.severity == "high"  # a deferral
    assert parsed.patient.reference == f"Patient/{screening.patient.public_id}"
    findings = [f for f in screening.findings if f["severity"] != "info"]
    assert [e.code[0].text for e in parsed.evidence] == [f["message"] for f in findings]
    assert [e.code[0].coding[0].code for e in parsed.evidence] == [f["rule_id"] for f in findings]
    assert flag.get_detected_issue(parsed.id, clinic.clinics[0]).pk == screening.pk
    assert flag.get_detected_issue(parsed.id, clinic.clinics[1]) is None

    alerts = list(flag.flags_for_patient([p.pk for p in clinic.patients], clinic.clinics[0]))
    assert alerts
    for alert in alerts:
        parsed = Flag.model_validate(flag.to_resource(alert, base_url=BASE))
        assert parsed.status == ("inactive" if alert.status == "resolved" else "active")
        assert parsed.code.coding[0].code == alert.disposition
        assert parsed.subject.reference == f"Patient/{alert.patient.public_id}"
        assert flag.get_flag(parsed.id, clinic.clinics[0]).pk == alert.pk
        assert flag.get_flag(parsed.id, clinic.clinics[1]) is None


@pytest.mark.parametrize("module", [procedure, body_structure, medication_administration, observation,
                                    questionnaire_response, document_reference, provenance, care_plan, consent])
@pytest.mark.parametrize("bad", ["not-an-id", "00000000-0000-0000-0000-000000000000", "", "x" * 70])
def test_an_id_that_names_nothing_finds_nothing(db, clinic_a, module, bad):
    assert module.get(bad, clinic_a) is None
    assert flag.get_flag(bad, clinic_a) is None and flag.get_detected_issue(bad, clinic_a) is None


def test_provenance_is_found_by_what_it_targets_for_revinclude(clinic):
    note = _note(clinic)
    signatures = provenance.records(clinic_id=clinic.clinics[0].pk)
    site = body_structure.to_resource(body_structure.ordered_sites(note)[0], base_url=BASE)["id"]
    for ref in (f"Procedure/{note.public_id}", f"DocumentReference/note-{note.public_id}",
                f"MedicationAdministration/{note.public_id}-m1", f"BodyStructure/{site}"):
        assert [p.pk for p in provenance.filter_targets(signatures, [ref])] == [note.pk]
    assert not provenance.filter_targets(signatures, [f"Procedure/{clinic.patients[0].public_id}", "Patient/x"]).exists()
    assert provenance.get(f"note-{note.public_id}", clinic.clinics[0]).pk == note.pk
    assert provenance.get(f"note-{note.public_id}", clinic.clinics[1]) is None

    visit = note.assessment  # the assessment's signature: its Encounter, summary PDF and diagnoses
    signed = Provenance.model_validate(provenance.to_resource(visit, base_url=BASE))
    diagnosis = visit.diagnoses.first()
    assert {t.reference for t in signed.target} >= {
        f"Encounter/{visit.public_id}", f"DocumentReference/visit-{visit.public_id}", f"Condition/{diagnosis.public_id}"}
    visits = provenance.visit_records(clinic_id=clinic.clinics[0].pk)
    for ref in (f"Encounter/{visit.public_id}", f"Condition/{diagnosis.public_id}"):
        assert [v.pk for v in provenance.filter_visit_targets(visits, [ref])] == [visit.pk]
    assert provenance.get(signed.id, clinic.clinics[0]).pk == visit.pk
    assert signed.recorded.astimezone(UTC) == visit.signed_at.replace(microsecond=0)


def test_the_observation_sources_serve_one_row_per_resource_and_filter_by_code(clinic):
    note = _note(clinic)
    measurements = _record_outcomes(note)
    ours = {m.pk for m in measurements}
    served = set()
    for part in observation.all_parts():
        rows = [m for m in observation.records(part, clinic_id=clinic.clinics[0].pk) if m.pk in ours]
        served |= {observation.mapper(part)(m, base_url=BASE)["id"] for m in rows}
        for m in rows:
            resource_id = observation.mapper(part)(m, base_url=BASE)["id"]
            assert list(observation.id_filter(part)(observation.records(part), [resource_id])) == [m]
    expected = {r["id"] for m in measurements for r in observation.to_resources(m, base_url=BASE)}
    assert served == expected
    nrs_now = ("nrs_pain", "now")
    matching = observation.code_filter(nrs_now, BASE)(observation.records(nrs_now), [(LOINC, "72514-3")])
    assert {m.pk for m in matching} & ours == {m.pk for m in measurements if m.instrument == "nrs_pain"}
    assert not observation.code_filter(nrs_now, BASE)(observation.records(nrs_now), [(LOINC, "0000-0")]).exists()
