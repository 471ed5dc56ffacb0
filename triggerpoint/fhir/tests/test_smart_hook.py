"""The SMART Backend Services hook: a grant from `accounts.smart.authenticate_access_token` (a separate
branch; a stand-in here with the agreed shape: `.clinic`, `.scopes`, `.allows(type)`, `.actor`) becomes a
principal for its clinic, limited per resource type by its scopes, and audited under its actor.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from triggerpoint.accounts import smart_clients
from triggerpoint.accounts.smart import token_endpoint_url
from triggerpoint.fhir import auth
from triggerpoint.fhir.tests.conftest import richest_patient

pytestmark = pytest.mark.django_db


@dataclass
class StandInGrant:
    clinic: object
    scopes: tuple[str, ...]
    actor: object = None

    def allows(self, resource_type: str) -> bool:
        return "system/*.read" in self.scopes or f"system/{resource_type}.read" in self.scopes


@pytest.fixture
def smart(monkeypatch, fhir_demo):
    grants = {"good-patient-only": StandInGrant(fhir_demo.clinics[0], ("system/Patient.read",),
                                                fhir_demo.staff["admin.patel"]),
              "good-all": StandInGrant(fhir_demo.clinics[0], ("system/*.read",), fhir_demo.staff["admin.patel"])}
    monkeypatch.setattr(auth, "SMART_AUTHENTICATE", grants.get)
    return grants


def test_a_grant_reads_what_its_scopes_cover_in_its_clinic_only(client, fhir_demo, smart):
    patient = richest_patient(fhir_demo)
    only_patient = {"HTTP_AUTHORIZATION": "Bearer good-patient-only"}
    assert client.get(f"/fhir/R4/Patient/{patient.public_id}", **only_patient).status_code == 200
    refused = client.get(f"/fhir/R4/Encounter?patient={patient.public_id}", **only_patient)
    assert refused.status_code == 403 and refused.json()["resourceType"] == "OperationOutcome"
    everything = {"HTTP_AUTHORIZATION": "Bearer good-all"}
    found = client.get(f"/fhir/R4/Encounter?patient={patient.public_id}", **everything).json()
    assert found["total"] > 0
    hillcrest = next(p for p in fhir_demo.patients if p.clinic_id == fhir_demo.clinics[1].pk)
    assert client.get(f"/fhir/R4/Patient/{hillcrest.public_id}", **everything).status_code == 404


def test_a_grant_is_audited_under_its_actor_and_an_unknown_token_is_401(client, fhir_demo, smart):
    from triggerpoint.audit.models import AuditEvent

    patient = richest_patient(fhir_demo)
    client.get(f"/fhir/R4/Patient/{patient.public_id}", HTTP_AUTHORIZATION="Bearer good-all")
    event = AuditEvent.objects.filter(action="fhir.resource.read").latest("pk")
    assert event.actor == fhir_demo.staff["admin.patel"] and event.patient_id == patient.pk
    response = client.get("/fhir/R4/Patient", HTTP_AUTHORIZATION="Bearer nobody-issued-this")
    assert response.status_code == 401 and 'error="invalid_token"' in response["WWW-Authenticate"]


@pytest.mark.django_db
def test_a_real_smart_token_reads_within_its_scopes_and_is_refused_outside_them(client, patient, clinic_admin):
    """End to end through `accounts.smart`: register a client, sign an assertion as a client does, read."""
    admin = clinic_admin
    assert admin.clinic_id == patient.clinic_id
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    registered = smart_clients.register_client(admin, name="warehouse", scopes="system/Patient.read",
                                               keys=json.dumps({"keys": [key.as_dict(private=False)]}))
    now = int(time.time())
    assertion = jwt.encode({"alg": "RS384", "kid": "k1"}, {
        "iss": registered.client_id, "sub": registered.client_id, "aud": token_endpoint_url(),
        "exp": now + 240, "iat": now, "jti": uuid.uuid4().hex}, key, algorithms=["RS384"])
    issued = client.post("/accounts/smart/token", content_type="application/x-www-form-urlencoded", data=urlencode({
        "grant_type": "client_credentials", "scope": "system/Patient.read",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion}))
    assert issued.status_code == 200, issued.content
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {issued.json()['access_token']}"}
    read = client.get(f"/fhir/R4/Patient/{patient.public_id}", **bearer)
    assert read.status_code == 200 and read.json()["id"] == str(patient.public_id)
    refused = client.get(f"/fhir/R4/AllergyIntolerance?patient={patient.public_id}", **bearer)
    assert refused.status_code == 403 and refused.json()["resourceType"] == "OperationOutcome"
    discovery = client.get("/fhir/R4/.well-known/smart-configuration").json()
    assert discovery["token_endpoint"].endswith("/accounts/smart/token")
    metadata = client.get("/fhir/R4/metadata").json()
    assert token_endpoint_url() in json.dumps(metadata["rest"][0]["security"])
