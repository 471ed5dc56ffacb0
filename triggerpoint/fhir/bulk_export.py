"""FHIR Bulk Data Access 2.0 export (`$export`): kick-off checks, the job, the background run, status, cancel, expiry.

The flow (https://hl7.org/fhir/uv/bulkdata/export.html):

* `parse_request` checks a kick-off (`_type`, `_since`, `_outputFormat`, the group) against the
  registry and the caller: an unknown or unserved type is a 400, a type the caller may not read a 403
  (named in `_type`) or left out (no `_type`); a missing group a 404.
* `start_export` stores an `ExportJob` (accepted) and queues `tasks.run_export_job` after commit. One
  active export per client (`FHIR_EXPORT_ONE_PER_CLIENT`): a unique `active_key` column makes a second
  kick-off fail at the database, answered 429 with Retry-After.
* `run_export(job_id)` (the task; tests call it directly) claims the job, streams each type's sources
  from the database in chunks (`.iterator(chunk_size=FHIR_EXPORT_CHUNK)`), maps each record with the
  registry's mapper and appends NDJSON lines to `<FHIR_EXPORT_DIR>/<job id>/<Type>-<part>.ndjson`
  (a new part every `FHIR_EXPORT_FILE_MAX_RESOURCES` lines). Nothing of the clinic is held in memory but
  one chunk and the set of patients seen. After each chunk it beats (`heartbeat_at`, progress, counts);
  a beat that finds the job no longer in progress (cancelled, or failed by the stale-job check) stops
  the run and deletes its files. The job completes, and one `fhir.export.read` audit event per exported
  patient is written, in one transaction: a manifest never names a half-written file set.
* `poll` answers the status URL; `cancel` (DELETE) cancels and deletes files; `sweep` deletes expired
  files (`FHIR_EXPORT_TTL_HOURS` after completion) and fails jobs whose worker stopped beating for
  `FHIR_EXPORT_STALE_MINUTES` (or that were never started within `FHIR_EXPORT_QUEUE_MINUTES`) with a
  reason: a job never hangs "in progress". It runs at each kick-off, at each poll (for that job), on the
  worker's sweep loop (`fhir.sweeps`) and from `triggerpoint fhir_export_sweep`.

Levels: a system export serves every registered type the caller may read; a Patient export the types
in the patient compartment (those whose `patient_param` names the patient: not AuditEvent, not Group);
a Group export those, narrowed to the group's members, plus the Group itself when it has members (an
empty group completes with `output: []`).

`_since` keeps the records whose `updated_at` is at or after the instant (the record's own; where the
table has none, `created_at`; for rows without timestamps — a note's injection sites and injectates —
the parent note's `updated_at`). A type whose records carry no timestamp at all is exported whole.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from triggerpoint.audit import services as audit
from triggerpoint.core.context import acting_as
from triggerpoint.fhir import registry
from triggerpoint.fhir.errors import FhirError, invalid, not_found
from triggerpoint.fhir.groups import member_public_ids
from triggerpoint.fhir.models import ExportJob, PatientGroup
from triggerpoint.fhir.params import ID, Ref, Token, check_text
from triggerpoint.fhir.registry import ResourceType, Scope

log = logging.getLogger(__name__)

NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = {"application/fhir+ndjson", "application/ndjson", "ndjson"}
NOT_PATIENT_COMPARTMENT = {"AuditEvent", "Group"}  # never in a Patient or Group export's default types
SUPPORTED_PARAMS = {"_type", "_since", "_outputFormat", "_format"}
KNOWN_UNSUPPORTED = {"_typeFilter", "_elements", "patient", "includeAssociatedData", "organizeOutputBy",
                     "allowPartialManifests"}
FILE_NAME = re.compile(r"^[A-Z][A-Za-z]{0,63}-\d{1,6}\.ndjson$")
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$")
MEMBER_BATCH = 1000
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
        if not group_id or not ID.match(group_id):
            raise not_found(f"{(group_id or '')[:64]!r} is not a FHIR id.")
        try:
            group = PatientGroup.objects.filter(clinic_id=principal.scope.clinic_id, public_id=group_id).first()
        except Exception:  # not a UUID: no such group  # noqa: BLE001
            group = None
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
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        raise FhirError(429, "throttled", "This client already has an export running: poll its status URL, or "
                        "cancel it (DELETE), before starting another.",
                        headers={"Retry-After": str(60)}) from None
    audit.record("fhir.export.requested", obj=job, clinic=job.clinic, actor=principal.actor, details={
        "channel": "fhir", "operation": "$export", "level": req.level, "types": list(req.types),
        "since": req.since.isoformat() if req.since else None,
        "group": str(req.group.public_id) if req.group else None})
    if _TASK is not None:
        job_pk = job.pk
        transaction.on_commit(lambda: _TASK.enqueue(job_pk))
    return job


# ------------------------------------------------------------------ the run
class _Stopped(Exception):  # noqa: N818 - the job was cancelled or failed under the running worker
    pass


class _Files:
    """NDJSON files of one job: one per type, split into parts; opened at the first line, so no empty files."""

    def __init__(self, directory: Path, limit: int):
        self.directory, self.limit = directory, limit
        self.outputs: list[dict[str, Any]] = []
        self._handle = None
        self._type: str | None = None
        self._part = 0
        self._lines = 0

    def write(self, type_name: str, lines: list[str]) -> None:
        for line in lines:
            if self._handle is None or self._type != type_name or self._lines >= self.limit:
                self._open(type_name)
            self._handle.write(line)
            self._handle.write("\n")
            self._lines += 1
            self.outputs[-1]["count"] += 1

    def _open(self, type_name: str) -> None:
        self.close()
        self._part = self._part + 1 if self._type == type_name else 1
        self._type, self._lines = type_name, 0
        name = f"{type_name}-{self._part}.ndjson"
        self.directory.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.directory / name, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.outputs.append({"type": type_name, "file": name, "count": 0})

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def job_dir(job: ExportJob) -> Path:
    return export_dir() / str(job.public_id)


def delete_files(job: ExportJob) -> None:
    shutil.rmtree(job_dir(job), ignore_errors=True)


@dataclass(frozen=True)
class _Requester:
    """The audit's actor for a job run by the worker: the user, or the SMART client's label (no user row)."""

    pk: Any
    username: str


def _actor(job: ExportJob) -> Any:
    return job.user if job.user_id else _Requester(pk=None, username=job.requester_label)


OWN_TIMESTAMPS = ("updated_at", "created_at")
NOT_A_PARENT = {"clinic", "patient", "created_by", "updated_by", "merged_into", "portal_user"}


def since_field(model: Any) -> str | None:
    """The timestamp `_since` compares for a model's rows (see the module's docstring), or None."""
    own = {f.name for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)}
    for name in OWN_TIMESTAMPS:
        if name in own:
            return name
    for f in model._meta.concrete_fields:
        if f.many_to_one and f.name not in NOT_A_PARENT:
            parent = {g.name for g in f.related_model._meta.concrete_fields if isinstance(g, models.DateTimeField)}
            for name in OWN_TIMESTAMPS:
                if name in parent:
                    return f"{f.name}__{name}"
    return None


def _patients_of(found: Any) -> list[Any]:
    if found is None:
        return []
    return list(found) if isinstance(found, list | tuple) else [found]


def _batched(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _querysets(job: ExportJob, resource: ResourceType, source: Any, members: list[str] | None) -> Iterator[Any]:
    """The source's records for this job (scope, level, `_since`), as one or more ordered querysets."""
    queryset = source.records(Scope(clinic_id=job.clinic_id))
    if job.since is not None:
        field = since_field(queryset.model)
        if field is not None:
            queryset = queryset.filter(**{f"{field}__gte": job.since})
    if job.level == "group":
        if resource.name == "Group":
            yield source.filters["_id"](queryset, [Token(None, str(job.group.public_id))]).order_by(*source.order_by)
            return
        patient_filter = source.filters.get(resource.patient_param) if resource.patient_param else None
        if patient_filter is None:
            return
        for batch in _batched(members or [], MEMBER_BATCH):
            values = ([Token(None, pid) for pid in batch] if resource.name == "Patient"
                      else [Ref("Patient", pid) for pid in batch])
            yield patient_filter(queryset, values).order_by(*source.order_by)
        return
    yield queryset.order_by(*source.order_by)


