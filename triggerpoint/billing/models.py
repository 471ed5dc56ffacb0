"""That a signed note was handed to billing: who marked it billed, when, and in which batch.

The signed note itself is the legal record and never changes (database triggers refuse it), so
"billed" lives beside it, one row per note: a note without a row is still to bill. A row is never
deleted; taking a note back (a claim to correct) records who and why, and clears `billed_at`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class BillingHandoff(models.Model):
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    procedure = models.OneToOneField("procedures.Procedure", on_delete=models.PROTECT, related_name="billing_handoff")
    billed_at = models.DateTimeField(null=True, blank=True)
    billed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    batch = models.CharField(max_length=40, blank=True, help_text="Export batch the note was billed in.")
    reopened_reason = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["clinic", "billed_at"])]

    def __str__(self) -> str:
        return f"{self.procedure_id}: {'billed ' + self.batch if self.is_billed else 'to bill'}"

    @property
    def is_billed(self) -> bool:
        return self.billed_at is not None
