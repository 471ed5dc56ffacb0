"""Every resource the demo clinic yields parses as its FHIR model (fhir.resources R4B: a model layer, not
a validator — the independent one is tests/validator.py) and claims its US Core profile.

The resources come through the HTTP interface (`$everything` of every Riverside patient), so what is
checked is what a client receives.
"""

from __future__ import annotations

import copy
import importlib

import pytest

from triggerpoint.fhir import registry

pytestmark = pytest.mark.django_db


def _model(resource_type: str):
    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    return getattr(module, resource_type)


def test_every_resource_of_every_demo_patient_parses_and_claims_its_profile(client, fhir_demo, token_for):
    from fhir.resources.R4B.bundle import Bundle

    headers = token_for(fhir_demo.staff["dr.rivera"])
    seen: dict[str, int] = {}
    nkda = with_reaction = procedure_visits = 0
    for patient in (p for p in fhir_demo.patients if p.clinic_id == fhir_demo.clinics[0].pk):
        url = f"/fhir/R4/Patient/{patient.public_id}/$everything?_count=100"
        while url:
            response = client.get(url, **headers)
            assert response.status_code == 200, response.content[:300]
            body = response.json()
            Bundle.model_validate(body)
            for entry in body["entry"]:
                resource = entry["resource"]
                kind = resource["resourceType"]
                _model(kind).model_validate(resource)
                profile = registry.get(kind).profile
                assert resource.get("meta", {}).get("profile") == ([profile] if profile else None), kind
                assert entry["fullUrl"].endswith(f"/{kind}/{resource['id']}")
                seen[kind] = seen.get(kind, 0) + 1
                if kind == "AllergyIntolerance" and resource["id"].startswith("nkda-"):
                    nkda += 1
                    assert resource["code"]["coding"][0]["code"] == "409137002"
                    assert resource["verificationStatus"]["coding"][0]["code"] == "confirmed"
                if kind == "AllergyIntolerance" and "reaction" in resource:
                    with_reaction += 1
                if kind == "Encounter" and resource["type"][0]["text"].startswith("Trigger point injection"):
                    procedure_visits += 1
            next_link = [link["url"] for link in body["link"] if link["relation"] == "next"]
            url = next_link[0].removeprefix("http://testserver") if next_link else None
    assert set(seen) == {"Patient", "AllergyIntolerance", "Condition", "Encounter", "Procedure", "Provenance",
                         "BodyStructure", "MedicationAdministration", "Observation",
                         "QuestionnaireResponse", "Flag", "DetectedIssue", "DocumentReference", "CarePlan", "Consent"}, seen
    assert seen["Consent"] == 2 and seen["CarePlan"] >= 10 and seen["DocumentReference"] > seen["Procedure"], seen
    assert seen["Patient"] == 35 and seen["Encounter"] >= 20 and seen["Condition"] >= 10, seen
    assert nkda >= 5 and with_reaction >= 1 and procedure_visits >= 5, (nkda, with_reaction, procedure_visits)


def test_a_patient_never_asked_about_allergies_has_no_allergy_resource(client, fhir_demo, token_for):
    from triggerpoint.patients.models import Patient

    patient = next(p for p in fhir_demo.patients if p.clinic_id == fhir_demo.clinics[0].pk
                   and not p.allergies.exists())
    headers = token_for(fhir_demo.staff["nurse.okafor"])
    found = client.get(f"/fhir/R4/AllergyIntolerance?patient={patient.public_id}", **headers).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [f"nkda-{patient.public_id}"]
    Patient.objects.filter(pk=patient.pk).update(allergy_status="unknown")
    found = client.get(f"/fhir/R4/AllergyIntolerance?patient={patient.public_id}", **headers).json()
    assert found["total"] == 0 and found["entry"] == []


def test_a_diagnosis_taken_off_by_an_amendment_reads_as_entered_in_error(client, fhir_demo, token_for):
    from triggerpoint.assessment.visit_reads import signed_visit_diagnoses

    diagnosis = signed_visit_diagnoses(clinic_id=fhir_demo.clinics[0].pk).first()
    visit = diagnosis.visit
    headers = token_for(fhir_demo.staff["dr.rivera"])
    body = client.get(f"/fhir/R4/Condition/{diagnosis.public_id}", **headers).json()
    assert body["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert body["encounter"]["reference"] == f"Encounter/{visit.public_id}"
    assert body["code"]["coding"][0] == {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": diagnosis.code,
                                         "display": diagnosis.description}
    visit.amendments.create(clinic=visit.clinic, reason="wrong code", author=fhir_demo.staff["dr.rivera"],
                            amended_at=visit.signed_at,
                            changes={"diagnoses": {"before": [], "after": [{"code": "M79.18", "is_primary": True}]}})
    body = client.get(f"/fhir/R4/Condition/{diagnosis.public_id}", **headers).json()
    expected = "confirmed" if diagnosis.code == "M79.18" else "entered-in-error"
    assert body["verificationStatus"]["coding"][0]["code"] == expected


def test_the_richest_patients_everything_passes_the_independent_validators(client, fhir_demo, token_for, fhir_validator):
    """Every page of `$everything` for the demo's richest chart, validated as received (Medplum R4 + US Core, FHIR.js)."""
    from triggerpoint.fhir.tests.conftest import richest_patient

    patient = richest_patient(fhir_demo)
    headers = token_for(fhir_demo.staff["dr.rivera"])
    pages, kinds, url = [], set(), f"/fhir/R4/Patient/{patient.public_id}/$everything?_count=100"
    while url:
        body = client.get(url, **headers).json()
        pages.append(body)
        kinds |= {e["resource"]["resourceType"] for e in body["entry"]}
        more = [link["url"] for link in body["link"] if link["relation"] == "next"]
        url = more[0].removeprefix("http://testserver") if more else None
    assert {"Procedure", "Provenance", "BodyStructure", "MedicationAdministration", "Observation"} <= kinds, kinds
    found = [issue for page in pages for issue in fhir_validator.errors(fhir_validator.validate(page))]
    assert found == [], fhir_validator.explain(found)
    broken = copy.deepcopy(pages[-1])  # the check can fail: a code outside a required binding is caught
    broken["entry"][-1]["resource"]["status"] = "not-a-status"
    assert fhir_validator.errors(fhir_validator.validate(broken))
