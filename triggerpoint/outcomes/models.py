"""Outcome records: what patients report over time, what we asked them for, and the analytics tables.

* :class:`Measurement` — one completed instrument (NRS, percent relief, PGIC,
  PEG-3, a clinic-licensed scale) for a patient, linked to the procedure it
  follows and the time point it answers. Clinical record: versioned, soft delete.
* :class:`OutcomeRequest` — one scheduled question to the patient (baseline,
  immediately after, 2/6/12 weeks) created when a procedure is signed.
* :class:`ProcedureOutcome` — one row per signed procedure with the facts the
  clinic report groups by and the outcomes it counts. Derived: rebuilt from
  procedures and measurements at any time (``services.refresh_procedure_outcome``).
* :class:`OutcomeRollup` / :class:`ReliefRollup` — per clinic, month, dimension
  and value: the sufficient statistics of the report (counts, sums, sums of
  squares, Kaplan-Meier event/censor counts per day). They are additive, so the
  report over a million procedures reads a few thousand rows, and a new
  measurement changes only the rows of its own procedure (incremental upkeep).
  They hold no patient data and are not clinical records.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from triggerpoint.core.models import ClinicalRecord


class TimePoint(models.TextChoices):
    BASELINE = "baseline", "Baseline (before the procedure)"
    IMMEDIATE = "immediate", "Immediately after"
    WEEK_2 = "2w", "2 weeks"
    WEEK_6 = "6w", "6 weeks"
    WEEK_12 = "12w", "12 weeks"
    DIARY = "diary", "Pain diary"
    OTHER = "other", "Other"


class Source(models.TextChoices):
    CLINIC = "clinic", "Recorded in clinic"
    PORTAL = "portal", "Patient portal"
    CHECKIN = "checkin", "Questionnaire link"


class Measurement(ClinicalRecord):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="outcome_measurements", db_index=False
    )
    procedure = models.ForeignKey(
        "procedures.Procedure", null=True, blank=True, on_delete=models.PROTECT, related_name="outcome_measurements"
    )
    request = models.ForeignKey(
        "outcomes.OutcomeRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="measurements"
    )
    instrument = models.CharField(max_length=40, help_text="Instrument id (outcomes/data/instruments).")
    instrument_version = models.CharField(max_length=20)
    time_point = models.CharField(max_length=10, choices=TimePoint.choices)
    measured_at = models.DateTimeField()
    answers = models.JSONField(default=dict, blank=True)
    score = models.FloatField(null=True, blank=True, help_text="None when too few items were answered.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CLINIC)

    class Meta:
        ordering = ["measured_at", "id"]
        indexes = [models.Index(fields=["patient", "measured_at"], name="outcomes_meas_patient_time")]

    def __str__(self) -> str:
        return f"{self.instrument} {self.score} ({self.time_point})"

    @property
    def pain_now(self) -> float | None:
        """Pain now on the NRS (falls back to the score, average pain, when 'now' was skipped)."""
        if self.instrument != "nrs_pain":
            return None
        value = (self.answers or {}).get("now")
        return float(value) if value is not None else self.score


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Waiting for answers"
    COMPLETED = "completed", "Answered"
    EXPIRED = "expired", "Not answered in time"
    CANCELLED = "cancelled", "Cancelled"


class OutcomeRequest(ClinicalRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="outcome_requests")
    procedure = models.ForeignKey("procedures.Procedure", on_delete=models.PROTECT, related_name="outcome_requests")
    time_point = models.CharField(max_length=10, choices=TimePoint.choices)
    due_on = models.DateField()
    answer_by = models.DateField(help_text="Last day the link and the portal accept answers.")
    instruments = models.JSONField(default=list, help_text="Instrument ids asked at this time point.")
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    channel = models.CharField(max_length=10, blank=True, help_text="email, sms, or empty for portal/in clinic only")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "time_point"], name="outcomes_one_request_per_time_point")
        ]

    def __str__(self) -> str:
        return f"{self.get_time_point_display()} outcome request due {self.due_on}"

    def is_open_on(self, day) -> bool:
        return self.status == RequestStatus.PENDING and self.due_on <= day <= self.answer_by


class ProcedureOutcome(models.Model):
    """The report's row for one signed procedure: grouping facts and outcomes (derived, rebuildable)."""

    procedure = models.OneToOneField(
        "procedures.Procedure", primary_key=True, on_delete=models.CASCADE, related_name="outcome_summary"
    )
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.CASCADE, related_name="+", db_index=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    procedure_date = models.DateField()
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    condition = models.CharField(max_length=10, blank=True, help_text="Primary ICD-10-CM code, if recorded.")
    muscles = models.JSONField(default=list)
    injectates = models.JSONField(default=list, help_text="Drug ids; 'dry_needling' when no drug was injected.")
    technique = models.CharField(max_length=12)
    guidance = models.CharField(max_length=12)
    baseline_pain = models.FloatField(null=True)
    immediate_pain = models.FloatField(null=True)
    pain_2w = models.FloatField(null=True)
    pain_6w = models.FloatField(null=True)
    pain_12w = models.FloatField(null=True)
    relief_2w = models.FloatField(null=True)
    relief_6w = models.FloatField(null=True)
    relief_12w = models.FloatField(null=True)
    best_relief = models.FloatField(null=True, help_text="Highest percent relief documented from day 1 on.")
    responder_2w = models.BooleanField(null=True)
    responder_6w = models.BooleanField(null=True)
    change_2w = models.FloatField(null=True, help_text="Pain now at 2 weeks minus baseline (negative is better).")
    change_6w = models.FloatField(null=True)
    mcid_6w = models.BooleanField(null=True, help_text="The 6-week change beats the NRS MCID.")
    relief_days = models.IntegerField(null=True, help_text="Duration of relief (relief.py); None = not evaluable.")
    relief_event = models.BooleanField(default=False, help_text="True: relief ended; False: censored.")
    relief_status = models.CharField(max_length=16)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["clinic", "procedure_date"], name="outcomes_summary_clinic_date")]

    def __str__(self) -> str:
        return f"Outcome of procedure {self.procedure_id}"


