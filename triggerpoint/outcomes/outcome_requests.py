"""Outcome requests: asked after a signed procedure, sent with a tokenised link, expired when unanswered.

A signed procedure gets its in-clinic and follow-up requests (``schedule``), its note's pre/post
NRS as measurements, and a message in the patient's language for each follow-up. This module
imports ``services`` (the summary it refreshes, the clinic's local date); ``services`` never
imports it, so the recording does not depend on how requests are sent.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext, gettext_noop

from triggerpoint.audit import services as audit
from triggerpoint.catalogues import instrument_scoring
from triggerpoint.catalogues import instruments as inst
from triggerpoint.core.changes import records_changed
from triggerpoint.core.rules import RuleInputError
from triggerpoint.notifications import services as outbox
from triggerpoint.notifications.choices import Channel
from triggerpoint.notifications.selectors import contact_preference
from triggerpoint.outcomes.models import Measurement, OutcomeRequest, RequestStatus, Source, TimePoint
from triggerpoint.outcomes.schedule import IN_CLINIC_POINTS, OutcomeSchedule, outcome_schedule
from triggerpoint.outcomes.services import local_date, refresh_procedure_outcome, same_day_procedures
from triggerpoint.patients.language import page_language
from triggerpoint.patients.selectors import chart_ids
from triggerpoint.patients.services import lock_patient
from triggerpoint.procedures.selectors import signed_procedures

REQUEST_KIND = "outcomes.request"
LINK_PURPOSE = "outcomes.request"


def on_procedure_signed(sender, procedure, **kwargs) -> None:
    """Receiver of ``procedures.signals.procedure_signed`` (inside the signing transaction; idempotent)."""
    schedule_outcome_requests(procedure)


@transaction.atomic
def schedule_outcome_requests(procedure) -> list[OutcomeRequest]:
    """Create the outcome requests of a signed procedure and record its pre/post NRS. Safe to call twice.

    One set of follow-up questionnaires per patient and procedure date: a later note of a day
    whose first note already has its 2/6/12-week requests gets only its in-clinic requests (its
    own pre/post NRS), not a second series asking the patient the same questions about the same
    day; the answers count for both notes (``services.readings_for``).
    """
    if not procedure.is_signed:
        raise RuleInputError(f"procedure {procedure.public_id} is not signed; outcomes are asked after signing")
    plan = outcome_schedule()
    patient = procedure.patient
    # The patient's row is the lock: two notes of one day signed at once must not both start a series.
    lock_patient(patient.pk)
    day_series = (
        OutcomeRequest.objects.filter(
            patient_id=patient.pk, procedure__procedure_date=procedure.procedure_date,
            time_point__in=[point for point, _days in plan.follow_up_days],
        )
        .exclude(procedure=procedure)
        .exists()
    )
    requests: list[OutcomeRequest] = []
    created_any = False
    for time_point in IN_CLINIC_POINTS:
        request, created = OutcomeRequest.objects.get_or_create(
            procedure=procedure,
            time_point=time_point,
            defaults={
                "clinic": procedure.clinic, "patient": patient, "due_on": procedure.procedure_date,
                "answer_by": procedure.procedure_date, "instruments": list(plan.in_clinic_instruments),
            },
        )
        created_any |= created
        requests.append(request)
    for time_point, days in () if day_series else plan.follow_up_days:
        due = procedure.procedure_date + timedelta(days=days)
        request, created = OutcomeRequest.objects.get_or_create(
            procedure=procedure,
            time_point=time_point,
            defaults={
                "clinic": procedure.clinic, "patient": patient, "due_on": due,
                "answer_by": due + timedelta(days=plan.answer_window_days),
                "instruments": list(plan.follow_up_instruments),
            },
        )
        if created:
            created_any = True
            _send_request(request, plan)
        requests.append(request)
    _record_note_readings(procedure, requests)
    for note in same_day_procedures(procedure):
        refresh_procedure_outcome(note)  # a day's follow-up answers count for each of its notes
    previous = _previous_procedure(procedure)
    if previous is not None:
        refresh_procedure_outcome(previous)  # its follow-up window now ends at this procedure
    if created_any:
        audit.record(
            "outcomes.requests.scheduled",
            obj=procedure,
            patient=patient,
            details={"time_points": [r.time_point for r in requests]},
        )
    return requests


def _record_note_readings(procedure, requests: list[OutcomeRequest]) -> None:
    """The note's pre/post NRS become the baseline/immediate measurements (and a visit's PEG-3, the baseline)."""
    by_point = {r.time_point: r for r in requests}
    moment = procedure.performed_at or procedure.signed_at or timezone.now()
    readings = [
        (TimePoint.BASELINE, procedure.pre_nrs, moment - timedelta(minutes=20)),
        (TimePoint.IMMEDIATE, procedure.post_nrs, moment + timedelta(minutes=20)),
    ]
    nrs = inst.get_instrument("nrs_pain")
    for time_point, value, at in readings:
        if value is None:
            continue
        if Measurement.objects.filter(procedure=procedure, time_point=time_point, instrument=nrs.id).exists():
            continue
        request = by_point.get(time_point.value)
        Measurement.objects.create(
            clinic=procedure.clinic, patient=procedure.patient, procedure=procedure, request=request,
            instrument=nrs.id, instrument_version=nrs.version, time_point=time_point, measured_at=at,
            answers={"now": int(value)}, score=instrument_scoring.score(nrs, {"now": int(value)}).value, source=Source.CLINIC,
        )
        if request is not None and request.status == RequestStatus.PENDING:
            request.status = RequestStatus.COMPLETED
            request.completed_at = timezone.now()
            request.save(update_fields=["status", "completed_at", "updated_at", "updated_by"])
    visit = getattr(procedure, "assessment", None)
    peg_answers = {
        "pain": getattr(visit, "peg_pain", None),
        "enjoyment": getattr(visit, "peg_enjoyment", None),
        "activity": getattr(visit, "peg_activity", None),
    }
    if visit is not None and all(v is not None for v in peg_answers.values()):
        peg = inst.get_instrument("peg3")
        if not Measurement.objects.filter(procedure=procedure, time_point=TimePoint.BASELINE, instrument=peg.id).exists():
            Measurement.objects.create(
                clinic=procedure.clinic, patient=procedure.patient, procedure=procedure,
                request=by_point.get(TimePoint.BASELINE.value), instrument=peg.id, instrument_version=peg.version,
                time_point=TimePoint.BASELINE, measured_at=moment - timedelta(minutes=20), answers=peg_answers,
                score=instrument_scoring.score(peg, peg_answers).value, source=Source.CLINIC,
            )


def _send_request(request: OutcomeRequest, plan: OutcomeSchedule) -> None:
    """Queue the questionnaire message (outbox) with a tokenised link; portal-only when no contact."""
    patient = request.patient
    preference = contact_preference(patient)
    wants_sms = preference is not None and preference.preferred_channel == Channel.SMS
    if patient.email and not (wants_sms and patient.phone):
        channel, to = Channel.EMAIL, patient.email
    elif patient.phone:
        channel, to = Channel.SMS, patient.phone
    else:
        return  # no contact: the request waits in the portal and on the chart
    today = patient.clinic.today()
    valid_days = max((request.answer_by - today).days + 1, 1)
    link, raw = outbox.issue_link(patient, LINK_PURPOSE, request, timedelta(days=valid_days))
    url = outbox.link_url(reverse("outcomes:respond", args=[raw]))
    clinic = request.clinic
    send_at = timezone.make_aware(datetime.combine(request.due_on, time(plan.send_hour_local)), clinic.zone)
    subject, body = _message(patient, request, url)
    outbox.enqueue(
        clinic=clinic, kind=REQUEST_KIND, channel=channel, to=to, subject=subject, body=body,
        idempotency_key=f"{REQUEST_KIND}:{request.public_id}", patient=patient,
        send_after=max(send_at, timezone.now()), related=request, link=link,
    )
    request.channel = channel
    request.save(update_fields=["channel", "updated_at", "updated_by"])


#: How long since the injection, in words (by time point).
_WHEN = {
    "2w": gettext_noop("two weeks"),
    "6w": gettext_noop("six weeks"),
    "12w": gettext_noop("twelve weeks"),
}


def _message(patient, request: OutcomeRequest, url: str) -> tuple[str, str]:
    """The request's subject and body in the patient's language (Spanish in outcomes/locale/es)."""
    with translation.override(page_language(patient)):
        clinic = request.clinic.name
        values = {
            "clinic": clinic, "name": patient.given_name,
            "when": gettext(_WHEN[request.time_point]) if request.time_point in _WHEN else gettext("some time"),
            "date": dateformat.format(request.answer_by, gettext("F d, Y")),
        }
        subject = gettext("%(clinic)s: how is your pain?") % values
        body = (
            gettext("Hello %(name)s, it has been %(when)s since your injection at %(clinic)s.") % values + " "
            + gettext("Please tell us how your pain is now (about 2 minutes):") + f" {url}\n"
            + gettext("The link works until %(date)s. You can also answer in your patient portal.") % values
        )
    return subject, body


def _previous_procedure(procedure):
    return (
        signed_procedures(patient_id__in=chart_ids(procedure.patient_id), procedure_date__lt=procedure.procedure_date)
        .order_by("-procedure_date", "-id")
        .first()
    )


def expire_lapsed_requests(now: datetime | None = None) -> int:
    """Requests still unanswered after their last answer day (in the clinic's time zone) become `expired`.

    Analytics then count them as missing rather than waiting, and the chart stops
    listing them as open. One audit event each; safe to run from several workers.
    """
    now = now or timezone.now()
    count = 0
    # A day of slack on the database filter: the exact cut-off is the clinic's local date.
    candidates = OutcomeRequest.objects.filter(
        status=RequestStatus.PENDING, answer_by__lt=now.date() + timedelta(days=1)
    ).select_related("patient", "clinic")
    for request in candidates:
        if local_date(now, request.clinic) <= request.answer_by:
            continue
        with transaction.atomic():
            if OutcomeRequest.objects.filter(pk=request.pk, status=RequestStatus.PENDING).update(
                status=RequestStatus.EXPIRED, version=F("version") + 1, updated_at=now,
            ):
                records_changed(OutcomeRequest, [request.patient_id])
                audit.record("outcomes.request.expired", obj=request, patient=request.patient,
                             details={"time_point": request.time_point, "answer_by": request.answer_by.isoformat()})
                count += 1
    return count
