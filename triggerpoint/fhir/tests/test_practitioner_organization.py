"""Practitioner (the clinic's staff) and Organization (the clinic) on /fhir/R4/ (issue 18).

Given the demo clinic: the references the clinical resources emit (Procedure.performer.actor,
Provenance.agent.who, Encounter.participant.individual, onBehalfOf and serviceProvider) resolve to a
200; staff of the same clinic read and search them, another clinic's are never found; they are not
patient data, so nothing is audited per patient and `$everything` never includes them.
"""

from __future__ import annotations

import pytest

from triggerpoint.audit.models import AuditEvent
from triggerpoint.fhir.mapping import directory
from triggerpoint.fhir.tests.conftest import richest_patient

pytestmark = pytest.mark.django_db


def _ids(bundle):
    return [e["resource"]["id"] for e in bundle["entry"]]


def _all(client, url, headers):
    resources = []
    while url:
        response = client.get(url, **headers)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        resources += [e["resource"] for e in body["entry"]]
        found = [link["url"] for link in body["link"] if link["relation"] == "next"]
        url = found[0].removeprefix("http://testserver") if found else None
    return resources


def _references(resource, kind):
    found, stack = [], [resource]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("reference")
            if isinstance(ref, str) and ref.startswith(f"{kind}/"):
                found.append(ref)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def test_the_references_the_clinical_resources_emit_resolve(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    patient = richest_patient(fhir_demo)
    followed = {}
    for kind, path in (("Procedure", "performer.actor"), ("Provenance", "agent.who"),
                       ("Encounter", "participant.individual")):
        resources = _all(client, f"/fhir/R4/{kind}?patient={patient.public_id}&_count=100", headers)
        assert resources, kind
        practitioners = {ref for r in resources for ref in _references(r, "Practitioner")}
        organizations = {ref for r in resources for ref in _references(r, "Organization")}
        assert practitioners, f"{kind}.{path} names no Practitioner"
        followed[kind] = practitioners
        for ref in practitioners | organizations:
            response = client.get(f"/fhir/R4/{ref}", **headers)
            assert response.status_code == 200, (kind, ref, response.content[:300])
            body = response.json()
            assert f"{body['resourceType']}/{body['id']}" == ref
    procedure = _all(client, f"/fhir/R4/Procedure?patient={patient.public_id}", headers)[0]
    performer = client.get(f"/fhir/R4/{procedure['performer'][0]['actor']['reference']}", **headers).json()
    assert performer["name"][0]["text"] == procedure["performer"][0]["actor"]["display"]
    clinic = fhir_demo.clinics[0]
    assert procedure["performer"][0]["onBehalfOf"]["reference"] == f"Organization/{clinic.public_id}"


def test_a_practitioner_is_a_us_core_practitioner_named_by_username(client, fhir_demo, token_for):
    rivera = fhir_demo.staff["dr.rivera"]
    body = client.get(f"/fhir/R4/Practitioner/{rivera.public_id}", **token_for(fhir_demo.staff["desk.lopez"])).json()
    assert body["meta"]["profile"] == [directory.PROFILE_PRACTITIONER]
    assert body["identifier"] == [{"system": directory.username_system(), "value": "dr.rivera"}]
    assert body["name"][0]["family"] == "Rivera" and body["name"][0]["given"] == ["Ana"]
    assert body["active"] is True


def test_the_organization_is_the_callers_clinic(client, fhir_demo, token_for):
    riverside, hillcrest = fhir_demo.clinics
    headers = token_for(fhir_demo.staff["analyst.kim"])
    body = client.get(f"/fhir/R4/Organization/{riverside.public_id}", **headers).json()
    assert body["name"] == riverside.name and body["active"] is True
    assert body["meta"]["profile"] == [directory.PROFILE_ORGANIZATION]
    assert body["identifier"][0] == {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{riverside.public_id}"}
    assert body["telecom"][0]["value"] == riverside.phone and body["address"][0]["text"] == riverside.address
    assert _ids(client.get("/fhir/R4/Organization", **headers).json()) == [str(riverside.public_id)]
    assert client.get(f"/fhir/R4/Organization/{hillcrest.public_id}", **headers).status_code == 404


def test_searches_by_id_name_and_identifier_within_the_clinic(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["nurse.okafor"])
    staff = fhir_demo.staff
    riverside_staff = {str(u.public_id) for u in staff.values() if u.clinic_id == fhir_demo.clinics[0].pk}

    def search(kind, **params):
        response = client.get(f"/fhir/R4/{kind}", params, **headers)
        assert response.status_code == 200, response.content[:300]
        return set(_ids(response.json()))

    assert search("Practitioner", _count=100) >= riverside_staff
    assert str(staff["dr.berg"].public_id) not in search("Practitioner", _count=100)
    assert search("Practitioner", _id=str(staff["dr.chen"].public_id)) == {str(staff["dr.chen"].public_id)}
    assert search("Practitioner", name="riv") == {str(staff["dr.rivera"].public_id)}
    assert search("Practitioner", name="Ana") == {str(staff["dr.rivera"].public_id)}
    assert search("Practitioner", name="Berg") == set()  # Hillcrest's
    assert search("Practitioner", identifier="dr.chen") == {str(staff["dr.chen"].public_id)}
    assert search("Practitioner", identifier=f"{directory.username_system()}|dr.chen") == {
        str(staff["dr.chen"].public_id)}
    assert search("Practitioner", identifier="http://example.org/npi|dr.chen") == set()
    assert search("Practitioner", identifier="dr.berg") == set()
    assert client.get(f"/fhir/R4/Practitioner/{staff['dr.berg'].public_id}", **headers).status_code == 404
    riverside = str(fhir_demo.clinics[0].public_id)
    assert search("Organization", name="Riverside") == {riverside} and search("Organization", name="spine") == {riverside}
    assert search("Organization", name="Hillcrest") == set()
    assert search("Organization", _id=riverside) == {riverside}
    for bad in ({"identifier": ""}, {"name:exact": "x"}, {"gender": "female"}):
        response = client.get("/fhir/R4/Practitioner", bad, **headers)
        assert response.status_code == 400 and response.json()["resourceType"] == "OperationOutcome"


def test_who_may_read_them_and_that_nothing_is_audited_per_patient(client, fhir_demo, token_for):
    rivera = fhir_demo.staff["dr.rivera"]
    organization = f"/fhir/R4/Organization/{fhir_demo.clinics[0].public_id}"
    for username in ("dr.rivera", "nurse.okafor", "desk.lopez", "analyst.kim", "admin.patel"):
        headers = token_for(fhir_demo.staff[username])
        assert client.get(f"/fhir/R4/Practitioner/{rivera.public_id}", **headers).status_code == 200
        assert client.get(organization, **headers).status_code == 200
    assert client.get(f"/fhir/R4/Practitioner/{rivera.public_id}").status_code == 401
    portal = next(p for p in fhir_demo.patients if p.portal_user_id)
    client.force_login(portal.portal_user)
    refused = client.get(f"/fhir/R4/Practitioner/{rivera.public_id}")
    assert refused.status_code == 403 and refused.json()["resourceType"] == "OperationOutcome"
    assert client.get("/fhir/R4/Practitioner").status_code == 403  # usernames are not the patient's to list
    assert client.get(organization).status_code == 200  # the custodian of their own records
    client.logout()
    before = AuditEvent.objects.latest("pk").pk
    headers = token_for(fhir_demo.staff["dr.chen"])
    client.get(f"/fhir/R4/Practitioner/{rivera.public_id}", **headers)
    client.get("/fhir/R4/Practitioner?_count=50", **headers)
    client.get("/fhir/R4/Organization", **headers)
    written = AuditEvent.objects.filter(pk__gt=before)
    assert not written.filter(patient__isnull=False).exists()
    assert not written.filter(action__startswith="fhir.").exists()


def test_demo_practitioners_and_organizations_pass_the_independent_validators(client, fhir_demo, token_for,
                                                                             fhir_validator):
    resources = []
    for user in (fhir_demo.staff["admin.patel"], fhir_demo.staff["dr.berg"]):  # one of each clinic
        headers = token_for(user)
        resources += _all(client, "/fhir/R4/Practitioner?_count=100", headers)
        resources += _all(client, "/fhir/R4/Organization", headers)
    assert {r["resourceType"] for r in resources} == {"Practitioner", "Organization"}
    assert len([r for r in resources if r["resourceType"] == "Practitioner"]) >= len(fhir_demo.staff)
    issues = fhir_validator.validate(resources)
    assert not fhir_validator.errors(issues), fhir_validator.explain(issues)
