"""FHIR Bulk Data Access 2.0 export (`$export`): kick-off checks, the job, status, cancel, expiry.

The flow (https://hl7.org/fhir/uv/bulkdata/export.html):

* `parse_request` checks a kick-off (`_type`, `_since`, `_outputFormat`, the group) against the
  registry and the caller: an unknown or unserved type is a 400, a type the caller may not read a 403
  (named in `_type`) or left out (no `_type`); a missing group a 404.
* `start_export` stores an `ExportJob` (accepted) and queues `tasks.run_export_job` after commit. One
  active export per client (`FHIR_EXPORT_ONE_PER_CLIENT`): a unique `active_key` column makes a second
  kick-off fail at the database, answered 429 with Retry-After.
* `bulk_run.run_export(job_id)` (the task's body) writes the files and completes the job (see there).
* `recover_if_stale` and `manifest` serve the status URL (`bulk_views`); `cancel` (DELETE) cancels and deletes files; `sweep` deletes expired
  files (`FHIR_EXPORT_TTL_HOURS` after completion) and fails jobs whose worker stopped beating for
  `FHIR_EXPORT_STALE_MINUTES` (or that were never started within `FHIR_EXPORT_QUEUE_MINUTES`) with a
  reason: a job never hangs "in progress". It runs at each kick-off, at each poll (for that job), on the
  worker's sweep loop (`fhir.sweeps`) and from `triggerpoint fhir_export_sweep`.

Levels: a system export serves every registered type the caller may read; a Patient export the types
in the patient compartment (those whose `patient_param` names the patient: not AuditEvent, not Group);
a Group export those, narrowed to the group's members, plus the Group itself when it has members (an
empty group completes with `output: []`).

`_since`: see `bulk_run.since_field`.
"""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from triggerpoint.audit import services as audit
from triggerpoint.fhir import registry
from triggerpoint.fhir.errors import FhirError, invalid, not_found
from triggerpoint.fhir.models import ExportJob, PatientGroup
from triggerpoint.fhir.params import ID, check_text
from triggerpoint.fhir.registry import ResourceType

NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = {"application/fhir+ndjson", "application/ndjson", "ndjson"}
NOT_PATIENT_COMPARTMENT = {"AuditEvent", "Group"}  # never in a Patient or Group export's default types
SUPPORTED_PARAMS = {"_type", "_since", "_outputFormat", "_format"}
KNOWN_UNSUPPORTED = {"_typeFilter", "_elements", "patient", "includeAssociatedData", "organizeOutputBy",
                     "allowPartialManifests"}
FILE_NAME = re.compile(r"^[A-Z][A-Za-z]{0,63}-\d{1,6}\.ndjson$")
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$")
RETRY_AFTER_SECONDS = 5

_TASK: Any = None


def provide_export_task(task: Any) -> None:
    """`FhirConfig.ready` hands over `tasks.run_export_job` (this module never imports the tasks module)."""
    global _TASK
    _TASK = task


# ------------------------------------------------------------------ settings
def export_dir() -> Path:
    return Path(getattr(settings, "FHIR_EXPORT_DIR", Path(settings.VAR_DIR) / "fhir-export"))


def ttl() -> timedelta:
    return timedelta(hours=float(getattr(settings, "FHIR_EXPORT_TTL_HOURS", 24)))


def stale_after() -> timedelta:
    return timedelta(minutes=float(getattr(settings, "FHIR_EXPORT_STALE_MINUTES", 10)))


def queue_timeout() -> timedelta:
    return timedelta(minutes=float(getattr(settings, "FHIR_EXPORT_QUEUE_MINUTES", 60)))


def chunk_size() -> int:
    return int(getattr(settings, "FHIR_EXPORT_CHUNK", 500))


def max_per_file() -> int:
    return int(getattr(settings, "FHIR_EXPORT_FILE_MAX_RESOURCES", 100_000))


def one_per_client() -> bool:
    return bool(getattr(settings, "FHIR_EXPORT_ONE_PER_CLIENT", True))


# ------------------------------------------------------------------ kick-off
def _uuid(text: str | None) -> uuid.UUID | None:
    """Our ids are UUIDs: anything else names nothing here (a 404, never a 500)."""
    if not text or not ID.match(text):
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class ExportRequest:
    level: str  # system | patient | group
    types: tuple[str, ...]
    since: datetime | None
    output_format: str
    group: PatientGroup | None = None


def eligible(resource: ResourceType, level: str) -> bool:
    """Whether a type belongs in an export of this level (see the module's docstring)."""
    if level == "system":
        return True
    if resource.name == "Group":
        return level == "group"
    if resource.name in NOT_PATIENT_COMPARTMENT or not resource.patient_param:
        return False
    param = resource.param(resource.patient_param)
    return param is not None and (resource.name == "Patient" or param.type == "reference")


