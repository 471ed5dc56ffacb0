"""Screening records and informed consent for one planned procedure.

A screening record keeps what was asked, what was answered, what the pure rules
found (with each rule's id and version, so a finding can be traced to the exact
rule text that produced it), who reviewed it and any physician override. The
status is the most severe finding; `defer` and `contraindicated` block the
procedure unless a physician overrides them with a reason.

A consent is generated from the plan and, once signed, never changes: a changed
plan needs a new consent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from triggerpoint.core.errors import ImmutableRecord
from triggerpoint.core.models import ClinicalRecord


class ScreeningStatus(models.TextChoices):
    PENDING = "pending", "Not yet evaluated"
    READY = "ready", "Ready"
    REVIEW = "review", "Needs review"
    DEFER = "defer", "Defer"
    CONTRAINDICATED = "contraindicated", "Contraindicated"


BLOCKING_STATUSES = frozenset({ScreeningStatus.DEFER, ScreeningStatus.CONTRAINDICATED})


class ScreeningRecord(ClinicalRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="screenings")
    planned_procedure_date = models.DateField()
    # {"sites": [{"muscle", "side"}], "injectates": [{"drug"}], "guidance": "landmark"|"ultrasound"}
    plan = models.JSONField(default=dict)
    # Which plan parts were prefilled and left as they were: {"sites": {"source": "assessment", "id", "date"}}
    prefilled_from = models.JSONField(default=dict, blank=True)
    # The questionnaire answers: {"events": [...], "today": {...}, "pregnant": bool, ...}
    answers = models.JSONField(default=dict, blank=True)
    answers_source = models.CharField(max_length=20, blank=True)  # staff | patient_link | portal
    answers_submitted_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ScreeningStatus.choices, default=ScreeningStatus.PENDING)
    # [{"rule_id", "rule_version", "severity", "message", "basis", "sources", "details"}]
    findings = models.JSONField(default=list, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    # The facts the rules saw, kept so the evaluation can be explained later.
    evaluated_facts = models.JSONField(default=dict, blank=True)
    # When the rules could not run: every missing or invalid fact (the status stays `pending`).
    missing_facts = models.JSONField(default=list, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    overridden_at = models.DateTimeField(null=True, blank=True)
    override_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-planned_procedure_date", "-created_at"]
        indexes = [
            models.Index(fields=["clinic", "status"]),
            models.Index(fields=["patient", "planned_procedure_date"]),
        ]

    def __str__(self) -> str:
        return f"Screening {self.planned_procedure_date} ({self.get_status_display()})"

    @property
    def is_overridden(self) -> bool:
        return self.overridden_at is not None

    @property
    def is_blocking(self) -> bool:
        return self.status in BLOCKING_STATUSES and not self.is_overridden


class ClinicScreeningPolicy(models.Model):
    """A clinic's own screening thresholds: any `rules.ScreeningPolicy` field, e.g.
    ``{"recent_event_window_days": 21, "steroid_yearly_max": 3}``. Fields not given keep the default."""

    clinic = models.OneToOneField("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    overrides = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Screening policy for clinic {self.clinic_id}"


class SignatureKind(models.TextChoices):
    DRAWN = "drawn", "Drawn signature"
    CHECKBOX = "checkbox", "Checkbox acknowledgement"


class Consent(ClinicalRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="consents")
    screening = models.ForeignKey(ScreeningRecord, on_delete=models.PROTECT, related_name="consents")
    # The generated document: {"title", "procedure", "sites", "injectates", "guidance", "risks": [...], ...}
    document = models.JSONField(default=dict)
    document_text = models.TextField(blank=True)
    document_version = models.CharField(max_length=40)
    signer_name = models.CharField(max_length=200, blank=True)
    signer_relationship = models.CharField(max_length=60, blank=True, default="self")
    signature_kind = models.CharField(max_length=10, choices=SignatureKind.choices, blank=True)
    signature_image = models.TextField(blank=True)  # data:image/png;base64,... when drawn
    signed_at = models.DateTimeField(null=True, blank=True)
    witness_name = models.CharField(max_length=200, blank=True)
    signed_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        state = "signed" if self.is_signed else "unsigned"
        return f"Consent {self.document_version} ({state})"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def save(self, *args, **kwargs):
        if not self._state.adding and self.pk:
            was_signed = type(self).all_objects.filter(pk=self.pk, signed_at__isnull=False).exists()
            if was_signed:
                raise ImmutableRecord("A signed consent cannot be changed; generate a new consent instead.")
        super().save(*args, **kwargs)

    def save_versioned(self, expected_version: int, fields: list[str]) -> None:
        if type(self).all_objects.filter(pk=self.pk, signed_at__isnull=False).exists():
            raise ImmutableRecord("A signed consent cannot be changed; generate a new consent instead.")
        super().save_versioned(expected_version, fields)
