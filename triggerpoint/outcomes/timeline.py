"""Chart timeline entries: what each procedure achieved, linking to the outcomes page."""

from __future__ import annotations

from datetime import datetime, time

from django.urls import reverse
from django.utils import timezone

from triggerpoint.accounts.policy import can
from triggerpoint.outcomes.models import ProcedureOutcome
from triggerpoint.patients.timeline import ChartAction, TimelineEntry

# The rows these entries are built from, and their path to the patient (patients.timeline's cache).
CHANGED_BY = {
    "outcomes.ProcedureOutcome": "patient_id",
    "outcomes.Measurement": "patient_id",
    "outcomes.OutcomeRequest": "patient_id",
}


def _describe(outcome: ProcedureOutcome) -> str:
    parts = []
    for label, relief, pain in (("2 w", outcome.relief_2w, outcome.pain_2w), ("6 w", outcome.relief_6w, outcome.pain_6w)):
        if relief is not None:
            parts.append(f"{relief:.0f}% relief at {label}")
        elif pain is not None:
            parts.append(f"pain {pain:.0f}/10 at {label}")
    if outcome.relief_days is not None:
        parts.append(f"relief lasted {outcome.relief_days} days" if outcome.relief_event
                     else f"relief holding at day {outcome.relief_days}")
    return "; ".join(parts) or "waiting for the patient's answers"


def entries(patient, user) -> list[TimelineEntry]:
    if not can(user, "outcomes.view", patient):
        return []
    url = reverse("outcomes:patient", args=[patient.public_id])
    found = []
    for outcome in ProcedureOutcome.objects.filter(patient=patient).order_by("-procedure_date")[:50]:
        at = timezone.make_aware(datetime.combine(outcome.procedure_date, time(23, 59)), patient.clinic.zone)
        status = "" if outcome.responder_6w is None else ("responder" if outcome.responder_6w else "non-responder")
        found.append(TimelineEntry(at=at, kind="outcome", title=f"Outcomes after the {outcome.procedure_date:%Y-%m-%d} procedure",
                                   summary=_describe(outcome), url=url, status=status))
    return found


def actions(patient, user):
    """The chart's way to this patient's outcomes over time."""
    if not can(user, "outcomes.view", patient):
        return []
    return [ChartAction("Outcomes", reverse("outcomes:patient", args=[patient.public_id]))]
