"""The patient's portal section: outcome questionnaires that are due, and the pain diary."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from triggerpoint.core.worklist import WorklistSection
from triggerpoint.outcomes import display
from triggerpoint.outcomes.models import Measurement, OutcomeRequest, RequestStatus, TimePoint
from triggerpoint.patients.selectors import chart_ids


def sections(user) -> list[WorklistSection]:
    patient = getattr(user, "portal_patient", None)
    if patient is None:
        return []
    today = patient.clinic.today()
    due = list(
        OutcomeRequest.objects.filter(
            patient_id__in=chart_ids(patient), status=RequestStatus.PENDING, due_on__lte=today, answer_by__gte=today
        ).exclude(time_point__in=(TimePoint.BASELINE, TimePoint.IMMEDIATE)).select_related("procedure").order_by("due_on")
    )
    last_entry = (
        Measurement.objects.filter(patient_id__in=chart_ids(patient), time_point=TimePoint.DIARY, instrument="nrs_pain")
        .order_by("-measured_at")
        .first()
    )
    language = display.patient_language(patient)  # the section renders in it ({% language ctx.lang %})
    with translation.override(language):
        title = _("How is your pain?")
        for request in due:
            request.when = display.time_point_words(request.time_point)
    return [
        WorklistSection(
            title=title,
            template="outcomes/_portal_section.html",
            priority=10 if due else 60,
            context={"due": due, "last_entry": last_entry, "lang": language},
            count=len(due) or None,
        )
    ]
