"""Assessment visits on the patient's chart timeline."""

from __future__ import annotations

from datetime import datetime, time

from django.db.models import Exists, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from triggerpoint.accounts.policy import can
from triggerpoint.assessment.labels import CLASS_LABELS, site_label
from triggerpoint.assessment.models import ExamFinding, Visit, VisitAmendment, VisitDiagnosis
from triggerpoint.patients.timeline import ChartAction, TimelineEntry

# The rows these entries are built from, and their path to the patient (patients.timeline's cache).
CHANGED_BY = {
    "assessment.Visit": "patient_id",
    "assessment.ExamFinding": "visit.patient_id",
    "assessment.VisitDiagnosis": "visit.patient_id",
    "assessment.VisitAmendment": "visit.patient_id",
}


def _at(visit: Visit) -> datetime:
    """The visit's clinical date, at the time it was opened when that was the same day."""
    if timezone.localtime(visit.created_at).date() == visit.visit_date:
        return visit.created_at
    return timezone.make_aware(datetime.combine(visit.visit_date, time(12)))


def _summary(visit: Visit, findings: list[str]) -> str:
    parts = []
    if visit.primary_code is not None:
        parts.append(f"{visit.primary_code} {visit.primary_description}")
    counts: dict[str, int] = {}
    for classification in findings:
        counts[classification] = counts.get(classification, 0) + 1
    if counts.get("active"):
        parts.append(f"{counts['active']} active trigger point{'s' if counts['active'] != 1 else ''}")
    elif counts:
        parts.append(", ".join(f"{n} {CLASS_LABELS[k].lower()}" for k, n in counts.items()))
    if visit.planned_sites:
        parts.append("plan: " + "; ".join(site_label(s["muscle"], s["side"]) for s in visit.planned_sites[:4]))
    if visit.amended:
        parts.append("amended")
    return " · ".join(parts) or (visit.chief_complaint or "Not yet filled in")


def entries(patient, user) -> list[TimelineEntry]:
    if not can(user, "assessment.view", patient):
        return []
    found = []
    # Two queries whatever the number of visits: the visits with their primary diagnosis and whether
    # they were amended, then every exam finding's class as a plain value (no model per finding).
    primary = VisitDiagnosis.objects.filter(visit=OuterRef("pk"), is_primary=True).order_by("created_at")
    visits = list(
        Visit.objects.filter(patient=patient).annotate(
            primary_code=Subquery(primary.values("code")[:1]),
            primary_description=Subquery(primary.values("description")[:1]),
            amended=Exists(VisitAmendment.objects.filter(visit=OuterRef("pk"))),
        )
    )
    findings_of: dict[int, list[str]] = {}
    if visits:
        for visit_id, classification in ExamFinding.objects.filter(
            visit_id__in=[visit.pk for visit in visits]
        ).order_by("created_at").values_list("visit_id", "classification"):
            findings_of.setdefault(visit_id, []).append(classification)
    for visit in visits:
        name = "summary" if visit.is_signed or not can(user, "assessment.edit", visit) else "visit"
        found.append(
            TimelineEntry(
                at=_at(visit),
                kind="assessment",
                title=f"Assessment visit{': ' + visit.chief_complaint if visit.chief_complaint else ''}",
                summary=_summary(visit, findings_of.get(visit.pk, [])),
                url=reverse(f"assessment:{name}", args=[patient.public_id, visit.public_id]),
                status="signed" if visit.is_signed else "draft",
            )
        )
    return found


def actions(patient, user):
    """The chart's way into this patient's assessment visits."""
    if not can(user, "assessment.view", patient):
        return []
    return [ChartAction("Assessment visits", reverse("assessment:patient_visits", args=[patient.public_id]))]
