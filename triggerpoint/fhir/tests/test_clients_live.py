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


def test_a_smart_backend_client_gets_its_token_with_a_signed_jwt_and_fhirpy_searches_with_it(live_server,
                                                                                               small_demo):
    """The whole SMART Backend Services exchange as a client does it, over HTTP: its own key pair, an RS384
    assertion for the token endpoint it reached, `client_credentials`, then US Core searches with the token
    (fhirpy), limited to the scopes it was granted."""
    import requests
    from fhirpy import SyncFHIRClient
    from fhirpy.base.exceptions import ForbiddenError

    from triggerpoint.accounts import smart_clients
    from triggerpoint.accounts.tests import smart_client_kit as kit

    key = kit.rsa_key("ehr-1")
    registered = smart_clients.register_client(
        small_demo.staff["admin.patel"], name="County EHR", keys=kit.public_jwks(key),
        scopes="system/Patient.read system/Procedure.read system/Observation.read")
    token_url = f"{live_server.url}{kit.TOKEN_PATH}"
    assertion = kit.sign(key, registered.client_id, aud=token_url)
    answer = requests.post(token_url, data={
        "grant_type": "client_credentials", "client_assertion_type": kit.ASSERTION_TYPE,
        "client_assertion": assertion, "scope": "system/Patient.read system/Procedure.read"}, timeout=30)
    assert answer.status_code == 200, answer.text
    grant = answer.json()
    assert grant["token_type"].lower() == "bearer" and set(grant["scope"].split()) == {
        "system/Patient.read", "system/Procedure.read"}
    replayed = requests.post(token_url, data={
        "grant_type": "client_credentials", "client_assertion_type": kit.ASSERTION_TYPE,
        "client_assertion": assertion, "scope": "system/Patient.read"}, timeout=30)
    assert replayed.status_code in (400, 401), "an assertion is good once (its jti)"

    client = SyncFHIRClient(f"{live_server.url}/fhir/R4", authorization=f"Bearer {grant['access_token']}",
                            extra_headers={"Accept": "application/fhir+json"})
    patient = _subject(small_demo)
    pid = str(patient.public_id)
    assert client.resources("Patient").search(_id=pid).get()["id"] == pid
    notes = client.resources("Procedure").search(patient=pid).fetch_all()
    from triggerpoint.procedures.selectors import signed_procedures

    assert len(notes) == signed_procedures(patient=patient).count() > 0
    first_day = min(n["performedDateTime"][:10] for n in notes)
    assert len(client.resources("Procedure").search(patient=pid, date=f"ge{first_day}").fetch_all()) == len(notes)
    with pytest.raises(ForbiddenError, match="does not include Observation"):  # granted Patient and Procedure only
        client.resources("Observation").search(patient=pid).fetch()
    other_clinic = next(p for p in small_demo.patients if p.clinic_id != patient.clinic_id)
    assert client.resources("Patient").search(_id=str(other_clinic.public_id)).fetch() == []
