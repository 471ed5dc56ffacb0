"""Screening and consent entries on the patient's chart timeline."""

from __future__ import annotations

from django.urls import reverse

from triggerpoint.accounts.policy import can
from triggerpoint.patients.timeline import ChartAction, TimelineEntry
from triggerpoint.screening.models import Consent, ScreeningRecord

# The rows these entries are built from, and their path to the patient (patients.timeline's cache).
CHANGED_BY = {"screening.ScreeningRecord": "patient_id", "screening.Consent": "patient_id"}


def entries(patient, user) -> list[TimelineEntry]:
    found: list[TimelineEntry] = []
    if not can(user, "screening.view", patient):
        return found
    # Only the columns the entry shows: the SQL for a wide row (answers, facts, plan) costs more to build and decode.
    screenings = ScreeningRecord.objects.filter(patient=patient).only(
        "public_id", "clinic_id", "status", "findings", "missing_facts", "overridden_at", "override_reason",
        "reviewed_at", "evaluated_at", "created_at", "planned_procedure_date",
    )
    for screening in screenings:
        url = reverse("screening:detail", args=[patient.public_id, screening.public_id])
        findings = [f for f in screening.findings if f["severity"] != "info"]
        if screening.overridden_at:
            summary = f"Overridden: {screening.override_reason}"
        elif screening.status == "pending":
            summary = "Waiting for answers" if not screening.missing_facts else f"{len(screening.missing_facts)} fact(s) missing"
        else:
            summary = "; ".join(f["rule_title"] for f in findings[:3]) or "No findings above info"
        found.append(
            TimelineEntry(
                at=screening.evaluated_at or screening.created_at,
                kind="screening",
                title=f"Pre-procedure screening for {screening.planned_procedure_date:%Y-%m-%d}",
                summary=summary,
                url=url,
                status=screening.get_status_display() + (" · reviewed" if screening.reviewed_at else ""),
            )
        )
    if can(user, "consent.view", patient):
        # Plain values: a consent row carries the drawn signature image, which the timeline never shows.
        consents = Consent.objects.filter(patient=patient, signed_at__isnull=False).values_list(
            "signed_at", "document", "signer_name", "screening__public_id", "public_id"
        )
        for signed_at, document, signer_name, screening_id, consent_id in consents:
            found.append(
                TimelineEntry(
                    at=signed_at,
                    kind="consent",
                    title="Consent signed",
                    summary=f"{document.get('procedure', '')}, signed by {signer_name}",
                    url=reverse("screening:consent", args=[patient.public_id, screening_id, consent_id]),
                    status="signed",
                )
            )
    return found


def actions(patient, user):
    """The chart's way into this patient's pre-procedure screenings."""
    if not can(user, "screening.view", patient):
        return []
    return [ChartAction("Screening & consent", reverse("screening:patient_screenings", args=[patient.public_id]))]
