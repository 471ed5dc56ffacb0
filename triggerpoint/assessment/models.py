"""The assessment visit: history, pain drawing, scores, exam, fibromyalgia check, diagnoses, plan.

One `Visit` is one clinical encounter. It is a draft while the clinician works and is
signed by a physician; after signing it is immutable (the model refuses to save a
signed visit's clinical fields, and the services refuse too) and every later change is
a `VisitAmendment` that records the reason and the before/after values.

Exam findings store what the pure rule said (`classification`, `rule_id`, `rule_version`)
so the chart shows the basis that applied when the finding was recorded, even if the
rule changes later. Coded answers (causes, prior treatments, adjuncts) are option ids
from `data/history_options.yaml`, so reports can count them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from triggerpoint.core.choices import Side
from triggerpoint.core.errors import ImmutableRecord
from triggerpoint.core.models import ClinicalRecord

ZERO_TO_TEN = [MinValueValidator(0), MaxValueValidator(10)]


class VisitStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class TriggerPointClass(models.TextChoices):
    ACTIVE = "active", "Active trigger point"
    LATENT = "latent", "Latent trigger point"
    NOT_TRIGGER_POINT = "not_trigger_point", "Not a trigger point"


class _SignedGuard(ClinicalRecord):
    """Refuses to save a row whose visit is signed (the model-level half of immutability)."""

    class Meta:
        abstract = True

    def _owning_visit_signed(self) -> bool:
        raise NotImplementedError

    def save(self, *args, **kwargs):
        if self._owning_visit_signed():
            raise ImmutableRecord(
                f"This {self._meta.verbose_name} belongs to a signed visit; record an amendment instead."
            )
        super().save(*args, **kwargs)


class Visit(ClinicalRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="assessment_visits")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    visit_date = models.DateField()
    status = models.CharField(max_length=10, choices=VisitStatus.choices, default=VisitStatus.DRAFT)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)

    # History
    chief_complaint = models.CharField(max_length=300, blank=True)
    onset_date = models.DateField(null=True, blank=True)
    causes = models.JSONField(default=list, blank=True, help_text='[{"id": suspected_causes id, "detail": str}]')
    aggravating_factors = models.TextField(blank=True)
    easing_factors = models.TextField(blank=True)
    effect_on_movement = models.TextField(blank=True)
    effect_on_sleep = models.TextField(blank=True)
    effect_on_daily_life = models.TextField(blank=True)
    prior_treatments = models.JSONField(
        default=list, blank=True, help_text='[{"id": prior_treatments id, "outcome": treatment_outcomes id, "detail": str}]'
    )

    # Pain drawing: {zone_id: intensity 1-10}
    pain_drawing = models.JSONField(default=dict, blank=True)

    # Scores (definitions live in catalogues.instruments: one implementation)
    nrs_now = models.PositiveSmallIntegerField(null=True, blank=True, validators=ZERO_TO_TEN)
    nrs_average = models.PositiveSmallIntegerField(null=True, blank=True, validators=ZERO_TO_TEN)
    nrs_worst = models.PositiveSmallIntegerField(null=True, blank=True, validators=ZERO_TO_TEN)
    peg_pain = models.PositiveSmallIntegerField(null=True, blank=True, validators=ZERO_TO_TEN)
    peg_enjoyment = models.PositiveSmallIntegerField(null=True, blank=True, validators=ZERO_TO_TEN)
    peg_activity = models.PositiveSmallIntegerField(null=True, blank=True, validators=ZERO_TO_TEN)
    peg_score = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)

    # Fibromyalgia check (2016 ACR)
    fibromyalgia_inputs = models.JSONField(default=dict, blank=True)
    fibromyalgia_result = models.JSONField(default=dict, blank=True)

    # Treatment plan
    planned_sites = models.JSONField(default=list, blank=True, help_text='[{"muscle": id, "side": "left|right"}]')
    planned_injectate = models.JSONField(
        default=list, blank=True, help_text='[{"drug": id, "concentration": str, "volume_ml": num}]'
    )
    planned_technique = models.CharField(max_length=20, blank=True, help_text="injection | dry_needling")
    planned_guidance = models.CharField(max_length=12, blank=True, help_text="landmark | ultrasound (blank: not decided)")
    adjuncts = models.JSONField(default=list, blank=True, help_text="plan_adjuncts option ids")
    adjunct_detail = models.CharField(max_length=300, blank=True)
    goals = models.TextField(blank=True, help_text="in the patient's own words")
    follow_up_interval = models.CharField(max_length=40, blank=True, help_text="follow_up_intervals option id")
    plan_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-visit_date", "-created_at"]
        indexes = [models.Index(fields=["clinic", "patient", "visit_date"])]

    def __str__(self) -> str:
        return f"Assessment visit {self.visit_date} ({self.get_status_display()})"

    @property
    def is_signed(self) -> bool:
        return self.status == VisitStatus.SIGNED

    def save(self, *args, **kwargs):
        """A signed visit never changes again (except through `save_versioned` for soft delete)."""
        if not self._state.adding and self.pk:
            stored = type(self).all_objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == VisitStatus.SIGNED:
                raise ImmutableRecord("This visit is signed; record an amendment instead.")
        super().save(*args, **kwargs)

    def save_versioned(self, expected_version: int, fields: list[str]) -> None:
        stored = type(self).all_objects.filter(pk=self.pk).values_list("status", flat=True).first()
        if stored == VisitStatus.SIGNED and set(fields) - {"deleted_at"}:
            raise ImmutableRecord("This visit is signed; record an amendment instead.")
        super().save_versioned(expected_version, fields)


class ExamFinding(_SignedGuard):
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="exam_findings")
    muscle = models.CharField(max_length=60, help_text="atlas muscle id")
    side = models.CharField(max_length=5, choices=Side.choices)
    taut_band = models.BooleanField()
    tender_spot = models.BooleanField()
    recognised_pain = models.BooleanField()
    spontaneous_pain = models.BooleanField()
    local_twitch_response = models.BooleanField()
    jump_sign = models.BooleanField()
    focal_nodule = models.BooleanField()
    referred_zones = models.JSONField(default=list, blank=True)
    pressure_pain_threshold_kg_cm2 = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    notes = models.CharField(max_length=300, blank=True)

    classification = models.CharField(max_length=20, choices=TriggerPointClass.choices)
    meets_lcd_documentation = models.BooleanField(default=False)
    rule_id = models.CharField(max_length=40)
    rule_version = models.PositiveIntegerField()
    basis = models.JSONField(default=list, blank=True, help_text="the rule findings shown to the clinician")

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "muscle", "side"],
                condition=models.Q(deleted_at__isnull=True),
                name="assessment_exam_one_per_site",
            )
        ]

    def __str__(self) -> str:
        return f"{self.muscle} ({self.side}): {self.classification}"

    def _owning_visit_signed(self) -> bool:
        return Visit.all_objects.filter(pk=self.visit_id, status=VisitStatus.SIGNED).exists()


class VisitDiagnosis(_SignedGuard):
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="diagnoses")
    code = models.CharField("ICD-10-CM code", max_length=10)
    description = models.CharField(max_length=300)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "created_at"]
        verbose_name_plural = "visit diagnoses"
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "code"],
                condition=models.Q(deleted_at__isnull=True),
                name="assessment_diagnosis_once_per_visit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"

    def _owning_visit_signed(self) -> bool:
        return Visit.all_objects.filter(pk=self.visit_id, status=VisitStatus.SIGNED).exists()


class VisitAmendment(ClinicalRecord):
    """A change to a signed visit: append-only, with who, when, why and what changed."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="amendments")
    reason = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amended_at = models.DateTimeField()
    changes = models.JSONField(default=dict, help_text='{"field": {"before": x, "after": y}}')

    class Meta:
        ordering = ["amended_at"]

    def __str__(self) -> str:
        return f"Amendment {self.amended_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecord("Amendments are append-only.")
        super().save(*args, **kwargs)