class Dimension(models.TextChoices):
    ALL = "all", "All procedures"
    CONDITION = "condition", "Condition"
    MUSCLE = "muscle", "Muscle"
    INJECTATE = "injectate", "Injectate"
    GUIDANCE = "guidance", "Guidance"
    CLINICIAN = "clinician", "Clinician"


class OutcomeRollup(models.Model):
    """Additive statistics of one group in one month (no patient data)."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.CASCADE, related_name="+", db_index=False)
    month = models.DateField(help_text="First day of the month of the procedures counted.")
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    value = models.CharField(max_length=80)
    n = models.IntegerField(default=0)
    n_2w = models.IntegerField(default=0)
    resp_2w = models.IntegerField(default=0)
    n_6w = models.IntegerField(default=0)
    resp_6w = models.IntegerField(default=0)
    n_change_2w = models.IntegerField(default=0)
    sum_change_2w = models.FloatField(default=0)
    sumsq_change_2w = models.FloatField(default=0)
    n_change_6w = models.IntegerField(default=0)
    sum_change_6w = models.FloatField(default=0)
    sumsq_change_6w = models.FloatField(default=0)
    n_mcid_6w = models.IntegerField(default=0)
    n_not_evaluable = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "month", "dimension", "value"], name="outcomes_rollup_unique")
        ]

    def __str__(self) -> str:
        return f"{self.dimension}={self.value} {self.month:%Y-%m}: {self.n}"


class ReliefRollup(models.Model):
    """How many procedures of one group in one month lost relief (event) or were censored on each day."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.CASCADE, related_name="+", db_index=False)
    month = models.DateField()
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    value = models.CharField(max_length=80)
    days = models.IntegerField()
    event = models.BooleanField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "month", "dimension", "value", "days", "event"], name="outcomes_relief_rollup_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dimension}={self.value} {self.month:%Y-%m} day {self.days}: {self.count}"