def parse_since(raw: str) -> datetime:
    text = check_text("_since", raw).strip()
    if not INSTANT.match(text):
        raise invalid(f"Parameter '_since': {text[:40]!r} is not a FHIR instant (e.g. 2026-01-01T00:00:00Z, "
                      "with a time zone).")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"Parameter '_since': {text[:40]!r} is not a calendar date and time.") from None


def parse_request(principal: Any, level: str, params: Any, *, lenient: bool = False,
                  group_id: str | None = None) -> ExportRequest:
    """Check a kick-off; raises `FhirError` (4xx) for anything this server will not run."""
    if principal.scope.patient_id is not None:
        raise FhirError(403, "forbidden", "Bulk export is for clinic staff and system clients, not portal accounts.")
    for key, values in params.lists():
        check_text("parameter name", key)
        for value in values:
            check_text(key, value)
        if key in SUPPORTED_PARAMS:
            if len(values) > 1 and key != "_type":
                raise invalid(f"Parameter {key!r} may be given once.")
            continue
        if lenient:
            continue
        if key in KNOWN_UNSUPPORTED:
            raise invalid(f"Parameter {key!r} is not supported by this server's $export (send "
                          "'Prefer: handling=lenient' to have it ignored).")
        raise invalid(f"Unknown $export parameter {key[:60]!r}; supported: _type, _since, _outputFormat.")
    output_format = params.get("_outputFormat", NDJSON).strip()
    if output_format not in OUTPUT_FORMATS:
        raise invalid(f"_outputFormat {output_format[:60]!r} is not served: this server writes "
                      "application/fhir+ndjson (also accepted as application/ndjson or ndjson).")
    since = parse_since(params["_since"]) if params.get("_since") else None
    group = None
    if level == "group":
        key = _uuid(group_id)
        group = PatientGroup.objects.filter(clinic_id=principal.scope.clinic_id, public_id=key).first() if key else None
        if group is None:
            raise not_found(f"No Group with id {group_id!r} here.")
        group_type = registry.get("Group")
        if group_type is not None and not principal.may_read("Group", group_type.action):
            raise FhirError(403, "forbidden", "Your access does not include Group.")
    asked = [t.strip() for raw in params.getlist("_type") for t in raw.split(",")]
    if params.getlist("_type") and not any(asked):
        raise invalid("Parameter '_type' has no value.")
    if any(asked):
        types = []
        for name in dict.fromkeys(t for t in asked if t):
            resource = registry.get(name)
            if resource is None:
                raise invalid(f"_type names {name[:64]!r}, which this server does not serve: see /fhir/R4/metadata.")
            if not eligible(resource, level):
                raise invalid(f"_type names {name!r}, which is not exported at the {level} level.")
            if not principal.may_read(resource.name, resource.action):
                raise FhirError(403, "forbidden", f"Your access does not include {resource.name}.")
            types.append(name)
    else:
        types = [r.name for r in registry.all_types()
                 if eligible(r, level) and principal.may_read(r.name, r.action)]
        if not types:
            raise FhirError(403, "forbidden", "Your access includes none of the types this export would return.")
    return ExportRequest(level=level, types=tuple(types), since=since, output_format=output_format, group=group)


def _requester(principal: Any) -> tuple[str, str, Any, str]:
    """(requester key, audit label, user or None, SMART client id)."""
    actor = principal.actor
    client_id = getattr(actor, "client_id", None)
    if client_id:
        return f"smart:{client_id}", getattr(actor, "username", f"smart:{client_id}"), None, client_id
    return f"user:{actor.pk}", getattr(actor, "username", ""), actor, ""


def start_export(principal: Any, request_url: str, req: ExportRequest) -> ExportJob:
    """Store the job (accepted) and queue its run after commit; 429 while this client has one running."""
    sweep()
    requester, label, user, client_id = _requester(principal)
    active = ExportJob.objects.filter(requester=requester, status__in=ExportJob.ACTIVE).first()
    if active is not None:
        recover_if_stale(active)
    job = ExportJob(clinic_id=principal.scope.clinic_id, level=req.level, group=req.group, types=list(req.types),
                    since=req.since, output_format=req.output_format, request_url=request_url[:4000],
                    user=user, smart_client_id=client_id, requester=requester, requester_label=label,
                    active_key=requester if one_per_client() else None)
    with transaction.atomic():  # the job and its audit event together, or neither
        try:
            with transaction.atomic():
                job.save()
        except IntegrityError:
            raise FhirError(429, "throttled", "This client already has an export running: poll its status URL, "
                            "or cancel it (DELETE), before starting another.",
                            headers={"Retry-After": str(60)}) from None
        audit.record("fhir.export.requested", obj=job, clinic=job.clinic, actor=principal.actor, details={
            "channel": "fhir", "operation": "$export", "level": req.level, "types": list(req.types),
            "since": req.since.isoformat() if req.since else None,
            "group": str(req.group.public_id) if req.group else None})
    if _TASK is not None:
        job_pk = job.pk
        transaction.on_commit(lambda: _TASK.enqueue(job_pk))
    return job