def _beat(job: ExportJob, progress: str, counts: dict[str, int]) -> None:
    beaten = ExportJob.objects.filter(pk=job.pk, status=ExportJob.IN_PROGRESS).update(
        heartbeat_at=timezone.now(), progress=progress[:200], counts=counts)
    if not beaten:
        raise _Stopped


def run_export(job_id: int) -> str:
    """Run an accepted job to its end (completed, failed or stopped); returns the job's status. Idempotent."""
    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.ACCEPTED).update(
        status=ExportJob.IN_PROGRESS, started_at=now, heartbeat_at=now, transaction_time=now, progress="started")
    if not claimed:
        return ExportJob.objects.filter(pk=job_id).values_list("status", flat=True).first() or "missing"
    job = ExportJob.objects.select_related("group", "user", "clinic").get(pk=job_id)
    files = _Files(job_dir(job), max_per_file())
    try:
        with acting_as(_actor(job)):
            _write(job, files)
    except _Stopped:
        files.close()
        delete_files(job)
        return ExportJob.objects.filter(pk=job_id).values_list("status", flat=True).first() or "missing"
    except Exception as exc:
        files.close()
        log.exception("FHIR export %s failed", job.public_id)
        fail(job, f"The export stopped on an internal error ({type(exc).__name__}) while writing "
                  f"{job.progress or 'its files'}; start a new export. The server log has the details.")
        return ExportJob.FAILED
    return ExportJob.COMPLETED


