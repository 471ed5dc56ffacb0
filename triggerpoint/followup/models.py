"""Follow-up after a procedure: check-ins, the alerts they raise, who is on call, call notes.

A signed procedure schedules check-ins; a check-in answered with a warning sign
(`emergency` or `urgent`) raises an `Alert` that pages the clinic's on-call clinician and
escalates until somebody acknowledges it. The triage result is stored with the check-in
(rule ids and versions) so the chart shows what the software said at the time, even after
the rules change.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from triggerpoint.core.models import ClinicalRecord
from triggerpoint.followup.escalation import EscalationPolicy
from triggerpoint.followup.schedule import DEFAULT_PLAN, CheckInPlan, parse_slots


class Disposition(models.TextChoices):
    EMERGENCY = "emergency", "Emergency"
    URGENT = "urgent", "Urgent"
    ROUTINE = "routine", "Routine"
    SELF_CARE = "self_care", "Self care"


PAGED_DISPOSITIONS = (Disposition.EMERGENCY, Disposition.URGENT)


class CheckInKind(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    PATIENT_INITIATED = "patient_initiated", "Reported by the patient"


class CheckInStatus(models.TextChoices):
    DUE = "due", "Due"
    ANSWERED = "answered", "Answered"
    MISSED = "missed", "Missed"


class AnsweredVia(models.TextChoices):
    LINK = "link", "Link in a message"
    PORTAL = "portal", "Patient portal"
    STAFF = "staff", "Entered by staff (phone call)"


class CheckIn(ClinicalRecord):
    """One question to the patient after a procedure: "how are you, any warning signs?"."""

    procedure = models.ForeignKey("procedures.Procedure", on_delete=models.PROTECT, related_name="checkins")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="checkins")
    kind = models.CharField(max_length=20, choices=CheckInKind.choices, default=CheckInKind.SCHEDULED)
    day = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Planned day after the procedure (0 = procedure day); scheduled check-ins only."
    )
    due_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField(help_text="When the check-in link stops working and the check-in is missed.")
    status = models.CharField(max_length=10, choices=CheckInStatus.choices, default=CheckInStatus.DUE, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_via = models.CharField(max_length=10, choices=AnsweredVia.choices, blank=True)
    # What the patient said: {"symptoms": [...], "temperature": {"value", "unit"} | null,
    # "pain_now": int | null, "relief_percent": int | null, "free_text": str}
    answers = models.JSONField(default=dict, blank=True)
    # What triage said at the time: the API contract shape plus rule ids/versions and the
    # data versions used, so a later rule change never rewrites history.
    triage = models.JSONField(default=dict, blank=True)
    disposition = models.CharField(max_length=10, choices=Disposition.choices, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            # The procedure_signed receiver may run twice; this makes a duplicate impossible.
            models.UniqueConstraint(
                fields=["procedure", "day"],
                condition=models.Q(kind="scheduled"),
                name="followup_one_scheduled_checkin_per_day",
            ),
        ]
        indexes = [models.Index(fields=["clinic", "status", "due_at"])]

    def __str__(self) -> str:
        label = f"day {self.day}" if self.day is not None else "reported problem"
        return f"Check-in {label} ({self.get_status_display()})"

    @property
    def is_answered(self) -> bool:
        return self.status == CheckInStatus.ANSWERED

    def is_overdue(self, now=None, plan: CheckInPlan = DEFAULT_PLAN) -> bool:
        now = now or timezone.now()
        return self.status == CheckInStatus.DUE and now >= self.due_at + plan.overdue_after


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class Alert(ClinicalRecord):
    """A warning sign that a clinician must act on: paged, acknowledged, resolved with a note."""

    checkin = models.OneToOneField(CheckIn, on_delete=models.PROTECT, related_name="alert")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="followup_alerts")
    procedure = models.ForeignKey("procedures.Procedure", on_delete=models.PROTECT, related_name="followup_alerts")
    disposition = models.CharField(max_length=10, choices=Disposition.choices)
    status = models.CharField(max_length=14, choices=AlertStatus.choices, default=AlertStatus.OPEN, db_index=True)
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_note = models.TextField(blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Every page sent: [{"level", "user", "name", "reason", "channels": [...], "at"}].
    page_log = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["raised_at", "id"]
        indexes = [models.Index(fields=["clinic", "status", "raised_at"])]

    def __str__(self) -> str:
        return f"{self.get_disposition_display()} alert ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == AlertStatus.OPEN


class OnCallSchedule(models.Model):
    """A clinic's paging order and acknowledgement window (configuration, not patient data)."""

    clinic = models.OneToOneField("clinics.Clinic", on_delete=models.PROTECT, related_name="oncall_schedule")
    acknowledge_within_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text="An alert not acknowledged within this many minutes is escalated.",
    )
    # The check-in plan: [{"day": 0, "time": "18:00"}, ...] in the clinic's local time.
    checkin_slots = models.JSONField(default=list, blank=True, help_text="Empty = the default plan.")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"On-call schedule of {self.clinic}"

    @property
    def policy(self) -> EscalationPolicy:
        return EscalationPolicy(acknowledge_within=timedelta(minutes=self.acknowledge_within_minutes))

    @property
    def plan(self) -> CheckInPlan:
        if not self.checkin_slots:
            return DEFAULT_PLAN
        return CheckInPlan(slots=parse_slots(self.checkin_slots))


class OnCallSlot(models.Model):
    """One person in the paging order, optionally only between `starts_at` and `ends_at`.

    Without times a slot is a standing place in a simple ordered rota; with times it covers
    a shift (a weekend, a night). At any moment the on-call order is the slots covering that
    moment, by `position`.
    """

    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="slots")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="oncall_slots")
    position = models.PositiveSmallIntegerField(default=0)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    # Staff phone numbers live here (the accounts app keeps only e-mail): the number the
    # clinic pages this person on while they are on call.
    phone = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.user} (#{self.position})"

    def covers(self, moment) -> bool:
        return (self.starts_at is None or self.starts_at <= moment) and (self.ends_at is None or moment < self.ends_at)


class CallOutcome(models.TextChoices):
    REACHED = "reached", "Spoke with the patient"
    NO_ANSWER = "no_answer", "No answer"
    LEFT_MESSAGE = "left_message", "Left a message"
    SENT_TO_ED = "sent_to_ed", "Advised emergency care"


class CallNote(ClinicalRecord):
    """A clinician's note of a call to the patient about a check-in or an alert."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="followup_call_notes")
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.PROTECT, related_name="call_notes")
    checkin = models.ForeignKey(CheckIn, null=True, blank=True, on_delete=models.PROTECT, related_name="call_notes")
    outcome = models.CharField(max_length=14, choices=CallOutcome.choices)
    note = models.TextField(blank=True)
    called_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["called_at", "id"]

    def __str__(self) -> str:
        return f"Call {self.called_at:%Y-%m-%d %H:%M} ({self.get_outcome_display()})"
