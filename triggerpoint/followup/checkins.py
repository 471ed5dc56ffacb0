"""Check-ins: scheduled after signing, answered (by the patient or by staff), reviewed, or missed.

Each function that changes data runs in one transaction and writes its audit event
(`followup.checkin(s).<verb>`). The invitation goes through the outbox in the same
transaction, and an emergency/urgent answer raises its alert (`followup.alerts`) inside the
answer's transaction, so the answer and the page commit together or not at all.

Triage itself is the pure `followup.triage` module; this module only gathers the facts
(the procedure's date, time and sites) and keeps what triage said.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _

from triggerpoint.accounts.policy import require
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.audit import services as audit
from triggerpoint.core.changes import records_changed
from triggerpoint.followup import alerts, display
from triggerpoint.followup.answers import normalise_answers, triage_request
from triggerpoint.followup.content import load_instructions, load_symptoms
from triggerpoint.followup.models import (
    PAGED_DISPOSITIONS,
    AnsweredVia,
    CheckIn,
    CheckInKind,
    CheckInStatus,
)
from triggerpoint.followup.oncall import plan_for
from triggerpoint.followup.report_window import (
    extend_report_links,
    report_problem_url,
    report_window_days,
    report_window_open,
)
from triggerpoint.followup.schedule import DEFAULT_PLAN, due_times
from triggerpoint.followup.toxin import day_included_toxin, procedures_of_day
from triggerpoint.followup.triage import DEFAULT_THRESHOLDS, TriageResult, parse_triage_request, triage
from triggerpoint.notifications.selectors import preferred_channel
from triggerpoint.notifications.services import enqueue, issue_link, link_url
from triggerpoint.patients.services import lock_patient

CHECKIN_PURPOSE = "followup.checkin"
CHECKIN_KIND = "followup.checkin"


class CheckInClosed(Exception):
    """The check-in cannot be answered (already answered, not yet open, or expired)."""


# ----------------------------------------------------------------------------- scheduling


def _message_channel(patient) -> tuple[str, str] | None:
    """(channel, address) for patient messages: their preferred channel if they have that address."""
    preferred = preferred_channel(patient)
    options = [("email", patient.email), ("sms", patient.phone)]
    if preferred == "sms":
        options.reverse()
    for channel, address in options:
        if address:
            return channel, address
    return None


def _local(moment: datetime, clinic) -> datetime:
    return moment.astimezone(clinic.zone)


def _when(moment: datetime, clinic) -> str:
    """The moment on the clinic's clock in the active language ("Tuesday November 17 at 6:05 PM")."""
    local = _local(moment, clinic)
    return _("%(date)s at %(time)s") % {
        "date": dateformat.format(local, _("l F j")), "time": dateformat.format(local, "g:i A")}


def schedule_checkins(procedure, now: datetime | None = None) -> list[CheckIn]:
    """Create the procedure's check-ins and their messages; running it again adds nothing.

    One set per patient and procedure date: when another note of the same day already has its
    check-ins, this note joins them (`_join_day_checkins`) rather than starting a second set
    asking the same patient the same questions beside the first. Called by the
    `procedure_signed` receiver inside the signing transaction.
    """
    now = now or timezone.now()
    clinic, patient = procedure.clinic, procedure.patient
    plan = plan_for(clinic)
    created: list[CheckIn] = []
    with transaction.atomic():
        # The patient's row is the lock: two notes of one day signed at once must not both start a set.
        lock_patient(patient.pk)
        day_set = (
            CheckIn.all_objects.filter(
                patient_id=patient.pk, kind=CheckInKind.SCHEDULED, procedure__procedure_date=procedure.procedure_date
            )
            .exclude(procedure=procedure)
            .select_related("procedure")
            .order_by("due_at", "id")
        )
        first = day_set.first()
        if first is not None:
            _join_day_checkins(procedure, first.procedure, now)
            return []
        existing = set(
            CheckIn.all_objects.filter(procedure=procedure, kind=CheckInKind.SCHEDULED).values_list("day", flat=True)
        )
        report_url = None
        for slot, due_at in due_times(procedure.procedure_date, clinic.zone, plan, not_before=now):
            if slot.day in existing:
                continue
            checkin = CheckIn.objects.create(
                clinic=clinic, procedure=procedure, patient=patient, kind=CheckInKind.SCHEDULED,
                day=slot.day, due_at=due_at, expires_at=due_at + plan.link_valid_for,
            )
            if report_url is None:
                report_url = report_problem_url(procedure, now=now)
            _send_checkin_message(checkin, report_url, now)
            created.append(checkin)
        if created:
            audit.record(
                "followup.checkins.scheduled", obj=procedure, patient=patient,
                details={"days": [c.day for c in created], "procedure": str(procedure.public_id)},
            )
    return created


