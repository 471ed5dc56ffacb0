"""The signed note's page links to the check-ins of its day (core.plugins ``note_links``).

One set of check-ins per patient and procedure date (checkins.schedule_checkins), so a later
note of the day links to the set its day's first note scheduled.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from triggerpoint.accounts.policy import can
from triggerpoint.followup.models import CheckIn, CheckInKind
from triggerpoint.patients.selectors import chart_ids
from triggerpoint.procedures.note_links import NoteLink


def links(procedure, user) -> list[NoteLink]:
    if not can(user, "followup.view", procedure.patient):
        return []
    checkins = (
        CheckIn.objects.filter(patient_id__in=chart_ids(procedure.patient_id),
                               procedure__procedure_date=procedure.procedure_date)
        .select_related("clinic")
        .order_by("due_at", "id")
    )
    found = []
    for checkin in checkins:
        if checkin.kind == CheckInKind.SCHEDULED:
            label = f"Day {checkin.day} check-in"
        else:
            label = "Problem reported by the patient"
        due = timezone.localtime(checkin.due_at, checkin.clinic.zone)
        found.append(NoteLink(
            label=label,
            url=reverse("followup:checkin", args=[procedure.patient.public_id, checkin.public_id]),
            detail=f"{checkin.get_status_display()} · {due:%Y-%m-%d %H:%M}"
                   + (f" · {checkin.get_disposition_display()}" if checkin.disposition else ""),
            status="warn" if checkin.disposition in ("emergency", "urgent") else "",
        ))
    return found
