"""Scheduling records: appointment types, rooms, opening hours and appointments.

Times are stored as aware UTC instants; the clinic's wall clock (`Clinic.time_zone`) is applied
only when a time is shown or typed, so a daylight-saving change never shifts a booking.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from triggerpoint.core.models import ClinicalRecord
from triggerpoint.scheduling import rules


class AppointmentKind(models.TextChoices):
    ASSESSMENT = "assessment", "Assessment"
    PROCEDURE = "procedure", "Trigger point procedure"
    FOLLOW_UP = "follow_up", "Follow-up"
    REMOTE_FOLLOW_UP = "remote_follow_up", "Phone/video follow-up"


class AppointmentStatus(models.TextChoices):
    BOOKED = rules.BOOKED, "Booked"
    CONFIRMED = rules.CONFIRMED, "Confirmed"
    ARRIVED = rules.ARRIVED, "Arrived"
    IN_ROOM = rules.IN_ROOM, "In room"
    DONE = rules.DONE, "Done"
    CANCELLED = rules.CANCELLED, "Cancelled"
    NO_SHOW = rules.NO_SHOW, "No-show"


class AppointmentType(ClinicalRecord):
    """What is booked (an assessment, a procedure...), with the length the front desk starts from."""

    kind = models.CharField(max_length=20, choices=AppointmentKind.choices)
    name = models.CharField(max_length=100)
    default_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(480)])
    needs_room = models.BooleanField(default=True, help_text="Phone/video follow-ups need no room.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="scheduling_type_name_per_clinic")]

    def __str__(self) -> str:
        return self.name


class Room(ClinicalRecord):
    name = models.CharField(max_length=100)
    has_ultrasound = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="scheduling_room_name_per_clinic")]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    """One opening period of a weekday on the clinic's local clock; a weekday without rows is closed."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField(
        choices=[(i, name) for i, name in enumerate(rules.WEEKDAYS)], validators=[MaxValueValidator(6)])
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["clinic", "weekday", "opens"]
        constraints = [models.CheckConstraint(condition=models.Q(closes__gt=models.F("opens")),
                                              name="scheduling_hours_close_after_open")]

    def __str__(self) -> str:
        return f"{rules.WEEKDAYS[self.weekday]} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Appointment(ClinicalRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="appointments")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="appointments")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    note = models.CharField(max_length=300, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    # When each status was reached (the day view and the chart show them).
    confirmed_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    in_room_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    no_show_at = models.DateTimeField(null=True, blank=True)

    STATUS_TIMESTAMP = {rules.CONFIRMED: "confirmed_at", rules.ARRIVED: "arrived_at", rules.IN_ROOM: "in_room_at",
                        rules.DONE: "done_at", rules.CANCELLED: "cancelled_at", rules.NO_SHOW: "no_show_at"}

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["clinic", "starts_at"]), models.Index(fields=["clinician", "starts_at"]),
                   models.Index(fields=["room", "starts_at"])]
        constraints = [models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                              name="scheduling_appointment_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.appointment_type} {self.starts_at:%Y-%m-%d %H:%M} UTC"

    @property
    def status_label(self) -> str:
        return AppointmentStatus(self.status).label

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)
