"""Who is calling /fhir/R4/, and what they may see: `principal_for(request)`, the one place.

The same policy as /api/v1/ (`triggerpoint.api`): a bearer token of ours (`accounts.bearer`) or
the browser session with the second factor passed; the roles come from `accounts.policy` per
resource type (each `ResourceType.action`). A clinic's staff see only their clinic, a portal
account only its own patient.

SMART Backend Services (`triggerpoint.accounts.smart`) answers first at `SMART_AUTHENTICATE`: a
token it accepts becomes a principal for its clinic whose per-type access is the grant's scopes
(`grant.allows(type)`); any other bearer token is one of the clinic's API tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from triggerpoint.accounts.bearer import user_for_token
from triggerpoint.accounts.policy import can
from triggerpoint.accounts.smart import authenticate_access_token, token_endpoint_url
from triggerpoint.core import context
from triggerpoint.core.client_ip import client_ip
from triggerpoint.fhir.registry import Scope

# SMART Backend Services: `authenticate_access_token(token) -> SmartGrant | None`.
SMART_AUTHENTICATE: Callable[[str], Any] | None = authenticate_access_token
# Its token endpoint (absolute URL, from SITE_URL), shown in the CapabilityStatement's security.
SMART_TOKEN_URL: Callable[[], str] | None = token_endpoint_url

WWW_AUTHENTICATE = 'Bearer realm="triggerpoint-fhir"'


@dataclass(frozen=True)
class Principal:
    actor: Any  # who the audit names: the user, or the SMART client's actor
    scope: Scope
    _may: Callable[[str, str], bool]
    zone: Any = None  # the clinic's time zone (a ZoneInfo), activated for the request by the views

    def may_read(self, resource_name: str, action: str) -> bool:
        return self._may(resource_name, action)


class InvalidToken(Exception):  # noqa: N818 - a refusal (401 with error="invalid_token"), not a crash
    pass


def _bearer(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or ""


def _for_user(user: Any) -> Principal | None:
    if user.clinic_id:
        scope, clinic = Scope(clinic_id=user.clinic_id), user.clinic
    else:
        patient = getattr(user, "portal_patient", None)
        if patient is None:
            return None
        scope = Scope(clinic_id=patient.clinic_id, patient_id=patient.pk, chart_ids=tuple(sorted(user.portal_chart_ids)))
        clinic = patient.clinic
    return Principal(actor=user, scope=scope, _may=lambda _name, action: can(user, action), zone=clinic.zone)


def _for_grant(grant: Any) -> Principal:
    return Principal(actor=getattr(grant, "actor", None), scope=Scope(clinic_id=grant.clinic.pk),
                     _may=lambda name, _action: bool(grant.allows(name)), zone=grant.clinic.zone)


def principal_for(request) -> Principal | None:
    """The caller, or None (no credentials). Raises `InvalidToken` for a bearer token nobody issued."""
    token = _bearer(request)
    if token is not None:
        if "\x00" in token or len(token) > 4096:
            raise InvalidToken
        grant = SMART_AUTHENTICATE(token) if SMART_AUTHENTICATE is not None else None
        if grant is not None:
            principal = _for_grant(grant)
        else:
            user = user_for_token(token, client_ip(request)) if token else None
            principal = _for_user(user) if user is not None else None
        if principal is None:
            raise InvalidToken
    else:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or (user.clinic_id and not user.is_verified()):
            return None
        principal = _for_user(user)
        if principal is None:
            return None
    # The outer RequestContextMiddleware resets the context at the end of the request.
    context.set_context(replace(context.current(), actor=principal.actor))
    return principal