def _join_day_checkins(procedure, first, now: datetime) -> None:
    """`procedure` is a later note of a day whose check-ins `first` already scheduled: no second set.

    The day's check-ins ask about every note of the day (triage, the form's toxin questions and
    the summaries read `procedures_of_day`); if this note makes the report window longer (toxin),
    the report links already sent stay open for the whole of it.
    """
    extended = extend_report_links(procedure, now=now)
    audit.record(
        "followup.checkins.joined", obj=procedure, patient=procedure.patient,
        details={"procedure": str(procedure.public_id), "checkins_of": str(first.public_id),
                 "report_window_days": report_window_days(procedure), "report_links_extended": extended},
    )


def _send_checkin_message(checkin: CheckIn, report_url: str | None, now: datetime) -> None:
    """The check-in invitation, in the patient's language (Spanish in followup/locale/es)."""
    patient, clinic = checkin.patient, checkin.clinic
    target = _message_channel(patient)
    if target is None:
        return  # no address: the check-in still shows on the portal and on the worklist when due
    channel, address = target
    link, raw = issue_link(patient, CHECKIN_PURPOSE, checkin, valid_for=checkin.expires_at - now)
    url = link_url(reverse("followup:checkin_link", args=[raw]))
    with translation.override(display.patient_language(patient)):
        values = {
            "clinic": clinic.name, "name": patient.given_name, "url": url,
            "date": dateformat.format(checkin.procedure.procedure_date, _("F j")),
            "until": _when(checkin.expires_at, clinic), "days": DEFAULT_PLAN.report_window_days,
        }
        if channel == "sms":
            body = _("%(clinic)s: how are you after your injections on %(date)s? Answer in under a minute: "
                     "%(url)s . Trouble breathing, chest pain or fainting: call 911 now.") % values
        else:
            body = (
                _("Hello %(name)s,") % values + "\n\n"
                + _("How are you feeling after your trigger point injections on %(date)s? "
                    "Please answer a few quick questions (it takes under a minute):") % values
                + f"\n\n{url}\n\n"
                + _("This link works until %(until)s.") % values + "\n"
            )
            if report_url:
                body += ("\n" + _("Any other time in the next %(days)s days you can tell us about a problem here:")
                         % values + f"\n{report_url}\n")
            body += (
                "\n" + _("If you have trouble breathing, chest pain, fainting, or swelling of your lips, tongue or "
                         "throat, call 911 now.") + " " + _("Do not wait for this message.") + "\n\n"
                f"{clinic.name}" + (f" · {clinic.phone}" if clinic.phone else "") + "\n"
            )
        subject = _("How are you after your injections? (%(clinic)s)") % values
    enqueue(
        clinic=clinic, kind=CHECKIN_KIND, channel=channel, to=address, body=body,
        subject=subject,
        idempotency_key=f"followup.checkin:{checkin.public_id}:{channel}",
        patient=patient, send_after=checkin.due_at, related=checkin, link=link,
    )


def on_procedure_signed(sender, procedure, **kwargs) -> None:
    """Receiver of `procedures.signals.procedure_signed` (connected in FollowupConfig.ready)."""
    schedule_checkins(procedure)


# ----------------------------------------------------------------------------- answering


def triage_answers(procedure, answers: dict[str, Any], reported_at: datetime) -> tuple[dict[str, Any], TriageResult]:
    """(the triage request, the result) for normalised `answers` about `procedure`.

    The sites and the toxin question are those of every note of the procedure's day (the day's
    check-ins ask about all of them), so a chest-wall site or a toxin in the day's second note
    still triggers its rules. Raises RuleInputError (e.g. an implausible temperature) with every
    problem listed.
    """
    atlas = load_atlas()
    zone = procedure.clinic.zone
    notes = procedures_of_day(procedure)
    sites = list(dict.fromkeys(
        (s.muscle, s.side) for note in notes for s in note.sites.all() if atlas.has_muscle(s.muscle)
    ))
    # The day's last injection (the reaction windows run from it); unknown if any note lacks its time.
    times = [note.performed_at for note in notes]
    last_injection = max(times) if all(times) else None
    payload = triage_request(
        answers, procedure_date=procedure.procedure_date, reported_at=reported_at.astimezone(zone), sites=sites,
        procedure_at=last_injection.astimezone(zone) if last_injection else None,
        botulinum_toxin=day_included_toxin(procedure),
    )
    language = getattr(procedure.patient, "preferred_language", "en") or "en"
    request = parse_triage_request(payload, atlas=atlas, thresholds=DEFAULT_THRESHOLDS)
    result = triage(request, atlas, DEFAULT_THRESHOLDS, language=language)
    return payload, result


def stored_triage(payload: dict[str, Any], result: TriageResult) -> dict[str, Any]:
    """What is kept with the check-in: the contract answer plus the versions that produced it."""
    stored = result.as_dict()
    stored["rules"] = [{"id": f.rule, "version": f.version} for f in result.reasons]
    stored["symptom_list_version"] = load_symptoms().version
    stored["instructions_version"] = load_instructions().version
    stored["request"] = payload
    return stored


