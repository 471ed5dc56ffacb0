"""The patient's portal section: questions to answer and how to get ready, for each upcoming visit.

In the patient's preferred language (``data/patient_text.yaml``, group ``portal``), like the pages it links to.
"""

from __future__ import annotations

from triggerpoint.accounts.policy import can
from triggerpoint.core.worklist import WorklistSection
from triggerpoint.patients.selectors import chart_ids
from triggerpoint.screening.models import Consent, ScreeningRecord
from triggerpoint.screening.preparation import patient_date
from triggerpoint.screening.wording import language_of, page_words, strong


def sections(user) -> list[WorklistSection]:
    patient = getattr(user, "portal_patient", None)
    if patient is None or not can(user, "screening.answer", patient):
        return []
    upcoming = list(
        ScreeningRecord.objects.filter(patient_id__in=chart_ids(patient), planned_procedure_date__gte=patient.clinic.today()).order_by(
            "planned_procedure_date"
        )
    )
    if not upcoming:
        return []
    language = language_of(patient)
    visits = []
    for screening in upcoming:
        signed = Consent.objects.filter(screening=screening, signed_at__isnull=False).order_by("-signed_at").first()
        day = patient_date(screening.planned_procedure_date, language)
        visits.append(
            {
                "screening": screening,
                "day": day,
                "visit_on": page_words("portal", language, day=strong(day))["visit_on"],
                "answered": screening.answers_submitted_at is not None,
                "locked": bool(screening.reviewed_at or screening.overridden_at),
                "signed_consent": signed,
            }
        )
    words = page_words("portal", language)
    return [
        WorklistSection(
            title=words["title"], template="screening/_portal.html", priority=10, context={"visits": visits, "words": words}
        )
    ]
