"""The clinic admin registers and deactivates SMART Backend Services clients.

A client is registered with its public keys only: a JWKS (``{"keys": [...]}``), one JWK, or one
PEM public key. Keys are read with joserfc; each must be RSA of at least 2048 bits (for RS384)
or EC on P-384 (for ES384), and carry no private part — a private key pasted by mistake is
refused, not stored, so the clinic never holds the client's secret. A key without a ``kid`` gets
its RFC 7638 thumbprint as kid (the client must then send that kid). Keys are never fetched from
a ``jwks_url``: the server makes no outbound requests.

Every change is checked against the access policy (`smart_client.manage`), kept in the admin's
clinic and audited in the same transaction.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, KeySet, RSAKey

from triggerpoint.accounts import smart_scopes
from triggerpoint.accounts.models import SmartClient, User
from triggerpoint.accounts.policy import require
from triggerpoint.accounts.services import Refused
from triggerpoint.audit import services as audit

MAX_KEYS = 10
MAX_KEYS_TEXT = 50_000
MIN_RSA_BITS = 2048
# JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
PUBLIC_MEMBERS = {"RSA": ("kty", "n", "e"), "EC": ("kty", "crv", "x", "y")}


def parse_public_keys(text: str) -> dict[str, Any]:
    """A normalised public JWKS from what the admin pasted, or Refused saying what is wrong."""
    text = (text or "").strip()
    if not text:
        raise Refused(_("Paste the client's public keys: a JWKS, one JWK, or a PEM public key."))
    if len(text) > MAX_KEYS_TEXT:
        raise Refused(_("That is too long for a set of public keys."))
    if "PRIVATE KEY" in text:
        raise Refused(_("That is a private key. Paste only the public key: the private key stays with the client."))
    if text.startswith("-----BEGIN"):
        return {"keys": [_public_jwk(_import_pem(text))]}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise Refused(_("The keys are neither JSON (a JWKS or a JWK) nor a PEM public key.")) from exc
    if isinstance(data, dict) and "keys" not in data and "kty" in data:
        data = {"keys": [data]}
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list) or not data["keys"]:
        raise Refused(_('A JWKS is an object with a non-empty "keys" list.'))
    if len(data["keys"]) > MAX_KEYS:
        raise Refused(_("At most %(n)s keys per client.") % {"n": MAX_KEYS})
    keys = [_public_jwk(_import_jwk(item)) for item in data["keys"]]
    kids = [key["kid"] for key in keys]
    if len(set(kids)) != len(kids):
        raise Refused(_("Two keys share a kid; each key needs its own."))
    return {"keys": keys}


def _import_jwk(item: Any):
    if not isinstance(item, dict):
        raise Refused(_("Each key must be a JSON object (a JWK)."))
    if PRIVATE_MEMBERS & set(item):
        raise Refused(_("That key contains private key material. Paste only the public key."))
    kty = item.get("kty")
    if kty not in PUBLIC_MEMBERS:
        raise Refused(_("Only RSA (RS384) and EC P-384 (ES384) public keys are accepted."))
    if "kid" in item and (not isinstance(item["kid"], str) or not 0 < len(item["kid"]) <= 200):
        raise Refused(_("A key's kid must be a non-empty string."))
    try:
        with warnings.catch_warnings():  # joserfc warns of a short RSA key; `_public_jwk` refuses it with a sentence
            warnings.simplefilter("ignore", SecurityWarning)
            key = (RSAKey if kty == "RSA" else ECKey).import_key(item)
    except (JoseError, ValueError, TypeError) as exc:
        raise Refused(_("A key could not be read: %(error)s") % {"error": str(exc)[:200]}) from exc
    return key, item.get("kid")


def _import_pem(text: str):
    for cls in (RSAKey, ECKey):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SecurityWarning)
                return cls.import_key(text), None
        except (JoseError, ValueError, TypeError):
            continue
    raise Refused(_("The PEM text is not an RSA or EC public key."))


def _public_jwk(imported) -> dict[str, Any]:
    key, kid = imported
    if key.is_private:
        raise Refused(_("That key contains private key material. Paste only the public key."))
    data = key.as_dict(private=False)
    if data["kty"] == "RSA":
        if key.raw_value.key_size < MIN_RSA_BITS:
            raise Refused(_("RSA keys must have at least %(bits)s bits.") % {"bits": MIN_RSA_BITS})
    elif data.get("crv") != "P-384":
        raise Refused(_("EC keys must be on the P-384 curve (ES384)."))
    public = {member: data[member] for member in PUBLIC_MEMBERS[data["kty"]]}
    public["kid"] = kid or key.thumbprint()
    return public


def key_set(client: SmartClient) -> KeySet:
    """The client's registered public keys, for verifying its assertions."""
    return KeySet.import_key_set(client.jwks)


def parse_allowed_scopes(text: str) -> list[str]:
    try:
        scopes = smart_scopes.parse_scopes(text or "")
    except smart_scopes.ScopeError as exc:
        raise Refused(str(exc)) from exc
    if not scopes:
        raise Refused(_("Give the client at least one scope, for example system/*.read."))
    return sorted({scope.text() for scope in scopes})


@transaction.atomic
def register_client(admin: User, *, name: str, keys: str, scopes: str) -> SmartClient:
    """Register a client of the admin's clinic; its client_id is generated here."""
    require(admin, "smart_client.manage")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Refused(_("Name the client (at most 100 characters), e.g. the system that will use it."))
    jwks = parse_public_keys(keys)
    allowed = parse_allowed_scopes(scopes)
    client = SmartClient.objects.create(clinic=admin.clinic, name=name, client_id=SmartClient.new_client_id(),
                                        jwks=jwks, scopes=allowed, created_by=admin)
    audit.record("accounts.smart_client.registered", obj=client, clinic=admin.clinic, actor=admin,
                 details={"client_id": client.client_id, "name": name, "scopes": allowed,
                          "kids": client.key_ids})
    return client


@transaction.atomic
def deactivate_client(admin: User, client: SmartClient) -> bool:
    """Stop the client at once: no new tokens, and its live tokens stop working. False if already inactive."""
    require(admin, "smart_client.manage", client)
    client = SmartClient.objects.select_for_update().get(pk=client.pk)
    if not client.is_active:
        return False
    client.is_active = False
    client.deactivated_at = timezone.now()
    client.deactivated_by = admin
    client.save(update_fields=["is_active", "deactivated_at", "deactivated_by", "updated_at"])
    revoked = client.access_tokens.filter(expires_at__gt=client.deactivated_at).delete()[0]
    audit.record("accounts.smart_client.deactivated", obj=client, clinic=admin.clinic, actor=admin,
                 details={"client_id": client.client_id, "name": client.name, "tokens_revoked": revoked})
    return True
