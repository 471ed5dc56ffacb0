"""The clinic admin registers, lists and deactivates SMART clients; only public keys are ever stored."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa as crypto_rsa
from joserfc.jwk import ECKey, OctKey

from triggerpoint.accounts import smart_clients
from triggerpoint.accounts.models import SmartClient
from triggerpoint.accounts.services import Refused
from triggerpoint.accounts.tests import smart_client_kit as kit
from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import make_staff, verified_client


def _register(admin, keys, scopes="system/*.read", name="County EHR"):
    return smart_clients.register_client(admin, name=name, keys=keys, scopes=scopes)


# ------------------------------------------------------------------ what may be registered
def test_a_jwks_is_stored_public_only_with_its_kids(clinic_admin):
    rsa, ec = kit.rsa_key("r1"), kit.ec_key("e1")
    client = _register(clinic_admin, kit.public_jwks(rsa, ec), scopes="system/Patient.read  system/*.rs")
    assert client.client_id.startswith("smart-") and len(client.client_id) > 20
    assert client.key_ids == ["r1", "e1"]
    assert set(client.jwks["keys"][0]) == {"kty", "n", "e", "kid"}
    assert set(client.jwks["keys"][1]) == {"kty", "crv", "x", "y", "kid"}
    assert client.scopes == ["system/*.rs", "system/Patient.read"]
    assert client.is_active and client.created_by == clinic_admin and client.clinic == clinic_admin.clinic


def test_one_jwk_or_a_pem_public_key_is_accepted_and_a_missing_kid_becomes_the_thumbprint(clinic_admin):
    ec = kit.ec_key("given")
    single = _register(clinic_admin, json.dumps(ec.as_dict(private=False)))
    assert single.key_ids == ["given"]
    rsa = kit.rsa_key("ignored")
    pem = rsa.as_pem(private=False).decode()
    from_pem = _register(clinic_admin, pem, name="PEM client")
    assert from_pem.key_ids == [rsa.thumbprint()]
    bare = ec.as_dict(private=False)
    bare.pop("kid")
    assert _register(clinic_admin, json.dumps({"keys": [bare]}), name="No kid").key_ids == [ec.thumbprint()]


def _private_pem():
    return kit.rsa_key().as_pem(private=True).decode()


def _small_rsa_jwk():
    key = crypto_rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the weak key refused
    numbers = key.public_key().public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()

    return json.dumps({"kty": "RSA", "kid": "small", "n": b64(numbers.n), "e": b64(numbers.e)})


REFUSED_KEYS = {
    "empty": (lambda: "", "Paste the client's public keys"),
    "private JWK": (lambda: json.dumps({"keys": [kit.rsa_key().as_dict(private=True)]}), "private key material"),
    "private EC JWK": (lambda: json.dumps(kit.ec_key().as_dict(private=True)), "private key material"),
    "private PEM": (_private_pem, "private key"),
    "symmetric key": (lambda: json.dumps({"keys": [OctKey.generate_key(256).as_dict()]}), "private key material"),
    "RSA under 2048 bits": (_small_rsa_jwk, "at least 2048 bits"),
    "EC P-256": (lambda: json.dumps({"keys": [ECKey.generate_key("P-256").as_dict(private=False)]}), "P-384"),
    "OKP": (lambda: json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}),
            "Only RSA"),
    "two keys one kid": (lambda: kit.public_jwks(kit.rsa_key("same"), kit.ec_key("same")), "share a kid"),
    "not JSON": (lambda: "{keys: nope", "neither JSON"),
    "no keys list": (lambda: json.dumps({"keys": "abc"}), '"keys" list'),
    "empty keys list": (lambda: json.dumps({"keys": []}), '"keys" list'),
    "a key not an object": (lambda: json.dumps({"keys": ["abc"]}), "JSON object"),
    "broken RSA numbers": (lambda: json.dumps({"keys": [{"kty": "RSA", "kid": "b", "n": "!!", "e": "AQAB"}]}),
                           "could not be read"),
    "kid not a string": (lambda: json.dumps({"keys": [dict(kit.ec_key().as_dict(private=False), kid=5)]}),
                         "kid must be"),
    "PEM that is not a key": (lambda: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "not an RSA or EC"),
    "too many keys": (lambda: kit.public_jwks(*[kit.ec_key(f"k{i}") for i in range(11)]), "At most 10"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_KEYS))
def test_keys_that_are_not_acceptable_public_keys_are_refused_and_nothing_is_stored(clinic_admin, case):
    make, message = REFUSED_KEYS[case]
    with pytest.raises(Refused, match=message):
        _register(clinic_admin, make())
    assert not SmartClient.objects.exists()
    assert not AuditEvent.objects.filter(action="accounts.smart_client.registered").exists()


@pytest.mark.parametrize("scopes, message", [
    ("", "at least one scope"),
    ("system/Patient.write", "only read"),
    ("patient/*.read", "system/"),
    ("system/Nope.read", "no resource type"),
])
def test_scopes_that_cannot_be_offered_are_refused_at_registration(clinic_admin, scopes, message):
    with pytest.raises(Refused, match=message):
        _register(clinic_admin, kit.public_jwks(kit.ec_key()), scopes=scopes)


def test_only_a_clinic_admin_registers_or_deactivates(physician, clinic_admin):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        _register(physician, kit.public_jwks(kit.ec_key()))
    client = _register(clinic_admin, kit.public_jwks(kit.ec_key()))
    with pytest.raises(PermissionDenied):
        smart_clients.deactivate_client(physician, client)


def test_another_clinics_admin_cannot_deactivate_it(clinic_admin, clinic_b):
    from django.http import Http404

    client = _register(clinic_admin, kit.public_jwks(kit.ec_key()))
    other_admin = make_staff("other.admin", "clinic_admin", clinic_b)
    with pytest.raises(Http404):
        smart_clients.deactivate_client(other_admin, client)
    client.refresh_from_db()
    assert client.is_active


def test_registration_and_deactivation_are_audited(clinic_admin):
    client = _register(clinic_admin, kit.public_jwks(kit.ec_key("e9")), scopes="system/Patient.read")
    registered = AuditEvent.objects.get(action="accounts.smart_client.registered")
    assert registered.actor == clinic_admin and registered.clinic_id == clinic_admin.clinic_id
    assert registered.details == {"client_id": client.client_id, "name": "County EHR",
                                  "scopes": ["system/Patient.read"], "kids": ["e9"]}
    assert smart_clients.deactivate_client(clinic_admin, client) is True
    assert smart_clients.deactivate_client(clinic_admin, client) is False  # once
    events = AuditEvent.objects.filter(action="accounts.smart_client.deactivated")
    assert events.count() == 1 and events[0].details["tokens_revoked"] == 0
    client.refresh_from_db()
    assert not client.is_active and client.deactivated_by == clinic_admin and client.deactivated_at


# ------------------------------------------------------------------ the pages
@pytest.fixture
def admin_client(client, clinic_admin):
    return verified_client(client, clinic_admin)


def test_the_admin_registers_a_client_from_the_page_and_sees_its_client_id(admin_client, clinic_admin):
    key = kit.rsa_key("page-key")
    page = admin_client.get("/accounts/smart-clients/new/")
    assert page.status_code == 200 and b"Public keys" in page.content
    response = admin_client.post("/accounts/smart-clients/new/",
                                 {"name": "Hospital EHR", "keys": kit.public_jwks(key), "scopes": "system/*.read"})
    client = SmartClient.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/accounts/smart-clients/{client.pk}/"
    detail = admin_client.get(response["Location"])
    assert client.client_id.encode() in detail.content and b"page-key" in detail.content
    listing = admin_client.get("/accounts/smart-clients/")
    assert b"Hospital EHR" in listing.content and client.client_id.encode() in listing.content


def test_a_private_key_pasted_on_the_page_is_refused_with_a_message(admin_client):
    response = admin_client.post("/accounts/smart-clients/new/",
                                 {"name": "Oops", "keys": _private_pem(), "scopes": "system/*.read"})
    assert response.status_code == 400
    assert b"Paste only the public key" in response.content
    assert b"PRIVATE KEY" not in response.content.split(b"</textarea>")[-1]  # not echoed outside the field
    assert not SmartClient.objects.exists()


def test_deactivating_from_the_page_asks_first(admin_client, clinic_admin):
    client = _register(clinic_admin, kit.public_jwks(kit.ec_key()))
    url = f"/accounts/smart-clients/{client.pk}/deactivate/"
    confirm = admin_client.get(url)
    assert confirm.status_code == 200 and b"stop working at once" in confirm.content
    client.refresh_from_db()
    assert client.is_active
    assert admin_client.post(url).status_code == 302
    client.refresh_from_db()
    assert not client.is_active


def test_another_clinics_client_is_a_404_and_the_refusal_is_audited(admin_client, clinic_b):
    other_admin = make_staff("other.admin", "clinic_admin", clinic_b)
    theirs = _register(other_admin, kit.public_jwks(kit.ec_key()))
    for url in (f"/accounts/smart-clients/{theirs.pk}/", f"/accounts/smart-clients/{theirs.pk}/deactivate/"):
        assert admin_client.get(url).status_code == 404
    assert admin_client.post(f"/accounts/smart-clients/{theirs.pk}/deactivate/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
    assert admin_client.get("/accounts/smart-clients/").content.count(theirs.client_id.encode()) == 0
    assert AuditEvent.objects.filter(action="audit.access.refused", object_type="accounts.smartclient").count() == 3


@pytest.mark.parametrize("role", ["physician", "nurse", "front_desk", "analyst"])
def test_other_roles_are_refused_every_smart_client_page(client, clinic_a, clinic_admin, role):
    target = _register(clinic_admin, kit.public_jwks(kit.ec_key()))
    verified_client(client, make_staff(f"x.{role}", role, clinic_a))
    for method, url in [("get", "/accounts/smart-clients/"), ("get", "/accounts/smart-clients/new/"),
                        ("post", "/accounts/smart-clients/new/"), ("get", f"/accounts/smart-clients/{target.pk}/"),
                        ("post", f"/accounts/smart-clients/{target.pk}/deactivate/")]:
        assert getattr(client, method)(url).status_code == 403, (role, method, url)
    target.refresh_from_db()
    assert target.is_active and SmartClient.objects.count() == 1