def submit_checkin(
    checkin: CheckIn, raw_answers: Any, *, via: str, now: datetime | None = None, user=None
) -> tuple[CheckIn, TriageResult]:
    """Answer a scheduled check-in: triage, store, and raise an alert for emergency/urgent.

    Patients (`via` link or portal) may answer only an open check-in (due, not expired);
    staff entering answers from a phone call (`via` staff, needs `followup.triage`) may also
    answer a missed one. Raises RuleInputError for bad answers, CheckInClosed otherwise.
    """
    now = now or timezone.now()
    if via == AnsweredVia.STAFF:
        require(user, "followup.triage", checkin)
        if checkin.status == CheckInStatus.ANSWERED:
            raise CheckInClosed("This check-in has already been answered.")
    else:
        if checkin.status != CheckInStatus.DUE:
            raise CheckInClosed("This check-in has already been answered." if checkin.is_answered
                                else "This check-in has closed.")
        if now < checkin.due_at:
            raise CheckInClosed("This check-in is not open yet.")
        if now >= checkin.expires_at:
            raise CheckInClosed("This check-in has closed.")
    answers = normalise_answers(raw_answers)
    payload, result = triage_answers(checkin.procedure, answers, now)
    with transaction.atomic():
        claimed = CheckIn.objects.filter(pk=checkin.pk).exclude(status=CheckInStatus.ANSWERED).update(
            status=CheckInStatus.ANSWERED, answered_at=now, answered_via=via, answers=answers,
            triage=stored_triage(payload, result), disposition=result.disposition,
            version=F("version") + 1, updated_at=now,
        )
        if not claimed:
            raise CheckInClosed("This check-in has already been answered.")
        checkin.refresh_from_db()
        records_changed(CheckIn, [checkin.patient_id])
        _after_answer(checkin, result, now)
    return checkin, result


def report_problem(
    procedure, raw_answers: Any, *, via: str, now: datetime | None = None
) -> tuple[CheckIn, TriageResult]:
    """A check-in the patient starts themselves (portal, aftercare page, report link) within the report window."""
    now = now or timezone.now()
    if not report_window_open(procedure, now):
        raise CheckInClosed(
            f"Reporting online is open for {report_window_days(procedure)} days after this procedure. "
            "Please call the clinic."
        )
    answers = normalise_answers(raw_answers)
    payload, result = triage_answers(procedure, answers, now)
    with transaction.atomic():
        checkin = CheckIn.objects.create(
            clinic=procedure.clinic, procedure=procedure, patient=procedure.patient,
            kind=CheckInKind.PATIENT_INITIATED, due_at=now, expires_at=now, status=CheckInStatus.ANSWERED,
            answered_at=now, answered_via=via, answers=answers, triage=stored_triage(payload, result),
            disposition=result.disposition,
        )
        _after_answer(checkin, result, now)
    return checkin, result


def _after_answer(checkin: CheckIn, result: TriageResult, now: datetime) -> None:
    audit.record(
        "followup.checkin.answered", obj=checkin, patient=checkin.patient,
        details={"disposition": result.disposition, "rules": list(result.rule_ids), "via": checkin.answered_via,
                 "kind": checkin.kind},
    )
    if result.disposition in PAGED_DISPOSITIONS:
        alerts.raise_alert(checkin, now=now)


# ----------------------------------------------------------------------------- reviewing and closing


def review_checkin(user, checkin: CheckIn, now: datetime | None = None) -> CheckIn:
    """A clinician has read an answered check-in (routine ones wait on the worklist until then)."""
    require(user, "followup.triage", checkin)
    if not checkin.is_answered:
        raise CheckInClosed("Only an answered check-in can be marked as reviewed.")
    with transaction.atomic():
        mark_reviewed(user, checkin, now or timezone.now())
    checkin.refresh_from_db()
    return checkin


def mark_reviewed(user, checkin: CheckIn, now: datetime) -> None:
    updated = CheckIn.objects.filter(pk=checkin.pk, reviewed_at__isnull=True).update(
        reviewed_at=now, reviewed_by=user, version=F("version") + 1, updated_at=now, updated_by=user,
    )
    if updated:
        records_changed(CheckIn, [checkin.patient_id])
        audit.record("followup.checkin.reviewed", obj=checkin, patient=checkin.patient)


def mark_missed_checkins(now: datetime | None = None) -> int:
    """Check-ins whose link expired unanswered become `missed` (one audit event each)."""
    now = now or timezone.now()
    count = 0
    for checkin in CheckIn.objects.filter(status=CheckInStatus.DUE, expires_at__lte=now).select_related("patient"):
        with transaction.atomic():
            if CheckIn.objects.filter(pk=checkin.pk, status=CheckInStatus.DUE).update(
                status=CheckInStatus.MISSED, version=F("version") + 1, updated_at=now,
            ):
                records_changed(CheckIn, [checkin.patient_id])
                audit.record("followup.checkin.missed", obj=checkin, patient=checkin.patient)
                count += 1
    return count
