"""What the FHIR interface stores of its own: the clinic's patient groups and bulk export jobs.

`PatientGroup` is a named list of a clinic's patients ("All TPI patients 2026", "Research
cohort"), served as FHIR `Group` and exported by `Group/{id}/$export`. `ExportJob` is one Bulk
Data export (`bulk_export`): who asked, what, its state, progress and heartbeat, and its files.
The layer above nothing: no other app reads these models.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class PatientGroup(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    members = models.ManyToManyField("patients.Patient", related_name="+", blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="fhir_group_name_per_clinic")]

    def __str__(self) -> str:
        return self.name


class ExportJob(models.Model):
    ACCEPTED = "accepted"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STATUSES = [(s, s) for s in (ACCEPTED, IN_PROGRESS, COMPLETED, FAILED, CANCELLED)]
    ACTIVE = (ACCEPTED, IN_PROGRESS)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=10)  # system | patient | group
    group = models.ForeignKey(PatientGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    types = models.JSONField(default=list)  # the resource types exported, in order
    since = models.DateTimeField(null=True, blank=True)
    output_format = models.CharField(max_length=40, default="application/fhir+ndjson")
    request_url = models.TextField()
    # Who asked: a staff user (API token or session) or a SMART Backend Services client (no user row).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    smart_client_id = models.CharField(max_length=100, blank=True)
    requester = models.CharField(max_length=200)  # "user:<pk>" or "smart:<client id>": polls must match
    requester_label = models.CharField(max_length=200)  # the audit's actor label
    # Set to `requester` while the job is active: a unique column, so a second concurrent kick-off
    # by the same client fails at the database, not only in a check that could race.
    active_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(max_length=20, choices=STATUSES, default=ACCEPTED)
    progress = models.CharField(max_length=200, blank=True)
    counts = models.JSONField(default=dict)  # type -> resources written
    outputs = models.JSONField(default=list)  # [{"type", "file", "count"}] once completed
    patients_exported = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    transaction_time = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    files_deleted = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["status", "heartbeat_at"]), models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"export {self.public_id} ({self.status})"
