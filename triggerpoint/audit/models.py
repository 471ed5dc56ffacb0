"""Append-only audit trail of every read and change of patient data.

The model refuses update and delete (and so does its queryset); a database
trigger would be stronger still, but the application is the only writer and
the refusal is tested.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from triggerpoint.core.errors import ImmutableRecord


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRecord("Audit events are append-only.")

    def delete(self):
        raise ImmutableRecord("Audit events are append-only.")


class AuditEvent(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=100, db_index=True)  # namespaced: patient.viewed
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    clinic = models.ForeignKey("clinics.Clinic", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "at"]), models.Index(fields=["clinic", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecord("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecord("Audit events are append-only.")
