"""Stored aftercare: the plan a patient was given, and which of its tasks they ticked done.

A plan is stored *as built* (the JSON the pure generator returned, with the template id
and version) so the chart and the patient always see exactly what was handed out, even
after the clinic edits its template. Reminders are not stored here: they are outbox rows
(`notifications.Notification`) related to the plan, so there is one delivery queue only.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Q
from django.utils import timezone

from triggerpoint.core.models import ClinicalRecord


class AftercarePlan(ClinicalRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="aftercare_plans")
    procedure = models.ForeignKey("procedures.Procedure", on_delete=models.PROTECT, related_name="aftercare_plans")
    procedure_date = models.DateField()
    plan = models.JSONField(help_text="The plan as built (the aftercare/plan contract shape).")
    inputs = models.JSONField(
        default=dict, help_text="What the plan was built from: sites, injectates, conditions, physical therapy."
    )
    template_id = models.CharField(max_length=40)
    template_version = models.PositiveIntegerField()
    language = models.CharField(max_length=5)
    reminder_channel = models.CharField(max_length=10, blank=True, help_text="email, sms, or blank when none.")
    reminder_note = models.CharField(max_length=200, blank=True, help_text="Why reminders were not scheduled.")
    # A second note signed for the same patient on the same procedure date (other muscles, another
    # session) joins this plan instead of starting a parallel plan with its own reminder series:
    # `procedure` stays the day's first note, the later ones are listed here and the plan is rebuilt
    # from all of them (services.create_plan_for_procedure).
    also_covers = models.ManyToManyField(
        "procedures.Procedure", through="PlanCoverage", related_name="aftercare_plans_also", blank=True
    )

    class Meta:
        ordering = ["-procedure_date", "-created_at"]
        constraints = [
            # One live plan per procedure: the signing receiver may run again, the plan may not double.
            models.UniqueConstraint(
                fields=["procedure"], condition=Q(deleted_at__isnull=True), name="aftercare_one_plan_per_procedure"
            )
        ]
        indexes = [models.Index(fields=["patient", "procedure_date"])]

    def __str__(self) -> str:
        return f"Aftercare plan {self.procedure_date}"

    @property
    def days(self) -> list[dict]:
        return list(self.plan.get("days", []))

    @property
    def last_day(self) -> date:
        days = self.days
        return date.fromisoformat(days[-1]["date"]) if days else self.procedure_date


class PlanCoverage(models.Model):
    """A later note of the same day that a plan was rebuilt to cover (the plan's own `procedure` is the first)."""

    plan = models.ForeignKey(AftercarePlan, on_delete=models.PROTECT, related_name="coverage")
    procedure = models.ForeignKey("procedures.Procedure", on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            # The day's plan covers a later note once; the note never gets a plan of its own besides.
            models.UniqueConstraint(fields=["procedure"], name="aftercare_one_plan_covers_procedure")
        ]

    def __str__(self) -> str:
        return f"plan {self.plan_id} also covers procedure {self.procedure_id}"


class CheckSource(models.TextChoices):
    PORTAL = "portal", "Patient portal"
    LINK = "link", "Link from a message"


class TaskCheck(ClinicalRecord):
    """One task of one plan day, ticked done (or unticked) by the patient."""

    plan = models.ForeignKey(AftercarePlan, on_delete=models.PROTECT, related_name="checks")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    day_number = models.PositiveSmallIntegerField()
    task_key = models.CharField(max_length=120, help_text="The task id, plus ':<muscle>' for per-muscle tasks.")
    done = models.BooleanField(default=False)
    checked_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=CheckSource.choices)

    class Meta:
        ordering = ["day_number", "task_key"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "day_number", "task_key"], name="aftercare_one_check_per_task_day")
        ]

    def __str__(self) -> str:
        return f"day {self.day_number} {self.task_key}: {'done' if self.done else 'open'}"
