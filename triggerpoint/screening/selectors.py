"""Reads of screenings for other apps (the worklist's "today"): many patients at once, in a fixed number of queries.

A patient's screenings are those of every chart that makes the patient up (`patients.selectors.chart_ids`:
after a merge the absorbed chart's screenings stay where they were made)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.db.models import Exists, OuterRef

from triggerpoint.accounts.policy import scope_to_user
from triggerpoint.patients.selectors import chart_ids, chart_ids_by_patient
from triggerpoint.screening.models import Consent, ScreeningRecord, ScreeningStatus

# A screening counts for a visit when it was planned for that day or in the weeks before (a re-screen is
# due after that); the screening page is where a clinician starts a new one.
SCREENING_LOOKBACK_DAYS = 30


def screenings_for_day(patient_ids: Iterable[int], on_date: date) -> dict[int, ScreeningRecord]:
    """patient id -> the screening that covers a visit on `on_date` (the newest planned on or before it),
    annotated with `consent_signed`, from every chart of that patient (`chart_ids_by_patient`). Three queries
    however many patients."""
    asked_by: dict[int, list[int]] = {}  # chart pk -> the asked pks whose patient it belongs to
    for asked, charts in chart_ids_by_patient(patient_ids).items():
        for chart in charts:
            asked_by.setdefault(chart, []).append(asked)
    signed = Consent.objects.filter(screening=OuterRef("pk"), signed_at__isnull=False)
    rows = (ScreeningRecord.objects
            .filter(patient_id__in=list(asked_by), planned_procedure_date__lte=on_date,
                    planned_procedure_date__gte=on_date - timedelta(days=SCREENING_LOOKBACK_DAYS))
            .annotate(consent_signed=Exists(signed))
            .order_by("-planned_procedure_date", "-created_at", "-pk"))
    found: dict[int, ScreeningRecord] = {}
    for screening in rows:
        for asked in asked_by.get(screening.patient_id, ()):
            found.setdefault(asked, screening)
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


def screening_planned_for(patient, on_date: date) -> ScreeningRecord | None:
    """The patient's newest screening planned for exactly that day (the one a note or a preparation message
    of that day goes with), or None."""
    return ScreeningRecord.objects.filter(patient_id__in=chart_ids(patient), planned_procedure_date=on_date).order_by("-created_at").first()


def signed_consent_of(screening: ScreeningRecord) -> Consent | None:
    """The screening's most recently signed consent, or None when none is signed."""
    return Consent.objects.filter(screening=screening, signed_at__isnull=False).order_by("-signed_at").first()


def recent_screenings(patient, count: int = 10) -> list[ScreeningRecord]:
    """The patient's latest screenings, latest planned date first (a new note's "link a screening" list)."""
    return list(ScreeningRecord.objects.filter(patient_id__in=chart_ids(patient)).order_by("-planned_procedure_date")[:count])


def screening_of_patient(patient, public_id: Any) -> ScreeningRecord | None:
    """This patient's screening with that public id, or None (another patient's is None too)."""
    return ScreeningRecord.objects.filter(public_id=public_id, patient_id__in=chart_ids(patient)).first()


def consent_of_patient(patient, public_id: Any) -> Consent | None:
    """This patient's consent with that public id (signed or not), or None."""
    return Consent.objects.filter(public_id=public_id, patient_id__in=chart_ids(patient)).first()


def screened_for_day(user, on_date: date, *, without_patients: Any = None, count: int = 50) -> list[ScreeningRecord]:
    """Screenings this user may see planned for `on_date`, with their patients, by family name (at most `count`);
    `without_patients` (a query of patient ids) leaves those patients out, in the same query."""
    screenings = scope_to_user(ScreeningRecord.objects.select_related("patient"), user, "screening.view").filter(
        planned_procedure_date=on_date
    )
    if without_patients is not None:
        screenings = screenings.exclude(patient_id__in=without_patients)
    return list(screenings.order_by("patient__family_name")[:count])



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


def answered_screenings(**filters):
    """Screenings whose questionnaire has answers (from the patient's link or portal, or staff), oldest answers
    first (``filters`` e.g. ``clinic_id``, ``patient_id``, ``public_id__in``)."""
    return (ScreeningRecord.objects.filter(answers_submitted_at__isnull=False, **filters)
            .select_related("patient", "clinic").order_by("answers_submitted_at", "pk"))