# ------------------------------------------------------------------ files, status, cancel, expiry, recovery
def job_dir(job: ExportJob) -> Path:
    return export_dir() / str(job.public_id)


def delete_files(job: ExportJob) -> None:
    shutil.rmtree(job_dir(job), ignore_errors=True)


def job_for(principal: Any, job_id: str) -> ExportJob:
    """The caller's own job (same clinic, same client or user), else a 404."""
    requester = _requester(principal)[0]
    key = _uuid(job_id)
    job = ExportJob.objects.filter(public_id=key, clinic_id=principal.scope.clinic_id,
                                   requester=requester).first() if key else None
    if job is None:
        raise not_found("No such export here.")
    return job


def fail(job: ExportJob, reason: str) -> bool:
    now = timezone.now()
    failed = ExportJob.objects.filter(pk=job.pk, status__in=ExportJob.ACTIVE).update(
        status=ExportJob.FAILED, error=reason[:2000], finished_at=now, expires_at=now + ttl(), active_key=None,
        files_deleted=True)
    delete_files(job)
    if failed:
        job.refresh_from_db()
    return bool(failed)


def recover_if_stale(job: ExportJob, now: datetime | None = None) -> bool:
    """Fail a job whose worker stopped beating, or that no worker took up in time; True when it did."""
    now = now or timezone.now()
    if job.status == ExportJob.IN_PROGRESS and (job.heartbeat_at or job.started_at or job.created_at) < now - stale_after():
        return fail(job, f"The export's worker stopped responding (no progress since "
                         f"{(job.heartbeat_at or job.started_at).isoformat()}); start a new export.")
    if job.status == ExportJob.ACCEPTED and job.created_at < now - queue_timeout():
        return fail(job, "No worker started the export in time; start a new export (is the worker running?).")
    return False


def is_expired(job: ExportJob, now: datetime | None = None) -> bool:
    return job.files_deleted or (job.expires_at is not None and job.expires_at <= (now or timezone.now()))


def cancel(principal: Any, job: ExportJob) -> None:
    if job.status == ExportJob.CANCELLED:
        raise not_found("This export was already cancelled.")
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.CANCELLED, finished_at=now, active_key=None,
                                               files_deleted=True, expires_at=now)
    delete_files(job)  # a running worker notices at its next beat and deletes what it wrote since
    audit.record("fhir.export.cancelled", obj=job, clinic=job.clinic, actor=principal.actor,
                 details={"channel": "fhir", "previous_status": job.status})


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Delete expired files and fail stale jobs. Idempotent; safe on several workers."""
    now = now or timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(files_deleted=False, expires_at__lte=now).only("pk", "public_id"):
        delete_files(job)
        expired += ExportJob.objects.filter(pk=job.pk).update(files_deleted=True)
    recovered = 0
    stale = ExportJob.objects.filter(
        models.Q(status=ExportJob.IN_PROGRESS, heartbeat_at__lt=now - stale_after())
        | models.Q(status=ExportJob.ACCEPTED, created_at__lt=now - queue_timeout()))
    for job in stale:
        recovered += recover_if_stale(job, now)
    return {"fhir_exports_expired": expired, "fhir_exports_recovered": recovered}


def manifest(job: ExportJob, base: str) -> dict[str, Any]:
    return {
        "transactionTime": job.transaction_time.isoformat().replace("+00:00", "Z"),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [{"type": o["type"], "url": f"{base}$export-file/{job.public_id}/{o['file']}", "count": o["count"]}
                   for o in job.outputs],
        "error": [],
    }


def file_path(job: ExportJob, name: str) -> tuple[Path, dict[str, Any]]:
    """The path of one of a completed job's files, with its manifest entry; 404 for anything else."""
    entry = next((o for o in job.outputs if o["file"] == name), None) if FILE_NAME.match(name or "") else None
    path = job_dir(job) / name if entry else None
    if entry is None or path is None or not path.is_file():
        raise not_found("No such export file (expired, cancelled, or never written).")
    return path, entry
