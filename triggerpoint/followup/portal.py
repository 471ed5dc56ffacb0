"""Follow-up on the patient's portal page: check-ins to answer, what we said, and "report a problem"."""

from __future__ import annotations

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from triggerpoint.core.worklist import WorklistSection
from triggerpoint.followup import display
from triggerpoint.followup.models import CheckIn, CheckInStatus
from triggerpoint.followup.report_window import procedures_open_for_report
from triggerpoint.patients.selectors import chart_ids


def sections(user) -> list[WorklistSection]:
    patient = getattr(user, "portal_patient", None)
    if patient is None:
        return []
    now = timezone.now()
    checkins = CheckIn.objects.filter(patient_id__in=chart_ids(patient))  # every chart merged into this one
    # Only the latest open check-in: "how are you now" supersedes an older unanswered one.
    due = list(checkins.filter(status=CheckInStatus.DUE, due_at__lte=now, expires_at__gt=now).order_by("-due_at")[:1])
    upcoming = checkins.filter(status=CheckInStatus.DUE, due_at__gt=now).order_by("due_at").first()
    recent = list(checkins.filter(status=CheckInStatus.ANSWERED).order_by("-answered_at")[:3])
    for checkin in recent:
        checkin.headline = display.headline(checkin.disposition)
    can_report = bool(procedures_open_for_report(patient, now))
    if not (due or upcoming or recent or can_report):
        return []
    language = display.patient_language(patient)  # the section renders in it ({% language ctx.lang %})
    with translation.override(language):
        title = _("How are you after your injections?")
    return [WorklistSection(
        title=title, template="followup/portal/_checkins.html",
        priority=5 if due else 40, count=len(due) or None,
        context={"due": due, "upcoming": upcoming, "recent": recent, "can_report": can_report,
                 "zone": patient.clinic.time_zone, "lang": language},
    )]
