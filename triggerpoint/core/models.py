"""The shared base for clinical records.

Every clinical record: a UUID public id (integer keys never leave the server),
the clinic it belongs to, who created and last changed it and when, a version
for optimistic concurrency, and soft delete only — nothing clinical is ever
hard-deleted.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from triggerpoint.core import context
from triggerpoint.core.changes import versioned_record_saved
from triggerpoint.core.errors import HardDeleteRefused, StaleVersion


class ClinicalQuerySet(models.QuerySet):
    def delete(self):
        raise HardDeleteRefused("Clinical records are never hard-deleted.")

    def for_clinic(self, clinic):
        return self.filter(clinic=clinic)


class ActiveManager(models.Manager.from_queryset(ClinicalQuerySet)):
    """Hides soft-deleted rows; `all_objects` sees everything."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class AllRecordsManager(models.Manager.from_queryset(ClinicalQuerySet)):
    pass


def _actor_or_none():
    actor = context.current().actor
    return actor if actor is not None and getattr(actor, "pk", None) else None


class ClinicalRecord(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = ActiveManager()
    all_objects = AllRecordsManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        actor = _actor_or_none()
        if self._state.adding and self.created_by_id is None and actor is not None:
            self.created_by = actor
        if actor is not None:
            self.updated_by = actor
        if not self._state.adding:
            self.updated_at = timezone.now()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise HardDeleteRefused(f"{type(self).__name__} records are never hard-deleted; use soft_delete().")

    def soft_delete(self) -> None:
        self.deleted_at = timezone.now()
        self.save_versioned(self.version, fields=["deleted_at"])

    def save_versioned(self, expected_version: int, fields: list[str]) -> None:
        """Write `fields` only if nobody saved since `expected_version` was read.

        The check and the write are one conditional UPDATE, so two clinicians
        saving the same draft cannot overwrite each other silently.
        """
        model = type(self)
        actor = _actor_or_none()
        self.updated_at = timezone.now()
        values = {name: getattr(self, name) for name in fields}
        values["updated_at"] = self.updated_at
        if actor is not None:
            values["updated_by"] = actor
        with transaction.atomic():
            changed = model.all_objects.filter(pk=self.pk, version=expected_version).update(
                version=F("version") + 1, **values
            )
            if not changed:
                current = model.all_objects.filter(pk=self.pk).values_list("version", flat=True).first()
                raise StaleVersion(model._meta.verbose_name, expected_version, current)
            versioned_record_saved.send(sender=model, instance=self)
        self.version = expected_version + 1
