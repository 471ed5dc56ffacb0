"""Check-ins and alerts on the patient's chart timeline."""

from __future__ import annotations

from django.urls import reverse

from triggerpoint.accounts.policy import can
from triggerpoint.followup.models import Alert, CheckIn, CheckInStatus
from triggerpoint.patients.timeline import TimelineEntry

# The rows these entries are built from, and their path to the patient (patients.timeline's cache);
# the check-in and alert claims (QuerySet.update) send core.changes.patient_records_changed.
CHANGED_BY = {
    "followup.CheckIn": "patient_id",
    "followup.Alert": "patient_id",
    "followup.CallNote": "patient_id",
}


def entries(patient, user) -> list[TimelineEntry]:
    if not can(user, "followup.view", patient):
        return []
    found = []
    for checkin in CheckIn.objects.filter(patient=patient).exclude(status=CheckInStatus.DUE):
        title = f"Day {checkin.day} check-in" if checkin.day is not None else "Problem reported by the patient"
        summary = ""
        if checkin.is_answered:
            reasons = (checkin.triage or {}).get("reasons", [])
            summary = "; ".join(r["message"] for r in reasons[:2])
        found.append(TimelineEntry(
            at=checkin.answered_at or checkin.expires_at, kind="check-in", title=title, summary=summary,
            url=reverse("followup:checkin", args=[patient.public_id, checkin.public_id]),
            status=checkin.get_disposition_display() if checkin.disposition else checkin.get_status_display(),
        ))
    for alert in Alert.objects.filter(patient=patient):
        found.append(TimelineEntry(
            at=alert.raised_at, kind="alert", title=f"{alert.get_disposition_display()} alert",
            summary=alert.resolution_note, url=reverse("followup:alert", args=[patient.public_id, alert.public_id]),
            status=alert.get_status_display(),
        ))
    return found
