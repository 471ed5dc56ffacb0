"""SMART Backend Services token endpoint: a real client flow, then every way to be refused (never a 500)."""

from __future__ import annotations

import dataclasses
import json
import random
import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from freezegun import freeze_time

from triggerpoint.accounts import smart, smart_clients
from triggerpoint.accounts.models import SmartAccessToken, SmartAssertionUse
from triggerpoint.accounts.smart import authenticate_access_token
from triggerpoint.accounts.tests import smart_client_kit as kit
from triggerpoint.audit.models import AuditEvent


@pytest.fixture
def rsa():
    return kit.rsa_key("rsa-1")


@pytest.fixture
def ec():
    return kit.ec_key("ec-1")


@pytest.fixture
def registered(clinic_admin, rsa, ec):
    return smart_clients.register_client(clinic_admin, name="County EHR", keys=kit.public_jwks(rsa, ec),
                                         scopes="system/Patient.read system/Observation.rs system/Procedure.r")


def _token(client, assertion, **form):
    return kit.post_token(client, kit.token_form(assertion, **form))


def _refused(response, error: str, status: int):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error, body
    assert body["error_description"]
    assert response["Cache-Control"] == "no-store"
    return body


# ------------------------------------------------------------------ the flow a real client runs
@pytest.mark.parametrize("key_name", ["rsa", "ec"])
def test_a_client_signing_its_assertion_gets_a_token_and_the_fhir_layer_its_grant(client, registered, request,
                                                                                  key_name):
    key = request.getfixturevalue(key_name)
    assertion = kit.sign(key, registered.client_id)
    assert json.loads(kit.b64decode_header(assertion))["alg"] == ("RS384" if key_name == "rsa" else "ES384")

    response = _token(client, assertion, scope="system/Patient.read system/Observation.rs")

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store" and response["Pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 300
    assert body["scope"] == "system/Observation.rs system/Patient.read"
    assert body["access_token"].startswith("smt_")
    stored = SmartAccessToken.objects.get()
    assert body["access_token"] not in stored.token_hash and len(stored.token_hash) == 64  # only the hash

    grant = authenticate_access_token(body["access_token"])
    assert grant is not None
    assert grant.client_id == registered.client_id
    assert grant.clinic == registered.clinic
    assert grant.scopes == frozenset({"system/Patient.read", "system/Observation.rs"})
    assert grant.allows("Patient") and grant.allows("Patient", "search-type")
    assert grant.allows("Observation", "read") and grant.allows("Observation", "search-type")
    assert not grant.allows("Procedure") and not grant.allows("Encounter", "search-type")
    assert not grant.allows("Patient", "update") and not grant.allows("Patient", "create")
    with pytest.raises(dataclasses.FrozenInstanceError):
        grant.client_id = "other"  # type: ignore[misc]


def test_the_token_lives_five_minutes(client, registered, rsa):
    with freeze_time("2026-12-06 10:00:00"):
        raw = _token(client, kit.sign(rsa, registered.client_id)).json()["access_token"]
    with freeze_time("2026-12-06 10:04:59"):
        assert authenticate_access_token(raw) is not None
    with freeze_time("2026-12-06 10:05:00"):
        assert authenticate_access_token(raw) is None


@pytest.mark.parametrize("value", ["", "smt_", "smt_unknown", "tpc_abc", "x" * 500, None, 12])
def test_an_unknown_or_malformed_access_token_has_no_grant(db, value):
    assert authenticate_access_token(value) is None


def test_a_deactivated_clients_live_token_stops_working_and_it_gets_no_new_one(client, registered, rsa,
                                                                                clinic_admin):
    raw = _token(client, kit.sign(rsa, registered.client_id)).json()["access_token"]
    assert authenticate_access_token(raw) is not None
    assert smart_clients.deactivate_client(clinic_admin, registered)
    assert authenticate_access_token(raw) is None
    body = _refused(_token(client, kit.sign(rsa, registered.client_id)), "invalid_client", 401)
    assert "deactivated" in body["error_description"]


def test_the_configured_site_url_is_also_an_accepted_audience(client, registered, rsa):
    with override_settings(SITE_URL="https://clinic.example/"):
        ok = _token(client, kit.sign(rsa, registered.client_id, aud="https://clinic.example/accounts/smart/token"))
        assert ok.status_code == 200
        listed = _token(client, kit.sign(rsa, registered.client_id,
                                         aud=["https://other.example/token", "https://clinic.example/accounts/smart/token"]))
        assert listed.status_code == 200


# ------------------------------------------------------------------ refusals of client authentication
def _now():
    return int(time.time())


