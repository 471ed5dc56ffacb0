"""Real FHIR clients against a live server on loopback: fhirpy (SyncFHIRClient) and SMART's fhirclient
run the US Core Patient and Encounter searches with a clinic bearer token.

fhirclient parses every resource with its own R4 (4.0.1) models, strictly: a field of the wrong
type or a missing required one fails here. Both follow `Bundle.link` next to page through results.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def small_demo(transactional_db):
    from triggerpoint.shell.demo_clinic import build_demo

    return build_demo(patients=12, seed=7)


@pytest.fixture
def live_token(small_demo):
    from triggerpoint.accounts.models import ApiToken

    _token, raw = ApiToken.issue(small_demo.staff["dr.rivera"], "live client")
    return raw


def _subject(small_demo):
    from triggerpoint.assessment.visit_reads import signed_visits

    riverside = [p for p in small_demo.patients if p.clinic_id == small_demo.clinics[0].pk]
    return max(riverside, key=lambda p: (signed_visits(patient=p).count(), p.pk))


def test_fhirpy_runs_the_us_core_patient_and_encounter_searches(live_server, small_demo, live_token):
    from fhirpy import SyncFHIRClient
    from fhirpy.base.exceptions import OperationOutcome

    client = SyncFHIRClient(f"{live_server.url}/fhir/R4", authorization=f"Bearer {live_token}",
                            extra_headers={"Accept": "application/fhir+json"})
    patient = _subject(small_demo)
    pid = str(patient.public_id)
    patients = client.resources("Patient")
    assert patients.search(_id=pid).get()["id"] == pid
    found = patients.search(identifier=f"urn:uuid:{patient.clinic.public_id}|{patient.mrn}").fetch()
    assert [p["id"] for p in found] == [pid]
    assert pid in [p["id"] for p in patients.search(name=patient.family_name).fetch_all()]
    assert pid in [p["id"] for p in patients.search(birthdate=patient.date_of_birth.isoformat(),
                                                      name=patient.family_name).fetch_all()]
    assert pid in [p["id"] for p in patients.search(gender=patient.sex, name=patient.given_name).fetch_all()]
    everyone = patients.limit(2).fetch_all()  # follows next links two at a time
    riverside = [p for p in small_demo.patients if p.clinic_id == small_demo.clinics[0].pk]
    assert sorted(p["id"] for p in everyone) == sorted(str(p.public_id) for p in riverside)

    encounters = client.resources("Encounter")
    mine = encounters.search(patient=pid).limit(3).fetch_all()
    assert mine and all(e["subject"]["reference"] == f"Patient/{pid}" for e in mine)
    first_day = min(e["period"]["start"][:10] for e in mine)
    dated = encounters.search(patient=pid, date=f"ge{first_day}").fetch_all()
    assert len(dated) == len(mine)
    assert encounters.search(patient=pid, date="gt9999-01-01").fetch_all() == []
    assert encounters.search(_id=mine[0]["id"]).get()["id"] == mine[0]["id"]
    read = client.reference("Patient", pid).to_resource()
    assert read["birthDate"] == patient.date_of_birth.isoformat()
    with pytest.raises(OperationOutcome):
        patients.search(shoe_size="42").fetch()


def test_fhirclient_parses_what_the_us_core_searches_return(live_server, small_demo, live_token):
    from fhirclient import client as smart_client
    from fhirclient.models.encounter import Encounter
    from fhirclient.models.patient import Patient

    smart = smart_client.FHIRClient(settings={"app_id": "triggerpoint-test", "api_base": f"{live_server.url}/fhir/R4/"})
    server = smart.server
    server.session.headers["Authorization"] = f"Bearer {live_token}"
    patient = _subject(small_demo)
    pid = str(patient.public_id)

    read = Patient.read(pid, server)
    assert read.identifier[0].value == patient.mrn and read.birthDate.isostring == patient.date_of_birth.isoformat()
    by_name = list(Patient.where(struct={"name": patient.family_name}).perform_resources_iter(server))
    assert pid in [p.id for p in by_name]
    by_birth = list(Patient.where(struct={"birthdate": patient.date_of_birth.isoformat(),
                                     "name": patient.family_name}).perform_resources_iter(server))
    assert pid in [p.id for p in by_birth]
    by_gender = list(Patient.where(struct={"gender": patient.sex, "name": patient.family_name}).perform_resources_iter(server))
    assert pid in [p.id for p in by_gender]
    assert [p.id for p in list(Patient.where(struct={"identifier": patient.mrn}).perform_resources_iter(server))] == [pid]
    assert [p.id for p in list(Patient.where(struct={"_id": pid}).perform_resources_iter(server))] == [pid]

    encounters = list(Encounter.where(struct={"patient": pid, "_count": "2"}).perform_resources_iter(server))
    from triggerpoint.assessment.visit_reads import signed_visits
    from triggerpoint.procedures.selectors import signed_procedures

    expected = signed_visits(patient=patient).count() + signed_procedures(patient=patient).count()
    assert expected > 2 and len(encounters) == expected  # pages of two, followed to the end
    assert all(e.subject.reference == f"Patient/{pid}" for e in encounters)
    assert all(e.status == "finished" and e.class_fhir.code == "AMB" for e in encounters)
    first_day = min(e.period.start.isostring[:10] for e in encounters)
    dated = list(Encounter.where(struct={"patient": pid, "date": f"ge{first_day}"}).perform_resources_iter(server))
    assert len(dated) == len(encounters)

    capability = server.request_json("metadata")
    assert capability["fhirVersion"] == "4.0.1"
    server.session.close()  # no keep-alive connection left for the live server to serve after the test
