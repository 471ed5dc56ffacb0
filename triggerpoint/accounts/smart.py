"""SMART Backend Services: a registered client trades a signed JWT for a short-lived access token.

The flow (SMART App Launch 2.x "Backend Services", RFC 7523 client authentication, RFC 6749 §4.4):
the client POSTs ``grant_type=client_credentials``, ``client_assertion_type=…jwt-bearer``, its
``client_assertion`` and the ``scope`` it wants. The assertion is a JWT it signed with its private
key (RS384 or ES384) whose header names the key (``kid``) and whose claims say iss = sub = its
client_id, aud = our token endpoint, exp at most five minutes ahead, and a jti never used before.

What is checked, in order, and what a failure answers (RFC 6749 §5.2 JSON, never a 500):
1. the request's shape — ``invalid_request`` / ``unsupported_grant_type`` (400);
2. who the client is and that it signed this: the header (alg RS384/ES384 only, so ``none`` and
   HS256 signed with the public key are refused before any key is used), the client named by
   ``iss`` (active), the signature against the key with that ``kid`` in the client's registered
   JWKS, then the claims (sub, aud, exp, iat, nbf, jti) and that the jti is new — every failure
   here is ``invalid_client`` (401): SMART requires that code for any failure to authenticate;
3. the scopes: requested ∩ registered (`smart_scopes.grant`) — ``invalid_scope`` (400) when a
   scope cannot be granted at all (write, unknown type, malformed) or nothing is left.

Verification uses joserfc (maintained, typed, RFC 7515/7517/7518/7519 complete, on
`cryptography`); joserfc refuses a key of the wrong type or curve for the algorithm.

The access token is opaque (``smt_`` + 32 random bytes), stored as its SHA-256, and lives five
minutes. The FHIR layer calls `authenticate_access_token`, which answers a `SmartGrant`: the
client, its clinic, its scopes, `allows(type, interaction)`, and an `actor` that the audit trail
records as ``smart:<client_id>`` (it has no user row, so `audit.services` stores no actor id).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from joserfc import jws, jwt
from joserfc.errors import JoseError

from triggerpoint.accounts import smart_clients, smart_scopes
from triggerpoint.accounts.models import SmartAccessToken, SmartAssertionUse, SmartClient, hash_token
from triggerpoint.audit import services as audit

GRANT_TYPE = "client_credentials"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS384", "ES384")
TOKEN_LIFETIME = timedelta(minutes=5)
MAX_ASSERTION_LIFETIME = 300  # seconds: SMART's "no more than five minutes in the future"
CLOCK_SKEW = 30  # seconds allowed for a client clock slightly ahead of ours (iat, nbf, exp bound)
MAX_ASSERTION_CHARS = 16_000
MAX_JTI_CHARS = 255
TOKEN_PREFIX = "smt_"  # noqa: S105 - a prefix, not a secret


class TokenError(Exception):  # noqa: N818 - an RFC 6749 error answer, not a crash
    """An RFC 6749 §5.2 error: `error` code, a description for the client's developer, and the status."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def _client_error(description: str) -> TokenError:
    return TokenError("invalid_client", description, 401)


# ------------------------------------------------------------------ what the FHIR layer receives
@dataclass(frozen=True)
class SmartActor:
    """The client as an actor of audit events and refusals (it is nobody's user account)."""

    client_id: str
    name: str
    clinic_id: int
    clinic: Any = field(compare=False, repr=False)

    pk: ClassVar[None] = None  # no user row: audit stores actor=None and this username as actor_label
    is_authenticated: ClassVar[bool] = True
    is_active: ClassVar[bool] = True

    @property
    def username(self) -> str:
        return f"smart:{self.client_id}"  # ':' cannot occur in a Django username, so never a staff name

    def __str__(self) -> str:
        return self.username