def _write(job: ExportJob, files: _Files) -> None:
    members: list[str] | None = None
    if job.level == "group":
        if job.group is None:
            raise ValueError("the group was deleted")
        members = [str(pid) for pid in member_public_ids(job.group)]
    counts: dict[str, int] = {}
    seen: dict[int, tuple[Any, Any]] = {}  # patient pk -> (public id, clinic id)
    size = chunk_size()
    for type_name in job.types:
        resource = registry.get(type_name)
        counts[type_name] = 0
        if resource is None or (job.level == "group" and type_name == "Group" and not members):
            continue
        for source in resource.sources:
            for queryset in _querysets(job, resource, source, members):
                chunk: list[str] = []
                for record in queryset.iterator(chunk_size=size):
                    chunk.append(json.dumps(source.to_resource(record), ensure_ascii=False, separators=(",", ":")))
                    for patient in _patients_of(source.patient_of(record)):
                        seen.setdefault(patient.pk, (patient.public_id, patient.clinic_id))
                    if len(chunk) >= size:
                        files.write(type_name, chunk)
                        counts[type_name] += len(chunk)
                        chunk = []
                        _beat(job, f"{type_name}: {counts[type_name]} written", counts)
                if chunk:
                    files.write(type_name, chunk)
                    counts[type_name] += len(chunk)
        _beat(job, f"{type_name}: {counts[type_name]} written (done)", counts)
    files.close()
    _complete(job, files.outputs, counts, seen)


@dataclass(frozen=True)
class _Seen:
    pk: int
    public_id: Any
    clinic_id: Any


def _complete(job: ExportJob, outputs: list[dict[str, Any]], counts: dict[str, int],
              seen: dict[int, tuple[Any, Any]]) -> None:
    now = timezone.now()
    with transaction.atomic():
        done = ExportJob.objects.filter(pk=job.pk, status=ExportJob.IN_PROGRESS).update(
            status=ExportJob.COMPLETED, outputs=outputs, counts=counts, patients_exported=len(seen),
            finished_at=now, heartbeat_at=now, expires_at=now + ttl(), active_key=None, progress="completed")
        if not done:
            raise _Stopped
        audit.record_patient_views(
            "fhir.export.read", [_Seen(pk, public_id, clinic_id) for pk, (public_id, clinic_id) in seen.items()],
            clinic=job.clinic_id, actor=_actor(job),
            details={"channel": "fhir", "operation": "$export", "job": str(job.public_id), "level": job.level,
                     "types": [t for t in job.types if counts.get(t)],
                     "requester": job.requester_label})


# ------------------------------------------------------------------ status, cancel, expiry, recovery
def job_for(principal: Any, job_id: str) -> ExportJob:
    """The caller's own job (same clinic, same client or user), else a 404."""
    requester = _requester(principal)[0]
    job = None
    if ID.match(job_id or ""):
        try:
            job = ExportJob.objects.filter(public_id=job_id, clinic_id=principal.scope.clinic_id,
                                           requester=requester).first()
        except Exception:  # not a UUID  # noqa: BLE001
            job = None
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
