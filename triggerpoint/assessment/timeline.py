"""Assessment visits on the patient's chart timeline."""

from __future__ import annotations

from datetime import datetime, time

from django.urls import reverse
from django.utils import timezone

from triggerpoint.accounts.policy import can
from triggerpoint.assessment.display import CLASS_LABELS, site_label
from triggerpoint.assessment.models import Visit
from triggerpoint.patients.timeline import TimelineEntry


def _at(visit: Visit) -> datetime:
    """The visit's clinical date, at the time it was opened when that was the same day."""
    if timezone.localtime(visit.created_at).date() == visit.visit_date:
        return visit.created_at
    return timezone.make_aware(datetime.combine(visit.visit_date, time(12)))


def _summary(visit: Visit) -> str:
    parts = []
    primary = next((d for d in visit.diagnoses.all() if d.is_primary), None)
    if primary is not None:
        parts.append(f"{primary.code} {primary.description}")
    counts: dict[str, int] = {}
    for finding in visit.exam_findings.all():
        counts[finding.classification] = counts.get(finding.classification, 0) + 1
    if counts.get("active"):
        parts.append(f"{counts['active']} active trigger point{'s' if counts['active'] != 1 else ''}")
    elif counts:
        parts.append(", ".join(f"{n} {CLASS_LABELS[k].lower()}" for k, n in counts.items()))
    if visit.planned_sites:
        parts.append("plan: " + "; ".join(site_label(s["muscle"], s["side"]) for s in visit.planned_sites[:4]))
    if visit.amendments.exists():
        parts.append("amended")
    return " · ".join(parts) or (visit.chief_complaint or "Not yet filled in")


def entries(patient, user) -> list[TimelineEntry]:
    if not can(user, "assessment.view", patient):
        return []
    found = []
    visits = Visit.objects.filter(patient=patient).prefetch_related("diagnoses", "exam_findings")
    for visit in visits:
        name = "summary" if visit.is_signed or not can(user, "assessment.edit", visit) else "visit"
        found.append(
            TimelineEntry(
                at=_at(visit),
                kind="assessment",
                title=f"Assessment visit{': ' + visit.chief_complaint if visit.chief_complaint else ''}",
                summary=_summary(visit),
                url=reverse(f"assessment:{name}", args=[patient.public_id, visit.public_id]),
                status="signed" if visit.is_signed else "draft",
            )
        )
    return found


def actions(patient, user):
    """The chart's way into this patient's assessment visits."""
    from triggerpoint.patients.timeline import ChartAction

    if not can(user, "assessment.view", patient):
        return []
    return [ChartAction("Assessment visits", reverse("assessment:patient_visits", args=[patient.public_id]))]