REFUSED_ASSERTIONS = {
    "expired": lambda k, cid: kit.sign(k, cid, now=_now() - 400, lifetime=300),
    "exp more than five minutes ahead": lambda k, cid: kit.sign(k, cid, lifetime=400),
    "no exp": lambda k, cid: kit.sign(k, cid, exp=None),
    "exp as text": lambda k, cid: kit.sign(k, cid, exp="soon"),
    "exp true": lambda k, cid: kit.sign(k, cid, exp=True),
    "iat in the future": lambda k, cid: kit.sign(k, cid, iat=_now() + 120),
    "nbf in the future": lambda k, cid: kit.sign(k, cid, nbf=_now() + 120),
    "wrong aud": lambda k, cid: kit.sign(k, cid, aud="https://evil.example/token"),
    "aud of the FHIR base": lambda k, cid: kit.sign(k, cid, aud="http://testserver/fhir/R4"),
    "no aud": lambda k, cid: kit.sign(k, cid, aud=None),
    "sub is not iss": lambda k, cid: kit.sign(k, cid, sub="someone-else"),
    "no jti": lambda k, cid: kit.sign(k, cid, jti=None),
    "jti not a string": lambda k, cid: kit.sign(k, cid, jti=12345),
    "jti too long": lambda k, cid: kit.sign(k, cid, jti="j" * 300),
    "unknown client": lambda k, cid: kit.sign(k, "smart-nobody"),
    "wrong kid": lambda k, cid: kit.sign(k, cid, kid="not-registered"),
    "registered kid, other key": lambda k, cid: kit.sign(kit.rsa_key("rsa-1"), cid),
    "alg none": lambda k, cid: kit.unsigned({"alg": "none", "kid": k.kid},
                                            {"iss": cid, "sub": cid, "aud": kit.AUDIENCE, "exp": _now() + 60,
                                             "jti": "n1"}),
    "HS256 keyed with the public key": lambda k, cid: kit.hs256_with_public_key(k, cid),
    "RS256 (not offered)": lambda k, cid: kit.sign(k, cid, alg="RS256"),
    "RS384 header on the EC key's kid": lambda k, cid: kit.sign(k, cid, kid="ec-1"),
    "no kid": lambda k, cid: kit.unsigned({"alg": "RS384"}, {"iss": cid}),
    "signature stripped": lambda k, cid: kit.sign(k, cid).rsplit(".", 1)[0] + ".",
    "not a JWT": lambda k, cid: "hello",
    "two parts": lambda k, cid: "abc.def",
    "garbage base64": lambda k, cid: "@@@.###.$$$",
    "header not JSON": lambda k, cid: kit.b64(b"not json") + "." + kit.b64(b"{}") + ".",
    "claims a list": lambda k, cid: kit.unsigned({"alg": "RS384", "kid": "rsa-1"}, [cid]),  # type: ignore[arg-type]
    "iss a number": lambda k, cid: kit.unsigned({"alg": "RS384", "kid": "rsa-1"}, {"iss": 7}),
    "JWE-shaped": lambda k, cid: "a.b.c.d.e",
}


@pytest.mark.parametrize("case", sorted(REFUSED_ASSERTIONS))
def test_a_bad_assertion_is_invalid_client_401(client, registered, rsa, case):
    assertion = REFUSED_ASSERTIONS[case](rsa, registered.client_id)
    _refused(_token(client, assertion), "invalid_client", 401)
    assert not SmartAccessToken.objects.exists()


def test_a_replayed_assertion_is_refused_and_audited(client, registered, rsa):
    assertion = kit.sign(rsa, registered.client_id)
    assert _token(client, assertion).status_code == 200
    body = _refused(_token(client, assertion), "invalid_client", 401)
    assert "already been used" in body["error_description"]
    assert SmartAccessToken.objects.count() == 1
    refusal = AuditEvent.objects.get(action="accounts.smart_token.refused")
    assert refusal.details["reason"] == body["error_description"]
    assert refusal.actor_label == f"smart:{registered.client_id}" and refusal.actor is None
    assert refusal.clinic_id == registered.clinic_id


def test_a_jti_is_kept_until_its_assertion_expires_then_forgotten(client, registered, rsa):
    with freeze_time("2026-12-06 10:00:00"):
        first = kit.sign(rsa, registered.client_id, now=time.time(), lifetime=60)
        assert _token(client, first).status_code == 200
        used = SmartAssertionUse.objects.get()
        assert used.expires_at == timezone.now() + timedelta(seconds=60 + smart.CLOCK_SKEW)
    with freeze_time("2026-12-06 10:02:00"):
        assert _token(client, kit.sign(rsa, registered.client_id, now=time.time())).status_code == 200
        assert list(SmartAssertionUse.objects.values_list("pk", flat=True)) != [used.pk]  # the old one is gone


