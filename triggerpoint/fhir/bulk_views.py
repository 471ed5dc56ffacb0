"""The Bulk Data endpoints: `$export` kick-off (system, Patient, Group), the status URL (poll, DELETE), the files.

    GET  /fhir/R4/$export | /fhir/R4/Patient/$export | /fhir/R4/Group/{id}/$export   (Prefer: respond-async)
         -> 202, Content-Location: /fhir/R4/$export-status/{job}
    GET  /fhir/R4/$export-status/{job} -> 202 + X-Progress, Retry-After while running; 200 manifest when done;
         500 OperationOutcome (the reason) when the job failed; 404 when cancelled, expired or not the caller's
    DELETE /fhir/R4/$export-status/{job} -> 202 (cancelled, files deleted)
    GET  /fhir/R4/$export-file/{job}/{Type-n.ndjson} -> application/fhir+ndjson

The status URL and the files need the same authorization as the kick-off: the same clinic and the same
client (SMART client or user); anyone else gets a 404. Every refusal is an OperationOutcome.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from triggerpoint.audit import services as audit
from triggerpoint.fhir import bulk_export, registry
from triggerpoint.fhir.errors import FhirError, not_found, operation_outcome
from triggerpoint.fhir.models import ExportJob
from triggerpoint.fhir.views import FHIR_JSON, REFUSALS, _base, _principal, _response, negotiate, refusal


def bulk_endpoint(methods: tuple[str, ...]) -> Callable:
    def decorate(view: Callable) -> Callable:
        @csrf_exempt  # bearer-token API: no cookies are trusted for a change here (DELETE needs the token too)
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                if request.method not in methods:
                    raise FhirError(405, "not-supported", f"{request.method} is not supported here.",
                                    headers={"Allow": ", ".join(methods)})
                # `_principal` activates the caller's clinic zone; the override puts back what was active before
                # (a worker thread must not carry one clinic's zone into the next request).
                with timezone.override(timezone.get_current_timezone()):
                    return view(request, *args, **kwargs)
            except REFUSALS as raised:
                error = refusal(raised)
            return _response(operation_outcome(error.code, error.diagnostics), error.status, FHIR_JSON, error.headers)

        return wrapper

    return decorate


def _prefer(request) -> set[str]:
    return {token.strip().lower() for part in request.headers.get("Prefer", "").split(",") for token in part.split(";")}


def _kickoff(request, level: str, group_id: str | None = None) -> HttpResponse:
    negotiate(request)  # Accept: application/fhir+json (or json); anything else is a 406
    principal = _principal(request)
    prefer = _prefer(request)
    if "respond-async" not in prefer:
        raise FhirError(400, "invalid", "$export runs asynchronously: send 'Prefer: respond-async'.")
    req = bulk_export.parse_request(principal, level, request.GET, lenient="handling=lenient" in prefer,
                                    group_id=group_id)
    job = bulk_export.start_export(principal, request.build_absolute_uri(), req)
    status_url = request.build_absolute_uri(reverse("fhir:export_status", args=[job.public_id]))
    outcome = operation_outcome("informational", f"Export accepted; poll {status_url}.", severity="information")
    return _response(outcome, 202, FHIR_JSON, {"Content-Location": status_url})


@bulk_endpoint(("GET",))
def export_system(request):
    return _kickoff(request, "system")


@bulk_endpoint(("GET",))
def export_patients(request):
    return _kickoff(request, "patient")


@bulk_endpoint(("GET",))
def export_group(request, group_id: str):
    return _kickoff(request, "group", group_id)


@bulk_endpoint(("GET", "DELETE"))
def export_status(request, job_id: str):
    principal = _principal(request)
    job = bulk_export.job_for(principal, job_id)
    if request.method == "DELETE":
        bulk_export.cancel(principal, job)
        return _response(operation_outcome("informational", "The export was cancelled and its files deleted.",
                                           severity="information"), 202, FHIR_JSON)
    bulk_export.recover_if_stale(job)
    job.refresh_from_db()
    if job.status in ExportJob.ACTIVE:
        response = HttpResponse(status=202)
        total = sum(job.counts.values()) if job.counts else 0
        response["X-Progress"] = (f"{job.status}: {job.progress} ({total} resources so far)" if job.progress
                                  else job.status)[:200]
        response["Retry-After"] = str(bulk_export.RETRY_AFTER_SECONDS)
        return response
    if job.status == ExportJob.FAILED:
        # The spec's error answer for a failed job: a 5xx with an OperationOutcome saying why.
        return _response(operation_outcome("exception", job.error or "The export failed."), 500, FHIR_JSON)
    if job.status == ExportJob.CANCELLED:
        raise not_found("This export was cancelled.")
    if bulk_export.is_expired(job):
        raise FhirError(404, "not-found", "This export has expired and its files were deleted; start a new one.")
    response = _response(bulk_export.manifest(job, _base(request)), 200, "application/json")
    response["Expires"] = http_date(job.expires_at.timestamp())
    return response


@bulk_endpoint(("GET",))
def export_file(request, job_id: str, name: str):
    principal = _principal(request)
    job = bulk_export.job_for(principal, job_id)
    if job.status != ExportJob.COMPLETED or bulk_export.is_expired(job):
        raise not_found("No such export file (expired, cancelled, or not ready).")
    path, entry = bulk_export.file_path(job, name)
    resource = registry.get(entry["type"])
    if resource is not None and not principal.may_read(resource.name, resource.action):
        raise FhirError(403, "forbidden", f"Your access does not include {resource.name}.")
    audit.record("fhir.export_file.downloaded", obj=job, clinic=job.clinic, actor=principal.actor,
                 details={"channel": "fhir", "file": name, "type": entry["type"], "count": entry["count"]})
    response = FileResponse(open(path, "rb"), content_type=bulk_export.NDJSON)  # noqa: SIM115 - FileResponse closes it
    response["Cache-Control"] = "no-store"
    return response
