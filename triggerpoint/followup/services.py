"""Named state changes of follow-up: schedule, answer, alert, page, escalate, acknowledge, resolve.

Each function that changes data runs in one transaction and writes its audit event
(`followup.<thing>.<verb>`). Messages go through the outbox, written in the same
transaction, so a check-in that raises an alert and the page to the on-call clinician
commit together or not at all; delivery happens after commit and is retried.

Triage itself is the pure `followup.triage` module; this module only gathers the facts
(the procedure's date, time and sites) and keeps what triage said.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _

from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit
from triggerpoint.core import plausible
from triggerpoint.core.rules import RuleInputError
from triggerpoint.followup import display, escalation
from triggerpoint.followup.answers import normalise_answers, triage_request
from triggerpoint.followup.content import load_instructions, load_symptoms
from triggerpoint.followup.models import (
    PAGED_DISPOSITIONS,
    Alert,
    AlertStatus,
    AnsweredVia,
    CallNote,
    CallOutcome,
    CheckIn,
    CheckInKind,
    CheckInStatus,
    OnCallSchedule,
    OnCallSlot,
)
from triggerpoint.followup.schedule import DEFAULT_PLAN, CheckInPlan, due_times, report_window_closes
from triggerpoint.followup.schedule import report_window_open as _window_open
from triggerpoint.followup.toxin import procedure_included_toxin
from triggerpoint.followup.triage import DEFAULT_THRESHOLDS, TriageResult, parse_triage_request, triage
from triggerpoint.followup.windows import load_windows
from triggerpoint.notifications.services import enqueue, issue_link, link_url

log = logging.getLogger(__name__)

CHECKIN_PURPOSE = "followup.checkin"
REPORT_PURPOSE = "followup.report"
CHECKIN_KIND = "followup.checkin"
PAGE_KIND = "followup.page"


class AlertStateError(Exception):
    """The alert is not in a state that allows this (e.g. acknowledged twice); the API answers 409."""


class CheckInClosed(Exception):
    """The check-in cannot be answered (already answered, not yet open, or expired)."""


# ----------------------------------------------------------------------------- configuration


def schedule_of(clinic) -> OnCallSchedule | None:
    return OnCallSchedule.objects.filter(clinic=clinic).first()


def plan_for(clinic) -> CheckInPlan:
    schedule = schedule_of(clinic)
    return schedule.plan if schedule is not None else DEFAULT_PLAN


def policy_for(clinic) -> escalation.EscalationPolicy:
    schedule = schedule_of(clinic)
    return schedule.policy if schedule is not None else escalation.DEFAULT_POLICY


def on_call_slots(clinic, now: datetime) -> list[OnCallSlot]:
    """The slots covering `now`, in paging order, one per person (their first slot wins)."""
    schedule = schedule_of(clinic)
    if schedule is None:
        return []
    seen: set[int] = set()
    covering = []
    for slot in schedule.slots.select_related("user").filter(user__is_active=True):
        if slot.covers(now) and slot.user_id not in seen:
            seen.add(slot.user_id)
            covering.append(slot)
    return covering


def staff_phone(clinic, user) -> str:
    """The number this clinic pages `user` on (kept on their on-call slots), or ''."""
    return (
        OnCallSlot.objects.filter(schedule__clinic=clinic, user=user).exclude(phone="")
        .values_list("phone", flat=True).first() or ""
    )


# ----------------------------------------------------------------------------- procedure facts


@dataclass(frozen=True)
class SiteSummary:
    muscle: str
    name: str
    side: str
    technique: str
    pneumothorax_risk: bool


@dataclass(frozen=True)
class ProcedureSummary:
    """What a clinician needs at a glance when a patient calls about this procedure."""

    procedure_date: Any
    performed_by: str
    guidance: str
    sites: tuple[SiteSummary, ...]
    injectates: tuple[str, ...]

    @property
    def pneumothorax_sites(self) -> tuple[SiteSummary, ...]:
        return tuple(site for site in self.sites if site.pneumothorax_risk)


def summarise_procedure(procedure) -> ProcedureSummary:
    from triggerpoint.atlas.catalog import load_atlas
    from triggerpoint.catalogues.drugs import load_drugs

    atlas, drugs = load_atlas(), load_drugs()
    sites = []
    for site in procedure.sites.all():
        known = atlas.has_muscle(site.muscle)
        muscle = atlas.muscle(site.muscle) if known else None
        sites.append(SiteSummary(
            muscle=site.muscle,
            name=muscle.name if muscle else site.muscle.replace("_", " "),
            side=site.side,
            technique=site.technique,
            # An unknown muscle id is treated as at risk: the safe assumption for a warning.
            pneumothorax_risk=bool(muscle.pneumothorax_risk) if muscle else True,
        ))
    injectates = []
    for row in procedure.injectates.all():
        try:
            name = drugs.get(row.drug).name
        except KeyError:
            name = row.drug
        strength = f" {row.concentration_percent.normalize():f}%" if row.concentration_percent else ""
        dose = ""
        if row.dose_mg:
            dose = f", {row.dose_mg.normalize():f} mg"
        elif row.dose_units:
            dose = f", {row.dose_units.normalize():f} units"
        injectates.append(f"{name}{strength} {row.volume_ml.normalize():f} mL{dose}")
    performer = procedure.performed_by
    return ProcedureSummary(
        procedure_date=procedure.procedure_date,
        performed_by=performer.get_full_name() or performer.username,
        guidance=procedure.get_guidance_display(),
        sites=tuple(sites),
        injectates=tuple(injectates),
    )


# ----------------------------------------------------------------------------- scheduling


def _message_channel(patient) -> tuple[str, str] | None:
    """(channel, address) for patient messages: their preferred channel if they have that address."""
    from triggerpoint.notifications.models import ContactPreference

    preferred = ContactPreference.objects.filter(patient=patient).values_list("preferred_channel", flat=True).first()
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

    Called by the `procedure_signed` receiver inside the signing transaction.
    """
    now = now or timezone.now()
    clinic, patient = procedure.clinic, procedure.patient
    plan = plan_for(clinic)
    created: list[CheckIn] = []
    with transaction.atomic():
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


