"""The patient's portal section: questions to answer and how to get ready, for each upcoming visit."""

from __future__ import annotations

from django.utils import timezone

from triggerpoint.accounts.policy import can
from triggerpoint.core.worklist import WorklistSection
from triggerpoint.screening.models import Consent, ScreeningRecord
from triggerpoint.screening.preparation import patient_date


def sections(user) -> list[WorklistSection]:
    patient = getattr(user, "portal_patient", None)
    if patient is None or not can(user, "screening.answer", patient):
        return []
    upcoming = list(
        ScreeningRecord.objects.filter(patient=patient, planned_procedure_date__gte=timezone.localdate()).order_by(
            "planned_procedure_date"
        )
    )
    if not upcoming:
        return []
    visits = []
    for screening in upcoming:
        signed = Consent.objects.filter(screening=screening, signed_at__isnull=False).order_by("-signed_at").first()
        visits.append(
            {
                "screening": screening,
                "day": patient_date(screening.planned_procedure_date),
                "answered": screening.answers_submitted_at is not None,
                "locked": bool(screening.reviewed_at or screening.overridden_at),
                "signed_consent": signed,
            }
        )
    return [WorklistSection(title="Before your visit", template="screening/_portal.html", priority=10, context={"visits": visits})]
