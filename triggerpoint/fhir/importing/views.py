"""`POST /fhir/R4/` (a transaction Bundle → a transaction-response Bundle) and the staff upload page.

Who: the same callers as the rest of /fhir/R4/ (`fhir.auth.principal_for`) — a clinic API token, or a
signed-in session that passed the second factor (the endpoint then checks the CSRF token like any form
post; bearer callers carry no cookie). The policy actions `patient.create` + `patient.update`, and
`patient.update_clinical` for allergies, medications and conditions (physician, nurse; the front desk
may import demographics and weight). SMART Backend Services tokens are refused (403): the scope parser
offers read access only (`accounts/smart_scopes.py` refuses write scopes). A portal account is refused.

Every answer is FHIR JSON: the transaction-response Bundle (200), or an OperationOutcome with a 4xx
naming each problem (400 invalid, 401, 403, 409 likely duplicate or conflicting identifiers, 413).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from triggerpoint.accounts.decorators import staff_required
from triggerpoint.accounts.policy import can
from triggerpoint.fhir.auth import WWW_AUTHENTICATE, InvalidToken, principal_for
from triggerpoint.fhir.importing import parse, service
from triggerpoint.fhir.importing.parse import Issue, Refused

FHIR_JSON = "application/fhir+json"


def _json(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status=status,
                            content_type=f"{FHIR_JSON}; charset=utf-8")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _outcome(status: int, code: str, diagnostics: str, headers: dict[str, str] | None = None) -> HttpResponse:
    return _json(Refused(status, [Issue(code, diagnostics)]).outcome(), status, headers)


def response_bundle(result: service.ImportResult) -> dict[str, Any]:
    entries = []
    for outcome in sorted(result.entries, key=lambda e: e.index):
        response: dict[str, Any] = {"status": "201 Created" if outcome.status == 201 else "200 OK"}
        if outcome.location:
            response["location"] = outcome.location
        note = outcome.note + ("" if not outcome.needs_classification else " (shown on the chart for a person "
                                                                           "to classify)")
        response["outcome"] = {"resourceType": "OperationOutcome", "issue": [
            {"severity": "warning" if outcome.needs_classification else "information",
             "code": "informational", "diagnostics": f"{outcome.text}: {note}",
             "expression": [f"Bundle.entry[{outcome.index}]"]}]}
        entries.append({"response": response})
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}


@csrf_exempt  # bearer callers carry no cookie; a session caller is checked below
def transaction_endpoint(request):
    if request.method != "POST":
        return _outcome(405, "not-supported", f"{request.method} is not supported on the base: POST a transaction "
                                              "Bundle (GET metadata for the CapabilityStatement).", {"Allow": "POST"})
    try:
        principal = principal_for(request)
    except InvalidToken:
        return _outcome(401, "login", "The bearer token is not valid (unknown, expired or revoked).",
                        {"WWW-Authenticate": f'{WWW_AUTHENTICATE}, error="invalid_token"'})
    if principal is None:
        return _outcome(401, "login", "Authentication required: send a Bearer token or sign in.",
                        {"WWW-Authenticate": WWW_AUTHENTICATE})
    if not request.headers.get("Authorization"):
        refused = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        if refused is not None:
            return _outcome(403, "forbidden", "A signed-in session must send the CSRF token (or use a bearer token).")
    user = principal.actor
    if getattr(user, "pk", None) is None or not getattr(user, "clinic_id", None):
        return _outcome(403, "forbidden", "Importing needs a clinic staff member's token: SMART Backend Services "
                                          "clients are read-only, and portal accounts cannot import.")
    if not (can(user, "patient.create") and can(user, "patient.update")):  # refused before the body is read
        return _outcome(403, "forbidden", "Your role does not allow importing patients (patient.create and "
                                          "patient.update).")
    try:
        bundle = parse.parse_bundle(parse.load_json(request.body))
        result = service.import_bundle(user, user.clinic, bundle, channel="fhir")
    except Refused as refused:
        return _json(refused.outcome(), refused.status)
    except PermissionDenied as denied:
        return _outcome(403, "forbidden", str(denied) or "Forbidden.")
    except Http404:
        return _outcome(404, "not-found", "No such chart.")
    return _json(response_bundle(result), 200)


@staff_required("patient.create")
@require_http_methods(["GET", "POST"])
def upload_page(request):
    """Upload a Bundle file (or re-submit the one shown with a decision) and see what it did."""
    context: dict[str, Any] = {}
    if request.method == "POST":
        upload = request.FILES.get("bundle")
        body = upload.read(parse.MAX_BYTES + 1) if upload else request.POST.get("bundle_json", "").encode()
        context["bundle_json"] = body.decode("utf-8", "replace") if len(body) <= parse.MAX_BYTES else ""
        status = 200
        try:
            if not body:
                raise Refused(400, [Issue("required", "Choose a Bundle file (FHIR JSON) to upload.")])
            bundle = parse.parse_bundle(parse.load_json(body))
            context["result"] = service.import_bundle(
                request.user, request.user.clinic, bundle, into=request.POST.get("into", ""),
                new_person=request.POST.get("decision") == "new", channel="upload")
        except Refused as refused:
            context["refused"] = refused
            status = 422 if refused.status == 400 else refused.status
        except PermissionDenied as denied:
            context["refused"] = Refused(403, [Issue("forbidden", str(denied))])
            status = 403
        except Http404:
            context["refused"] = Refused(404, [Issue("not-found", "The chart chosen was not found in this clinic.")])
            status = 404
        return render(request, "fhir/import_upload.html", context, status=status)
    return render(request, "fhir/import_upload.html", context)