def report_window_days(procedure) -> int:
    """How many days after this procedure the patient may report a problem online.

    The clinic's window (14 days by default) — but after botulinum toxin the warning signs of
    toxin spread (drooping eyelid, double vision, trouble swallowing, speaking or breathing) are
    acted on for the whole `toxin_spread` warning window (12 weeks, warning_windows.yaml, rule
    TRI-TOXIN-SPREAD), so the patient can report them online for as long. A procedure whose drugs
    cannot all be identified counts as possibly toxin, the safe reading (followup.toxin).
    """
    days = plan_for(procedure.clinic).report_window_days
    if procedure_included_toxin(procedure) is not False:
        days = max(days, load_windows().days("toxin_spread"))
    return days


def _report_plan(procedure) -> CheckInPlan:
    return replace(plan_for(procedure.clinic), report_window_days=report_window_days(procedure))


def report_problem_url(procedure, now: datetime | None = None) -> str | None:
    """An absolute, tokenised link with which the patient can report a problem about this procedure.

    Valid until the end of the report window (`report_window_days`: day 14, or 12 weeks after
    botulinum toxin); None once the window has closed. For the aftercare contributor and any
    message that wants a "tell us about a problem" link. Each call issues a new link row, so
    call it when composing a message, not per view.
    """
    now = now or timezone.now()
    closes = report_window_closes(procedure.procedure_date, procedure.clinic.zone, _report_plan(procedure))
    if closes <= now:
        return None
    _link, raw = issue_link(procedure.patient, REPORT_PURPOSE, procedure, valid_for=closes - now)
    return link_url(reverse("followup:report_link", args=[raw]))


def report_window_open(procedure, now: datetime | None = None) -> bool:
    """True from the procedure day through its last report day (`report_window_days`; the clinic's local calendar)."""
    return _window_open(procedure.procedure_date, procedure.clinic.zone, now or timezone.now(), _report_plan(procedure))


def on_procedure_signed(sender, procedure, **kwargs) -> None:
    """Receiver of `procedures.signals.procedure_signed` (connected in FollowupConfig.ready)."""
    schedule_checkins(procedure)


# ----------------------------------------------------------------------------- answering