def test_the_same_jti_from_two_clients_is_two_assertions(client, clinic_admin, registered, rsa):
    other_key = kit.rsa_key("other")
    other = smart_clients.register_client(clinic_admin, name="Registry", keys=kit.public_jwks(other_key),
                                          scopes="system/*.read")
    assert _token(client, kit.sign(rsa, registered.client_id, jti="shared")).status_code == 200
    assert _token(client, kit.sign(other_key, other.client_id, jti="shared")).status_code == 200


def test_exp_just_inside_five_minutes_is_accepted(client, registered, rsa):
    assert _token(client, kit.sign(rsa, registered.client_id, lifetime=300)).status_code == 200


# ------------------------------------------------------------------ refusals of the request's shape and scope
def test_request_shape_refusals(client, registered, rsa):
    good = kit.sign(rsa, registered.client_id)
    _refused(_token(client, good, grant_type="authorization_code"), "unsupported_grant_type", 400)
    _refused(kit.post_token(client, kit.token_form(good, grant_type=None)), "invalid_request", 400)
    _refused(_token(client, good, client_assertion_type="urn:x"), "invalid_client", 401)
    _refused(kit.post_token(client, "grant_type=client_credentials"), "invalid_client", 401)
    _refused(kit.post_token(client, json.dumps({"grant_type": "client_credentials"}), "application/json"),
             "invalid_request", 400)
    _refused(kit.post_token(client, kit.token_form(good) + "&scope=system/*.read"), "invalid_request", 400)
    _refused(_token(client, good, client_id="smart-someone-else"), "invalid_client", 401)
    _refused(_token(client, "x" * 20000), "invalid_client", 401)
    get = client.get(kit.TOKEN_PATH)
    assert get.status_code == 405 and get.json()["error"] == "invalid_request" and get["Allow"] == "POST"
    assert not SmartAccessToken.objects.exists()


def test_client_id_in_the_form_may_repeat_the_assertions_iss(client, registered, rsa):
    assert _token(client, kit.sign(rsa, registered.client_id), client_id=registered.client_id).status_code == 200


@pytest.mark.parametrize("scope, why", [
    (None, "required"),
    ("", "required"),
    ("system/Patient.write", "only read"),
    ("system/Patient.cruds", "only read"),
    ("system/*.*", "only read"),
    ("system/Patient.rs system/Patient.u", "only read"),
    ("patient/Patient.read", "system/"),
    ("user/*.read", "system/"),
    ("system/Spaceship.read", "no resource type"),
    ("system/Observation.rs?category=laboratory", "search constraints"),
    ("launch openid", "not a SMART scope"),
    ("system/Encounter.read", "None of the requested"),  # valid, but not registered for this client
])
def test_a_scope_that_cannot_be_granted_is_invalid_scope_400(client, registered, rsa, scope, why):
    body = _refused(_token(client, kit.sign(rsa, registered.client_id), scope=scope), "invalid_scope", 400)
    assert why in body["error_description"]
    assert not SmartAccessToken.objects.exists()


@pytest.mark.parametrize("asked, granted", [
    ("system/*.read", "system/Observation.read system/Patient.read system/Procedure.r"),  # in the syntax asked
    ("system/*.rs", "system/Observation.rs system/Patient.rs system/Procedure.r"),
    ("system/Patient.read system/Encounter.read", "system/Patient.read"),
    ("system/Observation.read", "system/Observation.read"),
    ("system/Procedure.read", "system/Procedure.r"),  # v1 cannot say "read but not search"
    ("system/Patient.s", "system/Patient.s"),
])
def test_the_grant_is_what_was_asked_within_what_was_registered(client, registered, rsa, asked, granted):
    response = _token(client, kit.sign(rsa, registered.client_id), scope=asked)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == granted
    grant = authenticate_access_token(body["access_token"])
    assert grant.scopes == frozenset(granted.split())


def test_a_wildcard_registration_grants_each_type_asked(client, clinic_admin):
    key = kit.ec_key("w")
    wide = smart_clients.register_client(clinic_admin, name="Warehouse", keys=kit.public_jwks(key),
                                         scopes="system/*.read")
    body = _token(client, kit.sign(key, wide.client_id), scope="system/Patient.rs system/Condition.read").json()
    assert body["scope"] == "system/Condition.read system/Patient.rs"
    grant = authenticate_access_token(body["access_token"])
    assert grant.allows("Condition", "search-type") and grant.allows("Patient", "read")
    assert not grant.allows("Procedure", "read")
    everything = authenticate_access_token(_token(client, kit.sign(key, wide.client_id)).json()["access_token"])
    assert all(everything.allows(t, i) for t in ("Patient", "AuditEvent", "Provenance") for i in ("read", "search"))
    with pytest.raises(ValueError, match="Unknown FHIR interaction"):
        everything.allows("Patient", "teleport")


