"""Call notes: a clinician's record of calling a patient about an alert or a check-in.

A call about an open alert acknowledges it (the caller is on it); a call about an answered
check-in marks it reviewed. Both happen in the note's transaction, each with its own audit event.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit
from triggerpoint.followup.alerts import acknowledge_alert
from triggerpoint.followup.checkins import mark_reviewed
from triggerpoint.followup.models import Alert, AlertStatus, CallNote, CallOutcome, CheckIn
from triggerpoint.patients.selectors import chart_ids


def add_call_note(
    user, patient, *, outcome: str, note: str = "", alert: Alert | None = None, checkin: CheckIn | None = None,
    now: datetime | None = None,
) -> CallNote:
    """Record a call to the patient. A call about an open alert acknowledges it (the caller is on it);
    a call about an answered check-in marks it reviewed."""
    require(user, "followup.triage", patient)
    if outcome not in CallOutcome.values:
        raise ValidationError({"outcome": [f"Choose one of {list(CallOutcome.values)}."]})
    for record in (alert, checkin):
        if record is not None and record.patient_id not in chart_ids(patient):
            raise ValidationError("That alert or check-in belongs to another patient.")
    if alert is not None and checkin is None:
        checkin = alert.checkin
    now = now or timezone.now()
    with transaction.atomic():
        call = CallNote.objects.create(
            clinic=patient.clinic, patient=patient, alert=alert, checkin=checkin, outcome=outcome,
            note=(note or "").strip(), called_at=now,
        )
        audit.record("followup.call_note.created", obj=call, patient=patient,
                     details={"outcome": outcome, "alert": str(alert.public_id) if alert else None,
                              "checkin": str(checkin.public_id) if checkin else None})
        if alert is not None and alert.status == AlertStatus.OPEN:
            acknowledge_alert(user, alert, now, via="call_note")
        if checkin is not None and checkin.is_answered and checkin.reviewed_at is None:
            mark_reviewed(user, checkin, now)
    return call
