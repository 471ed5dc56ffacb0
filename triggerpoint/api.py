"""The JSON API at /api/v1/ (Django Ninja): authentication, error mapping, app routers.

Errors are always JSON `{"detail": ...}` (the contract is `core/api_errors.py`); every
rule input problem, stale version or refused permission maps to one here so no handler
has to remember it, and the OpenAPI document lists every status each operation can answer.
"""

from __future__ import annotations

from dataclasses import replace

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie

from triggerpoint.accounts.bearer import user_for_token
from triggerpoint.core import context, plugins
from triggerpoint.core.api_errors import WWW_AUTHENTICATE, document_error_responses
from triggerpoint.core.client_ip import client_ip
from triggerpoint.core.errors import HardDeleteRefused, ImmutableRecord, StaleVersion
from triggerpoint.core.rules import RuleInputError


def _set_actor(user) -> None:
    # The outer RequestContextMiddleware resets the context at the end of the request.
    context.set_context(replace(context.current(), actor=user))


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`: a revocable token issued by `triggerpoint token create` or /auth/token."""

    def authenticate(self, request, token):
        user = user_for_token(token, client_ip(request))
        if user is not None:
            _set_actor(user)
            # The session middleware could not know the clinic of a token's user: "today" in a rule
            # (the 4-week screening window, plausible dates) is the clinic's day, as on the pages.
            # `ClinicTimeZoneMiddleware` puts back the previous zone when the request ends.
            clinic = user.clinic if user.clinic_id else getattr(user.portal_patient, "clinic", None)
            if clinic is not None:
                timezone.activate(clinic.zone)
        return user


class VerifiedSession(APIKeyCookie):
    """The browser session, with CSRF; staff must have passed the second factor."""

    param_name = "sessionid"

    def authenticate(self, request, key):
        user = request.user
        if not user.is_authenticated:
            return None
        if user.clinic_id and not user.is_verified():
            return None
        return user


class ClinicAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return document_error_responses(schema)


api = ClinicAPI(
    title="Trigger Point Clinic API",
    version="1",
    description=(
        "Clinical workflow for trigger point injection services. Every error is JSON `{\"detail\": ...}`: "
        "a sentence, a list of every problem, or an object of field to problems; the request id is in the "
        "`X-Request-ID` header."
    ),
    urls_namespace="api",
    auth=[BearerToken(), VerifiedSession()],
)


def _error(request, status: int, detail):
    return api.create_response(request, {"detail": detail}, status=status)


@api.exception_handler(RuleInputError)
def _rule_input(request, exc: RuleInputError):
    return _error(request, 422, exc.problems)


@api.exception_handler(StaleVersion)
def _stale(request, exc: StaleVersion):
    return _error(request, 409, str(exc))


@api.exception_handler(PermissionDenied)
def _denied(request, exc):
    return _error(request, 403, str(exc) or "Forbidden")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    response = _error(request, 401, "Authentication required: send a Bearer token or sign in.")
    response["WWW-Authenticate"] = WWW_AUTHENTICATE
    return response


@api.exception_handler(DjangoValidationError)
def _invalid(request, exc: DjangoValidationError):
    detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
    return _error(request, 422, detail)


@api.exception_handler(ImmutableRecord)
def _immutable(request, exc):
    return _error(request, 409, str(exc))


@api.exception_handler(HardDeleteRefused)
def _no_delete(request, exc):
    return _error(request, 405, str(exc))


# Each app with an `api` module and an `api_prefix` on its AppConfig mounts its `router` (core.plugins).
for prefix, _config, module in plugins.prefixed("api", "api_prefix"):
    api.add_router(f"/{prefix}/", module.router)