# ------------------------------------------------------------------ fuzz: nothing reaches a 500
def test_mutated_assertions_never_get_a_token_nor_a_500(client, registered, rsa):
    rng = random.Random(18)
    good = kit.sign(rsa, registered.client_id, lifetime=280)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/%\\\"{} \x7f\u00e9"
    statuses = set()
    for _i in range(300):
        chars = list(good)
        for _n in range(rng.randint(1, 4)):
            chars[rng.randrange(len(chars))] = rng.choice(alphabet)
        mutated = "".join(chars)
        if mutated == good:
            continue
        response = _token(client, mutated)
        statuses.add(response.status_code)
        assert response.status_code in {400, 401}, (mutated, response.content)
        assert response.json()["error"] in {"invalid_client", "invalid_request", "invalid_scope"}
    assert statuses == {401}
    assert not SmartAccessToken.objects.exists()


def test_hostile_claim_values_are_refused_not_crashed(client, registered, rsa):
    for claims in ({"exp": 1e400}, {"exp": -1}, {"exp": 2**70}, {"aud": {"x": 1}}, {"aud": [None, 3]},
                   {"iat": "yesterday"}, {"nbf": [1]}, {"sub": None}):
        response = _token(client, kit.sign(rsa, registered.client_id, **claims))
        assert response.status_code == 401, (claims, response.content)


# ------------------------------------------------------------------ audit
def test_issuing_a_token_is_audited_with_the_client_as_actor(client, registered, rsa):
    body = _token(client, kit.sign(rsa, registered.client_id), scope="system/Patient.read").json()
    event = AuditEvent.objects.get(action="accounts.smart_token.issued")
    assert event.actor is None and event.actor_label == f"smart:{registered.client_id}"
    assert event.clinic_id == registered.clinic_id
    assert event.details == {"client_id": registered.client_id, "scopes": ["system/Patient.read"], "expires_in": 300}
    assert body["access_token"] not in json.dumps(event.details)


def test_refusals_naming_a_registered_client_are_audited_and_unknown_clients_are_not(client, registered, rsa):
    _token(client, kit.sign(rsa, registered.client_id, aud="https://evil.example/token"))
    _token(client, kit.sign(rsa, "smart-nobody"))
    events = list(AuditEvent.objects.filter(action="accounts.smart_token.refused"))
    assert len(events) == 1
    assert events[0].details["error"] == "invalid_client" and "aud" in events[0].details["reason"]


def test_the_grants_actor_is_recorded_by_the_audit_services_as_the_client(client, registered, rsa, patient):
    from triggerpoint.audit import services as audit

    grant = authenticate_access_token(_token(client, kit.sign(rsa, registered.client_id)).json()["access_token"])
    viewed = audit.record_patient_views("patients.patient.viewed", [patient], actor=grant.actor,
                                        details={"channel": "fhir"})
    single = audit.record("patients.patient.viewed", obj=patient, actor=grant.actor)
    assert len(viewed) == 1
    events = list(AuditEvent.objects.filter(action="patients.patient.viewed", patient=patient))
    assert len(events) == 2 and single.pk in {event.pk for event in events}
    for event in events:
        assert event.actor_id is None
        assert event.actor_label == f"smart:{registered.client_id}"
        assert event.patient_id == patient.pk and event.clinic_id == patient.clinic_id


def test_a_refusal_noted_for_the_grants_actor_is_filed_under_its_clinic(registered, patient):
    from triggerpoint.accounts.policy import audit_refusal
    from triggerpoint.patients.models import Patient

    grant = smart._grant_of(registered, ["system/Patient.read"])
    audit_refusal(grant.actor, Patient, "00000000-0000-0000-0000-000000000000", "patient.view", None)
    event = AuditEvent.objects.get(action="audit.access.refused")
    assert event.actor_label == f"smart:{registered.client_id}" and event.clinic_id == registered.clinic_id


# ------------------------------------------------------------------ discovery
def test_the_smart_configuration_describes_the_token_endpoint_and_scopes(client, db):
    response = client.get("/.well-known/smart-configuration")
    assert response.status_code == 200
    body = response.json()
    assert body["token_endpoint"] == "http://testserver/accounts/smart/token"
    assert body["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert body["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
    assert body["grant_types_supported"] == ["client_credentials"]
    assert "client-confidential-asymmetric" in body["capabilities"]
    for scope in ("system/*.read", "system/*.rs", "system/Patient.read", "system/Observation.rs"):
        assert scope in body["scopes_supported"]
    assert not any(s.endswith((".write", ".cruds")) for s in body["scopes_supported"])
    assert client.post("/.well-known/smart-configuration").status_code == 405
