"""Reads of screenings for other apps (the worklist's "today"): many patients at once, in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.db.models import Exists, OuterRef

from triggerpoint.screening.models import Consent, ScreeningRecord, ScreeningStatus

# A screening counts for a visit when it was planned for that day or in the weeks before (a re-screen is
# due after that); the screening page is where a clinician starts a new one.
SCREENING_LOOKBACK_DAYS = 30


def screenings_for_day(patient_ids: Iterable[int], on_date: date) -> dict[int, ScreeningRecord]:
    """patient id -> the screening that covers a visit on `on_date` (the newest planned on or before it),
    annotated with `consent_signed`. One query however many patients."""
    signed = Consent.objects.filter(screening=OuterRef("pk"), signed_at__isnull=False)
    rows = (ScreeningRecord.objects
            .filter(patient_id__in=list(patient_ids), planned_procedure_date__lte=on_date,
                    planned_procedure_date__gte=on_date - timedelta(days=SCREENING_LOOKBACK_DAYS))
            .annotate(consent_signed=Exists(signed))
            .order_by("patient_id", "-planned_procedure_date", "-created_at", "-pk"))
    found: dict[int, ScreeningRecord] = {}
    for screening in rows:
        found.setdefault(screening.patient_id, screening)
    return found


def screening_readiness(screening: ScreeningRecord) -> tuple[bool, str]:
    """(ready, why) for a screening a procedure is about to start from: evaluated, and ready or signed off
    by a physician (review, defer and contraindicated results wait for one)."""
    if screening.status == ScreeningStatus.PENDING:
        return False, "Screening not evaluated yet (answers or facts missing)."
    if screening.status == ScreeningStatus.READY:
        return True, "Screening ready."
    result = screening.get_status_display().lower()
    if screening.reviewed_at or screening.overridden_at:
        return True, f"Screening {result}, signed off."
    return False, f"Screening result: {result}; a physician has not signed it off."



def signed_consents(**filters):
    """Signed consents (``filters`` e.g. ``clinic_id``, ``patient_id``, ``public_id__in``), newest first."""
    return (Consent.objects.filter(signed_at__isnull=False, **filters)
            .select_related("patient", "screening", "clinic").order_by("-signed_at", "-pk"))


def screenings_with_findings(**filters):
    """Evaluated screenings whose result is not "ready" (a finding needs review, defers or contraindicates),
    newest first, with the notes written from them."""
    return (ScreeningRecord.objects.filter(evaluated_at__isnull=False, **filters)
            .exclude(status__in=[ScreeningStatus.PENDING, ScreeningStatus.READY])
            .select_related("patient", "clinic", "reviewed_by", "overridden_by").prefetch_related("procedures")
            .order_by("-evaluated_at", "-pk"))