def triage_answers(procedure, answers: dict[str, Any], reported_at: datetime) -> tuple[dict[str, Any], TriageResult]:
    """(the triage request, the result) for normalised `answers` about `procedure`.

    Raises RuleInputError (e.g. an implausible temperature) with every problem listed.
    """
    from triggerpoint.atlas.catalog import load_atlas

    atlas = load_atlas()
    zone = procedure.clinic.zone
    sites = [(s.muscle, s.side) for s in procedure.sites.all() if atlas.has_muscle(s.muscle)]
    payload = triage_request(
        answers, procedure_date=procedure.procedure_date, reported_at=reported_at.astimezone(zone), sites=sites,
        procedure_at=procedure.performed_at.astimezone(zone) if procedure.performed_at else None,
        botulinum_toxin=procedure_included_toxin(procedure),
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
        raise_alert(checkin, now=now)


# ----------------------------------------------------------------------------- alerts and paging


def raise_alert(checkin: CheckIn, now: datetime | None = None) -> Alert:
    """Create the alert for an emergency/urgent check-in and page the first person on call."""
    now = now or timezone.now()
    with transaction.atomic():
        existing = Alert.all_objects.filter(checkin=checkin).first()
        if existing is not None:
            return existing
        alert = Alert.objects.create(
            clinic=checkin.clinic, checkin=checkin, patient=checkin.patient, procedure=checkin.procedure,
            disposition=checkin.disposition, raised_at=now,
        )
        audit.record("followup.alert.raised", obj=alert, patient=alert.patient,
                     details={"disposition": alert.disposition, "checkin": str(checkin.public_id)})
        _page(alert, level=0, now=now)
    return alert


def _page(alert: Alert, *, level: int, now: datetime) -> list[dict[str, Any]]:
    """Page everyone due at `level`, log it on the alert, set the next deadline, schedule the escalation task."""
    clinic = alert.clinic
    slots = on_call_slots(clinic, now)
    phones = {slot.user_id: slot.phone for slot in slots}
    people = {slot.user_id: slot.user for slot in slots}
    physician = alert.procedure.performed_by
    people.setdefault(physician.pk, physician)
    targets = escalation.targets_for_level(level, [s.user_id for s in slots], physician.pk)
    entries = []
    for target in targets:
        user = people[target.person]
        channels = []
        phone = phones.get(user.pk) or staff_phone(clinic, user)
        for channel, address in (("sms", phone), ("email", user.email)):
            if not address:
                continue
            enqueue(
                clinic=clinic, kind=PAGE_KIND, channel=channel, to=address, recipient_user=user,
                subject=_page_subject(alert, level), body=_page_body(alert, level, user),
                idempotency_key=f"followup.page:{alert.public_id}:{level}:{user.pk}:{channel}",
                related=alert,
            )
            channels.append(channel)
        entries.append({
            "level": level, "user": user.username, "name": user.get_full_name() or user.username,
            "reason": target.reason, "channels": channels, "at": now.isoformat(),
        })
        if not channels:
            log.warning("followup alert %s: %s has no e-mail or phone to page", alert.public_id, user.username)
    deadline = escalation.next_deadline(now, policy_for(clinic))
    Alert.objects.filter(pk=alert.pk).update(
        page_log=list(alert.page_log) + entries, next_escalation_at=deadline, escalation_level=level,
    )
    alert.page_log = list(alert.page_log) + entries
    alert.next_escalation_at, alert.escalation_level = deadline, level
    audit.record("followup.alert.paged", obj=alert, patient=alert.patient,
                 details={"level": level, "paged": [(e["user"], e["reason"], e["channels"]) for e in entries]})
    transaction.on_commit(lambda: schedule_escalation_task(alert.pk, deadline))
    return entries


def schedule_escalation_task(alert_id: int, deadline: datetime) -> None:
    """Queue the escalation check at the alert's deadline (the sweep catches a lost task)."""
    from triggerpoint.followup.tasks import escalate_alert_when_due

    escalate_alert_when_due.using(run_after=deadline).enqueue(alert_id)


def _reasons_line(alert: Alert) -> str:
    reasons = alert.checkin.triage.get("reasons", [])
    paged = [r["message"] for r in reasons if r.get("severity") in PAGED_DISPOSITIONS]
    return " ".join(paged[:2]) or alert.get_disposition_display()


def _page_subject(alert: Alert, level: int) -> str:
    prefix = "ESCALATED " if level else ""
    return f"{prefix}{alert.get_disposition_display().upper()} follow-up alert: {alert.clinic.name}"


def _page_body(alert: Alert, level: int, user) -> str:
    patient = alert.patient
    url = link_url(reverse("followup:alert", args=[patient.public_id, alert.public_id]))
    procedure = alert.procedure
    day = (timezone.localtime(alert.raised_at, alert.clinic.zone).date() - procedure.procedure_date).days
    lines = [
        f"{alert.get_disposition_display().upper()} check-in, {alert.clinic.name}.",
        # SMS and email are not secure channels: initials only (minimum necessary); the
        # linked alert page, behind sign-in and audit, shows who it is and how to reach them.
        f"Patient {patient.given_name[:1]}.{patient.family_name[:1]}., day {day} after trigger point injections.",
        _reasons_line(alert),
    ]
    if level:
        lines.append(f"Not acknowledged: escalation level {level}.")
    lines.append(f"Acknowledge and call the patient: {url}")
    return "\n".join(lines)


def escalate_alert(alert_id: int, now: datetime | None = None) -> Alert | None:
    """Escalate one alert if it is still open and past its deadline; otherwise do nothing.

    The level is claimed with a conditional UPDATE, so the deadline task and the sweep
    racing each other escalate once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_related("clinic", "patient", "procedure__performed_by", "checkin").filter(
            pk=alert_id).first()
        if alert is None or alert.status != AlertStatus.OPEN or not escalation.is_overdue(alert.next_escalation_at, now):
            return None
        level = alert.escalation_level + 1
        claimed = Alert.objects.filter(
            pk=alert.pk, status=AlertStatus.OPEN, escalation_level=alert.escalation_level,
            next_escalation_at__lte=now,
        ).update(escalation_level=level, version=F("version") + 1, updated_at=now)
        if not claimed:
            return None
        audit.record("followup.alert.escalated", obj=alert, patient=alert.patient,
                     details={"level": level, "deadline_was": alert.next_escalation_at.isoformat()})
        _page(alert, level=level, now=now)
    return alert


def escalate_overdue_alerts(now: datetime | None = None) -> list[Alert]:
    """Escalate every open alert whose acknowledgement deadline has passed (the sweep)."""
    now = now or timezone.now()
    due = Alert.objects.filter(status=AlertStatus.OPEN, next_escalation_at__lte=now).values_list("pk", flat=True)
    escalated = []
    for pk in list(due):
        alert = escalate_alert(pk, now)
        if alert is not None:
            escalated.append(alert)
    return escalated


def acknowledge_alert(user, alert: Alert, now: datetime | None = None, *, via: str = "worklist") -> Alert:
    """The clinician has seen the alert and is handling it: escalation stops."""
    require(user, "alert.acknowledge", alert)
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Alert.objects.filter(pk=alert.pk, status=AlertStatus.OPEN).update(
            status=AlertStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=user, next_escalation_at=None,
            version=F("version") + 1, updated_at=now, updated_by=user,
        )
        if not claimed:
            alert.refresh_from_db()
            raise AlertStateError(_state_message(alert))
        alert.refresh_from_db()
        audit.record("followup.alert.acknowledged", obj=alert, patient=alert.patient,
                     details={"minutes_after_raised": round((now - alert.raised_at).total_seconds() / 60, 1),
                              "escalation_level": alert.escalation_level, "via": via})
    return alert


def resolve_alert(user, alert: Alert, note: str, now: datetime | None = None) -> Alert:
    """Close the alert with what was done; an open alert is acknowledged by the same act."""
    require(user, "alert.resolve", alert)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["Write what was done (the resolution note is required)."]})
    now = now or timezone.now()
    with transaction.atomic():
        current = Alert.objects.filter(pk=alert.pk).values_list("status", flat=True).first()
        if current == AlertStatus.RESOLVED:
            alert.refresh_from_db()
            raise AlertStateError(_state_message(alert))
        updates: dict[str, Any] = dict(
            status=AlertStatus.RESOLVED, resolved_at=now, resolved_by=user, resolution_note=note,
            next_escalation_at=None, version=F("version") + 1, updated_at=now, updated_by=user,
        )
        if current == AlertStatus.OPEN:
            updates.update(acknowledged_at=now, acknowledged_by=user)
        claimed = Alert.objects.filter(pk=alert.pk, status=current).update(**updates)
        if not claimed:
            alert.refresh_from_db()
            raise AlertStateError(_state_message(alert))
        alert.refresh_from_db()
        CheckIn.objects.filter(pk=alert.checkin_id, reviewed_at__isnull=True).update(reviewed_at=now, reviewed_by=user)
        audit.record("followup.alert.resolved", obj=alert, patient=alert.patient,
                     details={"acknowledged_by_resolving": current == AlertStatus.OPEN, "note_length": len(note)})
    return alert


def _state_message(alert: Alert) -> str:
    if alert.status == AlertStatus.RESOLVED:
        who = alert.resolved_by.get_full_name() or alert.resolved_by.username if alert.resolved_by else "someone"
        return f"This alert was already resolved by {who}."
    if alert.status == AlertStatus.ACKNOWLEDGED:
        who = alert.acknowledged_by.get_full_name() or alert.acknowledged_by.username if alert.acknowledged_by else "someone"
        return f"This alert was already acknowledged by {who}."
    return "This alert is still open."


def add_call_note(
    user, patient, *, outcome: str, note: str = "", alert: Alert | None = None, checkin: CheckIn | None = None,
    now: datetime | None = None,
) -> CallNote:
    """Record a call to the patient. A call about an open alert acknowledges it (the caller is on it);
    a call about an answered check-in marks it reviewed."""
    require(user, "followup.triage", patient)
    if outcome not in CallOutcome.values:
        raise ValidationError({"outcome": [f"Choose one of {list(CallOutcome.values)}."]})
    for record in (alert, checkin):
        if record is not None and record.patient_id != patient.pk:
            raise ValidationError("That alert or check-in belongs to another patient.")
    if alert is not None and checkin is None:
        checkin = alert.checkin
    now = now or timezone.now()
    with transaction.atomic():
        call = CallNote.objects.create(
            clinic=patient.clinic, patient=patient, alert=alert, checkin=checkin, outcome=outcome,
            note=(note or "").strip(), called_at=now,
        )
        audit.record("followup.call_note.created", obj=call, patient=patient,
                     details={"outcome": outcome, "alert": str(alert.public_id) if alert else None,
                              "checkin": str(checkin.public_id) if checkin else None})
        if alert is not None and alert.status == AlertStatus.OPEN:
            acknowledge_alert(user, alert, now, via="call_note")
        if checkin is not None and checkin.is_answered and checkin.reviewed_at is None:
            _mark_reviewed(user, checkin, now)
    return call


def review_checkin(user, checkin: CheckIn, now: datetime | None = None) -> CheckIn:
    """A clinician has read an answered check-in (routine ones wait on the worklist until then)."""
    require(user, "followup.triage", checkin)
    if not checkin.is_answered:
        raise CheckInClosed("Only an answered check-in can be marked as reviewed.")
    with transaction.atomic():
        _mark_reviewed(user, checkin, now or timezone.now())
    checkin.refresh_from_db()
    return checkin


def _mark_reviewed(user, checkin: CheckIn, now: datetime) -> None:
    updated = CheckIn.objects.filter(pk=checkin.pk, reviewed_at__isnull=True).update(
        reviewed_at=now, reviewed_by=user, version=F("version") + 1, updated_at=now, updated_by=user,
    )
    if updated:
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
                audit.record("followup.checkin.missed", obj=checkin, patient=checkin.patient)
                count += 1
    return count


def sweep(now: datetime | None = None) -> dict[str, int]:
    """What the worker runs periodically: escalate overdue alerts, close expired check-ins."""
    now = now or timezone.now()
    return {"escalated": len(escalate_overdue_alerts(now)), "missed": mark_missed_checkins(now)}


# ----------------------------------------------------------------------------- staff views of the data


def view_record(user, record, action: str = "followup.view") -> None:
    """Audit one read of a check-in or an alert."""
    require(user, action, record)
    audit.record(f"followup.{record._meta.model_name}.viewed", obj=record, patient=record.patient)


def open_alerts(clinic):
    return (Alert.objects.filter(clinic=clinic).exclude(status=AlertStatus.RESOLVED)
            .select_related("patient", "procedure__performed_by", "checkin", "acknowledged_by")
            .prefetch_related("procedure__sites", "procedure__injectates"))


def due_checkins(clinic, now: datetime):
    return (CheckIn.objects.filter(clinic=clinic, status=CheckInStatus.DUE, due_at__lte=now)
            .select_related("patient", "procedure__performed_by")
            .prefetch_related("procedure__sites", "procedure__injectates"))


def checkins_to_review(clinic):
    """Answered routine check-ins nobody has read yet (paged ones are handled as alerts)."""
    return (CheckIn.objects.filter(clinic=clinic, status=CheckInStatus.ANSWERED, disposition="routine",
                                   reviewed_at__isnull=True)
            .select_related("patient", "procedure__performed_by")
            .prefetch_related("procedure__sites", "procedure__injectates"))


def procedures_open_for_report(patient, now: datetime | None = None) -> list:
    """Signed procedures of this patient still inside the report window, newest first."""
    from triggerpoint.procedures.selectors import signed_procedures

    now = now or timezone.now()
    longest = max(plan_for(patient.clinic).report_window_days, load_windows().days("toxin_spread"))
    earliest = now.date() - timedelta(days=longest + 1)
    candidates = signed_procedures(patient=patient, procedure_date__gte=earliest)
    return [p for p in candidates.order_by("-procedure_date") if report_window_open(p, now)]


__all__ = [
    "AlertStateError", "CheckInClosed", "acknowledge_alert", "add_call_note", "escalate_alert",
    "escalate_overdue_alerts", "mark_missed_checkins", "on_procedure_signed", "raise_alert", "report_problem",
    "report_problem_url", "report_window_days", "report_window_open", "resolve_alert", "review_checkin", "schedule_checkins",
    "submit_checkin", "summarise_procedure", "sweep",
]


# ----------------------------------------------------------------------------- on-call configuration


def update_oncall(user, clinic, *, acknowledge_within_minutes: int | None = None, checkin_slots=None,
                  rota: list[dict[str, Any]] | None = None) -> OnCallSchedule:
    """Replace the clinic's paging order and/or settings; every problem is listed at once (ValidationError).

    `rota`: ordered `[{"user": <User>, "phone": str, "starts_at": dt | None, "ends_at": dt | None}]`;
    only active staff of this clinic who may acknowledge alerts can be on call.
    """
    from triggerpoint.accounts.policy import can
    from triggerpoint.followup.schedule import parse_slots

    require(user, "oncall.manage", clinic)
    problems: dict[str, list[str]] = {}
    if acknowledge_within_minutes is not None and not 1 <= acknowledge_within_minutes <= 240:
        problems.setdefault("acknowledge_within_minutes", []).append("must be from 1 to 240 minutes")
    if checkin_slots is not None and checkin_slots != []:
        try:
            parse_slots(checkin_slots)
        except RuleInputError as exc:
            problems.setdefault("checkin_slots", []).extend(exc.problems)
    for index, entry in enumerate(rota or []):
        person = entry.get("user")
        if person is None or person.clinic_id != clinic.pk or not person.is_active:
            problems.setdefault("rota", []).append(f"rota[{index}]: not an active member of this clinic's staff")
        elif not can(person, "alert.acknowledge"):
            problems.setdefault("rota", []).append(
                f"rota[{index}]: {person.username} cannot acknowledge alerts (physicians and nurses only)")
        starts, ends = entry.get("starts_at"), entry.get("ends_at")
        implausible = [f"rota[{index}].{key} {reason}" for key, value in (("starts_at", starts), ("ends_at", ends))
                       if (reason := plausible.problem("scheduled", value))]
        problems.setdefault("rota", []).extend(implausible) if implausible else None
        if starts and ends and not implausible and ends <= starts:
            problems.setdefault("rota", []).append(f"rota[{index}]: the shift must end after it starts")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        schedule, _ = OnCallSchedule.objects.select_for_update().get_or_create(clinic=clinic)
        if acknowledge_within_minutes is not None:
            schedule.acknowledge_within_minutes = acknowledge_within_minutes
        if checkin_slots is not None:
            schedule.checkin_slots = list(checkin_slots)
        schedule.updated_at, schedule.updated_by = timezone.now(), user
        schedule.save()
        if rota is not None:
            schedule.slots.all().delete()
            for position, entry in enumerate(rota):
                OnCallSlot.objects.create(
                    schedule=schedule, user=entry["user"], position=position, phone=(entry.get("phone") or "").strip(),
                    starts_at=entry.get("starts_at"), ends_at=entry.get("ends_at"),
                )
        audit.record("followup.oncall.updated", clinic=clinic, details={
            "acknowledge_within_minutes": schedule.acknowledge_within_minutes,
            "checkin_slots": schedule.checkin_slots,
            "rota": [s.user.username for s in schedule.slots.select_related("user")],
        })
    return schedule
