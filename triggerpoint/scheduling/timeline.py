"""The chart shows the patient's appointments (with where each one stands) and a way to book the next."""

from __future__ import annotations

from django.urls import reverse

from triggerpoint.accounts.policy import can
from triggerpoint.patients.timeline import ChartAction, TimelineEntry
from triggerpoint.scheduling import selectors, services

# The rows these entries are built from, and their path to the patient (patients.timeline's cache).
CHANGED_BY = {"scheduling.Appointment": "patient_id"}


def entries(patient, user) -> list[TimelineEntry]:
    if not can(user, "schedule.view", patient):
        return []
    zone = patient.clinic.zone
    found = []
    for a in selectors.appointments_of_chart(patient)[:50]:  # the chart asks each merged chart in turn
        local = a.starts_at.astimezone(zone)
        where = f" in {a.room.name}" if a.room_id else ""
        summary = f"{local:%a %d %b %Y %H:%M} with {services.clinician_name(a.clinician)}{where}"
        if a.cancel_reason:
            summary += f"; cancelled: {a.cancel_reason}"
        found.append(TimelineEntry(at=a.starts_at, kind="appointment", title=a.appointment_type.name, summary=summary,
                                   url=reverse("scheduling:day") + f"?date={local.date().isoformat()}",
                                   status=a.status_label))
    return found


def actions(patient, user) -> list[ChartAction]:
    if not can(user, "appointment.book", patient):
        return []
    return [ChartAction("Book appointment", reverse("scheduling:book") + f"?patient={patient.public_id}")]
