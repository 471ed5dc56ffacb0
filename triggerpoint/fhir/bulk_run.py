"""The run of a Bulk Data export job (`run_export`, the task's body; tests call it directly).

It claims an accepted job (a conditional UPDATE: one worker only), streams each type's sources from
the database in chunks (`.iterator(chunk_size=FHIR_EXPORT_CHUNK)`), maps each record with the
registry's mapper and appends NDJSON lines to `<FHIR_EXPORT_DIR>/<job id>/<Type>-<part>.ndjson` (a new
part every `FHIR_EXPORT_FILE_MAX_RESOURCES` lines; a type with no records has no file). Memory holds one
chunk and the set of patients seen, never the clinic. After each chunk it beats (`heartbeat_at`,
progress, counts); a beat that finds the job no longer in progress (cancelled, or failed by the stale
check in `bulk_export`) stops the run and deletes its files. Completing the job and writing one
`fhir.export.read` audit event per exported patient (one bulk INSERT) happen in one transaction: a
manifest never names a half-written file set, and a failed or cancelled run audits nobody.

`_since` (`since_field`) compares the record's own `updated_at`; where its table has none,
`created_at`; for rows without timestamps (a note's injection sites and injectates) the parent
note's `updated_at`. A type whose records carry no timestamp at all is exported whole.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from triggerpoint.audit import services as audit
from triggerpoint.core.context import acting_as
from triggerpoint.fhir import bulk_export, registry
from triggerpoint.fhir.groups import member_public_ids
from triggerpoint.fhir.models import ExportJob
from triggerpoint.fhir.params import Ref, Token
from triggerpoint.fhir.registry import ResourceType, Scope

log = logging.getLogger(__name__)
MEMBER_BATCH = 1000  # group members per query (the patient filter's IN list)

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
    files = _Files(bulk_export.job_dir(job), bulk_export.max_per_file())
    try:
        with acting_as(_actor(job)):
            _write(job, files)
    except _Stopped:
        files.close()
        bulk_export.delete_files(job)
        return ExportJob.objects.filter(pk=job_id).values_list("status", flat=True).first() or "missing"
    except Exception as exc:
        files.close()
        log.exception("FHIR export %s failed", job.public_id)
        where = ExportJob.objects.filter(pk=job_id).values_list("progress", flat=True).first() or "its files"
        bulk_export.fail(job, f"The export stopped on an internal error ({type(exc).__name__}) after "
                              f"{where!r}; start a new export. The server log has the details.")
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
    size = bulk_export.chunk_size()
    for type_name in job.types:
        resource = registry.get(type_name)
        counts[type_name] = 0
        if resource is None or (job.level == "group" and type_name == "Group" and not members):
            continue
        for source in resource.sources:
            for queryset in _querysets(job, resource, source, members):
                chunk: list[str] = []
                rows = queryset.iterator(chunk_size=size)
                try:
                    for record in rows:
                        chunk.append(json.dumps(source.to_resource(record), ensure_ascii=False,
                                                separators=(",", ":")))
                        for patient in _patients_of(source.patient_of(record)):
                            seen.setdefault(patient.pk, (patient.public_id, patient.clinic_id))
                        if len(chunk) >= size:
                            files.write(type_name, chunk)
                            counts[type_name] += len(chunk)
                            chunk = []
                            _beat(job, f"{type_name}: {counts[type_name]} written", counts)
                finally:
                    # Close the (PostgreSQL: server-side) cursor now, not whenever the garbage collector
                    # finalises the generator: that could send CLOSE in the middle of another query.
                    rows.close()
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
            finished_at=now, heartbeat_at=now, expires_at=now + bulk_export.ttl(), active_key=None, progress="completed")
        if not done:
            raise _Stopped
        audit.record_patient_views(
            "fhir.export.read", [_Seen(pk, public_id, clinic_id) for pk, (public_id, clinic_id) in seen.items()],
            clinic=job.clinic_id, actor=_actor(job),
            details={"channel": "fhir", "operation": "$export", "job": str(job.public_id), "level": job.level,
                     "types": [t for t in job.types if counts.get(t)],
                     "requester": job.requester_label})