@dataclass(frozen=True)
class SmartGrant:
    """What a valid SMART access token lets its client do."""

    client_id: str
    clinic: Any = field(compare=False)
    scopes: frozenset[str]
    actor: SmartActor = field(compare=False)
    expires_at: datetime | None = None
    _parsed: tuple[smart_scopes.Scope, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_parsed", tuple(smart_scopes.parse_scope(s) for s in sorted(self.scopes)))

    def allows(self, resource_type: str, interaction: str = "read") -> bool:
        """Whether a scope covers `interaction` ("read", "vread", "search-type", …) on `resource_type`."""
        return smart_scopes.allows(list(self._parsed), resource_type, interaction)


def authenticate_access_token(token: str) -> SmartGrant | None:
    """The grant of a live SMART access token of an active client, or None (unknown, expired, revoked)."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = (SmartAccessToken.objects.select_related("client", "client__clinic")
           .filter(token_hash=hash_token(token), expires_at__gt=timezone.now(), client__is_active=True).first())
    if row is None:
        return None
    return _grant_of(row.client, row.scopes, row.expires_at)


def _grant_of(client: SmartClient, scopes, expires_at=None) -> SmartGrant:
    actor = SmartActor(client_id=client.client_id, name=client.name, clinic_id=client.clinic_id, clinic=client.clinic)
    return SmartGrant(client_id=client.client_id, clinic=client.clinic, scopes=frozenset(scopes), actor=actor,
                      expires_at=expires_at)


# ------------------------------------------------------------------ the token endpoint
def token_endpoint_url() -> str:
    """The token endpoint as configured (SITE_URL): the audience a client's assertion must name."""
    return settings.SITE_URL.rstrip("/") + reverse("accounts:smart_token")


def issue_token(form: Mapping[str, str], *, audiences: set[str]) -> dict[str, Any]:
    """Authenticate the client by its assertion and issue a token; TokenError for any refusal.

    `audiences` are the URLs this endpoint answers to (the configured one and the one the
    request reached); the assertion's aud must be one of them.
    """
    grant_type = form.get("grant_type", "")
    if not grant_type:
        raise TokenError("invalid_request", "grant_type is missing.")
    if grant_type != GRANT_TYPE:
        raise TokenError("unsupported_grant_type", "Only grant_type=client_credentials is supported.")
    if form.get("client_assertion_type", "") != ASSERTION_TYPE:
        raise _client_error(f"client_assertion_type must be {ASSERTION_TYPE}.")
    assertion = form.get("client_assertion", "")
    if not assertion:
        raise _client_error("client_assertion is missing.")
    if len(assertion) > MAX_ASSERTION_CHARS:
        raise _client_error("client_assertion is too long.")
    header, unverified = _read_unverified(assertion)
    client_id = unverified.get("iss")
    if not isinstance(client_id, str) or not client_id or len(client_id) > 64:
        raise _client_error("The assertion's iss must be the client_id.")
    if form.get("client_id") and form["client_id"] != client_id:
        raise _client_error("client_id does not match the assertion's iss.")
    client = SmartClient.objects.select_related("clinic").filter(client_id=client_id).first()
    if client is None:
        raise _client_error("Unknown client.")
    try:
        if not client.is_active:
            raise _client_error("This client has been deactivated by the clinic.")
        claims = _verify(assertion, header, client)
        _check_claims(claims, client_id, audiences)
        asked = _asked_scopes(form.get("scope", ""))
        _use_jti(client, claims)
    except TokenError as exc:
        _audit_refusal(client, exc)
        raise
    granted = smart_scopes.grant(asked, [smart_scopes.parse_scope(s) for s in client.scopes])
    if not granted:
        exc = TokenError("invalid_scope", "None of the requested scopes is registered for this client.")
        _audit_refusal(client, exc)
        raise exc
    return _issue(client, granted)


def _read_unverified(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims before the signature is checked: only to find the client and its key."""
    try:
        compact = jws.extract_compact(assertion.encode())
        header = compact.headers()
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, TypeError, UnicodeError) as exc:
        raise _client_error("client_assertion is not a well-formed signed JWT.") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise _client_error("client_assertion is not a well-formed signed JWT.")
    if header.get("alg") not in ALGORITHMS:
        raise _client_error("The assertion must be signed with RS384 or ES384.")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise _client_error("The assertion's header must name its key (kid).")
    return header, claims


def _verify(assertion: str, header: dict[str, Any], client: SmartClient) -> dict[str, Any]:
    if header["kid"] not in client.key_ids:
        raise _client_error("No key with this kid is registered for the client.")
    try:
        token = jwt.decode(assertion, smart_clients.key_set(client), algorithms=list(ALGORITHMS))
    except (JoseError, ValueError, TypeError) as exc:
        raise _client_error("The assertion's signature does not verify with the client's registered key.") from exc
    return token.claims


def _check_claims(claims: dict[str, Any], client_id: str, audiences: set[str]) -> None:
    now = int(timezone.now().timestamp())
    if claims.get("sub") != client_id:
        raise _client_error("The assertion's sub must be the client_id (the same as iss).")
    aud = claims.get("aud")
    named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(isinstance(a, str) and a in audiences for a in named):
        raise _client_error(f"The assertion's aud must be this token endpoint ({token_endpoint_url()}).")
    exp = claims.get("exp")
    if not _is_time(exp):
        raise _client_error("The assertion needs exp (a NumericDate).")
    if exp <= now:
        raise _client_error("The assertion has expired.")
    if exp > now + MAX_ASSERTION_LIFETIME + CLOCK_SKEW:
        raise _client_error("The assertion's exp may be at most five minutes ahead.")
    for name in ("iat", "nbf"):
        value = claims.get(name)
        if value is None:
            continue
        if not _is_time(value):
            raise _client_error(f"The assertion's {name} must be a NumericDate.")
        if value > now + CLOCK_SKEW:
            raise _client_error(f"The assertion's {name} is in the future.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_CHARS:
        raise _client_error(f"The assertion needs a unique jti (a string of at most {MAX_JTI_CHARS} characters).")


def _is_time(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 2**41


def _asked_scopes(text: str) -> list[smart_scopes.Scope]:
    if not text.strip():
        raise TokenError("invalid_scope", "scope is required, for example scope=system/*.read.")
    try:
        return smart_scopes.parse_scopes(text)
    except smart_scopes.ScopeError as exc:
        raise TokenError("invalid_scope", str(exc)) from exc


def _use_jti(client: SmartClient, claims: dict[str, Any]) -> None:
    """Record the jti until the assertion expires; a second use (even a concurrent one) is refused."""
    expires_at = datetime.fromtimestamp(claims["exp"] + CLOCK_SKEW, tz=UTC)
    try:
        with transaction.atomic():
            SmartAssertionUse.objects.create(client=client, jti=claims["jti"], expires_at=expires_at)
    except IntegrityError as exc:
        raise _client_error("This assertion (its jti) has already been used.") from exc


@transaction.atomic
def _issue(client: SmartClient, granted: list[str]) -> dict[str, Any]:
    now = timezone.now()
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    SmartAccessToken.objects.create(client=client, token_hash=hash_token(raw), scopes=granted, created_at=now,
                                    expires_at=now + TOKEN_LIFETIME)
    SmartClient.objects.filter(pk=client.pk).update(last_token_at=now)
    # Housekeeping: used jtis and tokens past their expiry protect nothing any more.
    SmartAssertionUse.objects.filter(expires_at__lt=now).delete()
    SmartAccessToken.objects.filter(expires_at__lt=now - TOKEN_LIFETIME).delete()
    actor = _grant_of(client, granted).actor
    audit.record("accounts.smart_token.issued", obj=client, clinic=client.clinic, actor=actor,
                 details={"client_id": client.client_id, "scopes": granted,
                          "expires_in": int(TOKEN_LIFETIME.total_seconds())})
    return {"access_token": raw, "token_type": "bearer", "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            "scope": " ".join(granted)}


def _audit_refusal(client: SmartClient, exc: TokenError) -> None:
    """A refused request naming a registered client is a security event of that clinic (unknown clients are not)."""
    actor = _grant_of(client, []).actor
    audit.record("accounts.smart_token.refused", obj=client, clinic=client.clinic, actor=actor,
                 details={"client_id": client.client_id, "error": exc.error, "reason": exc.description})


# ------------------------------------------------------------------ discovery
def smart_configuration(token_endpoint: str) -> dict[str, Any]:
    """The body of /.well-known/smart-configuration (SMART App Launch 2.x §2.0.x, Backend Services)."""
    return {
        "token_endpoint": token_endpoint,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
        "grant_types_supported": [GRANT_TYPE],
        "scopes_supported": smart_scopes.supported(),
        "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
    }
