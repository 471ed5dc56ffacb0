"""Follow-up pages: the patient's check-in (by link or portal), and the clinician's alert pages.

Patient side. The answer page shows the instructions for the disposition in the response
to the submit itself. If storing the check-in or paging fails for any reason, the patient
still sees what triage says (computed again, purely) plus the clinic's numbers: what the
patient must do never depends on our database or mail server working.

Patient pages render in the patient's preferred language (`display.patient_language`), like
the aftercare plan pages: the page words come from followup/locale, the instructions from
data/instructions.yaml (triage picks the language), the symptom labels from symptoms.yaml.
Staff pages stay in English.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from triggerpoint.accounts import selectors as staff_accounts
from triggerpoint.accounts.decorators import patient_required, staff_required
from triggerpoint.accounts.policy import can, get_record_for_user
from triggerpoint.audit import services as audit
from triggerpoint.core.rules import RuleInputError
from triggerpoint.followup import display
from triggerpoint.followup.alerts import AlertStateError, acknowledge_alert, resolve_alert
from triggerpoint.followup.answers import normalise_answers
from triggerpoint.followup.calls import add_call_note
from triggerpoint.followup.checkins import (
    CHECKIN_PURPOSE,
    CheckInClosed,
    report_problem,
    review_checkin,
    submit_checkin,
    triage_answers,
)
from triggerpoint.followup.forms import CallNoteForm, CheckInForm, ResolveForm
from triggerpoint.followup.models import Alert, AnsweredVia, CallOutcome, CheckIn
from triggerpoint.followup.oncall import on_call_slots, plan_for, schedule_of, update_oncall
from triggerpoint.followup.report_window import (
    REPORT_PURPOSE,
    procedures_open_for_report,
    report_problem_url,
    report_window_open,
)
from triggerpoint.followup.selectors import view_record
from triggerpoint.followup.toxin import day_included_toxin
from triggerpoint.notifications.services import LinkInvalid, resolve_link
from triggerpoint.patients.language import link_page_language
from triggerpoint.patients.selectors import get_patient_for_user, is_chart_of
from triggerpoint.procedures import selectors as procedure_selectors

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- patient: shared

REPORTING_CLOSED = gettext_noop("Reporting online has closed for this procedure. Please call the clinic.")
#: The services' CheckInClosed messages a patient can meet, marked so the Spanish catalog has them.
CLOSED_MESSAGES = (
    gettext_noop("This check-in has already been answered."),
    gettext_noop("This check-in is not open yet."),
    gettext_noop("This check-in has closed."),
)


def _in_language_of(patient):
    """`with _in_language_of(patient):` around everything a patient page validates and renders."""
    return translation.override(display.patient_language(patient))


def _form_context(form: CheckInForm, patient, procedure, *, action: str, checkin: CheckIn | None = None) -> dict:
    selected = set(form.data.getlist("symptoms")) if form.is_bound else set()
    problems = form.non_field_errors()
    return {
        "form": form, "patient": patient, "clinic": patient.clinic, "procedure": procedure, "checkin": checkin,
        "symptom_groups": display.form_groups(selected, display.patient_language(patient),
                                              toxin_possible=day_included_toxin(procedure) is not False),
        "action": action,
        "problems": problems,
        "pain_choices": [str(i) for i in range(11)],
        "selected_pain": form.data.get("pain_now", "") if form.is_bound else "",
        "selected_unit": (form.data.get("temperature_unit") or "F") if form.is_bound else "F",
    }


def _reasons(patient, result) -> list[str]:
    return display.patient_reasons({"reasons": [f.as_dict() for f in result.reasons]}, display.patient_language(patient))


def _again(url: str, *, post: bool) -> dict:
    """The "tell us again" button: POST on a check-in link (it issues a report link), GET elsewhere."""
    return {"url": url, "post": post}


def _result_context(patient, procedure, *, disposition: str, instructions: str, reasons: list[str],
                    saved: bool, checkin: CheckIn | None = None, report_again: dict | None = None) -> dict:
    return {
        "patient": patient, "clinic": patient.clinic, "procedure": procedure, "checkin": checkin,
        "disposition": disposition, "headline": display.headline(disposition), "instructions": instructions,
        "reasons": reasons, "saved": saved, "report_again": report_again,
        "call_clinic": display.clinic_call_number(patient.clinic),
    }


def _handle_submit(request, form: CheckInForm, patient, procedure, submit, *, action: str, report_again: dict | None = None,
                   checkin: CheckIn | None = None):
    """Validate, call `submit(answers)` and render the instructions — whatever happens after triage."""
    if not form.is_valid():
        return render(request, "followup/checkin_form.html",
                      _form_context(form, patient, procedure, action=action, checkin=checkin), status=422)
    raw = form.answers()
    try:
        answers = normalise_answers(raw)
        triage_answers(procedure, answers, timezone.now())
    except RuleInputError as exc:
        for problem in exc.problems:
            form.add_error(None, problem)
        return render(request, "followup/checkin_form.html",
                      _form_context(form, patient, procedure, action=action, checkin=checkin), status=422)
    try:
        stored, result = submit(raw)
    except CheckInClosed as exc:
        # The services' messages are English; the known ones have a translation (gettext falls back).
        return render(request, "followup/checkin_closed.html",
                      {"patient": patient, "clinic": patient.clinic, "message": gettext(str(exc)), "checkin": checkin,
                       "report_again": report_again}, status=409)
    except Exception:  # noqa: BLE001 - the patient must see the instructions even if saving/paging failed
        log.exception("follow-up check-in could not be stored for patient %s", patient.pk)
        try:
            _payload, result = triage_answers(procedure, normalise_answers(raw), timezone.now())
        except Exception:  # noqa: BLE001
            log.exception("follow-up triage failed after a storage failure")
            return render(request, "followup/checkin_failed.html", {"patient": patient, "clinic": patient.clinic},
                          status=500)
        return render(request, "followup/checkin_result.html", _result_context(
            patient, procedure, disposition=result.disposition, instructions=result.instructions,
            reasons=_reasons(patient, result), saved=False), status=500)
    return render(request, "followup/checkin_result.html", _result_context(
        patient, procedure, disposition=result.disposition, instructions=result.instructions,
        reasons=_reasons(patient, result), saved=True, checkin=stored, report_again=report_again))


def _stored_result(request, checkin: CheckIn, *, report_again: dict | None = None):
    triage = checkin.triage or {}
    return render(request, "followup/checkin_result.html", _result_context(
        checkin.patient, checkin.procedure, disposition=checkin.disposition, instructions=triage.get("instructions", ""),
        reasons=display.patient_reasons(triage, display.patient_language(checkin.patient)), saved=True, checkin=checkin, report_again=report_again))


# ----------------------------------------------------------------------------- patient: tokenised links


def _invalid_link(request, exc: LinkInvalid):
    """The refusal page in the patient's language when the link is theirs, else the browser's."""
    with translation.override(link_page_language(exc.patient)):
        return render(request, "followup/link_invalid.html", {"message": gettext(str(exc))}, status=404)


def _checkin_from_link(token: str) -> CheckIn:
    link = resolve_link(token, CHECKIN_PURPOSE)
    checkin = (CheckIn.objects.select_related("patient__clinic", "procedure__clinic", "clinic")
               .filter(public_id=link.target_id, patient=link.patient).first())
    if checkin is None:
        raise LinkInvalid("This link is not valid.")
    return checkin


@require_http_methods(["GET", "POST"])
def checkin_link(request, token: str):
    """The check-in a message linked to: no login, the token opens this one check-in only."""
    try:
        checkin = _checkin_from_link(token)
    except LinkInvalid as exc:
        return _invalid_link(request, exc)
    patient, procedure = checkin.patient, checkin.procedure
    action = reverse("followup:checkin_link", args=[token])
    report_again = _again(reverse("followup:checkin_link_report", args=[token]), post=True)
    with _in_language_of(patient):
        if checkin.is_answered:
            return _stored_result(request, checkin, report_again=report_again)
        if request.method == "POST":
            form = CheckInForm(request.POST)
            return _handle_submit(
                request, form, patient, procedure,
                lambda raw: submit_checkin(checkin, raw, via=AnsweredVia.LINK),
                action=action, report_again=report_again, checkin=checkin,
            )
        audit.record("followup.checkin.opened", obj=checkin, patient=patient, details={"channel": "link"})
        return render(request, "followup/checkin_form.html",
                      _form_context(CheckInForm(), patient, procedure, action=action, checkin=checkin))


@require_POST
def checkin_link_report(request, token: str):
    """From an answered check-in's page: report a new problem (a report link for the same procedure)."""
    try:
        checkin = _checkin_from_link(token)
    except LinkInvalid as exc:
        return _invalid_link(request, exc)
    url = report_problem_url(checkin.procedure)
    if url is None:
        with _in_language_of(checkin.patient):
            return render(request, "followup/checkin_closed.html", {
                "patient": checkin.patient, "clinic": checkin.clinic, "message": gettext(REPORTING_CLOSED)},
                status=409)
    return redirect(url)


@require_http_methods(["GET", "POST"])
def report_link(request, token: str):
    """Report a problem about one procedure (link valid through day 14)."""
    try:
        link = resolve_link(token, REPORT_PURPOSE)
    except LinkInvalid as exc:
        return _invalid_link(request, exc)
    procedure = procedure_selectors.procedure_for_patient(link.patient, link.target_id, "patient__clinic", "clinic")
    if procedure is None:
        return _invalid_link(request, LinkInvalid("This link is not valid."))
    action = reverse("followup:report_link", args=[token])
    with _in_language_of(procedure.patient):
        if request.method == "POST":
            return _handle_submit(
                request, CheckInForm(request.POST), procedure.patient, procedure,
                lambda raw: report_problem(procedure, raw, via=AnsweredVia.LINK), action=action,
                report_again=_again(action, post=False),
            )
        audit.record("followup.report.opened", obj=procedure, patient=procedure.patient, details={"channel": "link"})
        return render(request, "followup/checkin_form.html",
                      _form_context(CheckInForm(), procedure.patient, procedure, action=action))


# ----------------------------------------------------------------------------- patient: portal


@patient_required
@require_http_methods(["GET", "POST"])
def portal_checkin(request, checkin_id):
    checkin = get_record_for_user(request.user, CheckIn, checkin_id, "followup.report")
    patient, procedure = checkin.patient, checkin.procedure
    action = reverse("followup:portal_checkin", args=[checkin.public_id])
    report_again = _again(reverse("followup:portal_report", args=[procedure.public_id]), post=False)
    with _in_language_of(patient):
        if checkin.is_answered:
            audit.record("followup.checkin.viewed", obj=checkin, patient=patient, details={"channel": "portal"})
            return _stored_result(request, checkin, report_again=report_again)
        if request.method == "POST":
            return _handle_submit(
                request, CheckInForm(request.POST), patient, procedure,
                lambda raw: submit_checkin(checkin, raw, via=AnsweredVia.PORTAL),
                action=action, report_again=report_again, checkin=checkin,
            )
        audit.record("followup.checkin.opened", obj=checkin, patient=patient, details={"channel": "portal"})
        return render(request, "followup/checkin_form.html",
                      _form_context(CheckInForm(), patient, procedure, action=action, checkin=checkin))


@patient_required
def portal_report_start(request):
    """Pick the procedure to report about (straight to the form when there is only one)."""
    patient = request.user.portal_patient
    procedures = procedures_open_for_report(patient)
    if len(procedures) == 1:
        return redirect("followup:portal_report", procedure_id=procedures[0].public_id)
    with _in_language_of(patient):
        return render(request, "followup/report_start.html", {"patient": patient, "clinic": patient.clinic,
                                                              "procedures": procedures})


@patient_required
@require_http_methods(["GET", "POST"])
def portal_report(request, procedure_id):
    procedure = procedure_selectors.get_procedure_for_user(request.user, procedure_id, "followup.report")
    patient = procedure.patient
    if procedure.status != "signed":
        raise Http404("No such procedure.")
    action = reverse("followup:portal_report", args=[procedure.public_id])
    with _in_language_of(patient):
        if request.method == "POST":
            return _handle_submit(
                request, CheckInForm(request.POST), patient, procedure,
                lambda raw: report_problem(procedure, raw, via=AnsweredVia.PORTAL), action=action,
                report_again=_again(action, post=False),
            )
        if not report_window_open(procedure):
            return render(request, "followup/checkin_closed.html", {
                "patient": patient, "clinic": patient.clinic, "message": gettext(REPORTING_CLOSED)}, status=409)
        audit.record("followup.report.opened", obj=procedure, patient=patient, details={"channel": "portal"})
        return render(request, "followup/checkin_form.html",
                      _form_context(CheckInForm(), patient, procedure, action=action))


# ----------------------------------------------------------------------------- staff


def _next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return default


def _alert_for(user, patient_id, alert_id, action: str) -> Alert:
    alert = get_record_for_user(user, Alert, alert_id, action)
    if str(alert.patient.public_id) != str(patient_id) and not is_chart_of(patient_id, alert.patient_id):
        raise Http404("No such record.")
    return alert


def _checkin_for(user, patient_id, checkin_id, action: str) -> CheckIn:
    checkin = get_record_for_user(user, CheckIn, checkin_id, action)
    if str(checkin.patient.public_id) != str(patient_id) and not is_chart_of(patient_id, checkin.patient_id):
        raise Http404("No such record.")
    return checkin


def _record_context(user, checkin: CheckIn) -> dict:
    procedure = checkin.procedure
    return {
        "patient": checkin.patient, "checkin": checkin, "procedure": procedure, "clinic": checkin.clinic,
        "summaries": display.summarise_day(procedure), "latest": display.latest_procedure_summary(procedure),
        "answers": display.answer_lines(checkin.answers),
        "reasons": (checkin.triage or {}).get("reasons", []), "call_notes": list(checkin.call_notes.all()),
        "outcomes": CallOutcome.choices, "can_act": can(user, "followup.triage", checkin),
    }


PAGE_REASONS = {
    "on_call": "first on call", "next_on_call": "next on call", "whole_rota": "everyone on the rota again",
    "performing_physician": "did the procedure", "no_one_on_call": "nobody on call: did the procedure",
}


@staff_required("followup.view")
def alert_detail(request, patient_id, alert_id):
    alert = _alert_for(request.user, patient_id, alert_id, "followup.view")
    view_record(request.user, alert)
    context = _record_context(request.user, alert.checkin)
    pages = [{**entry, "at": datetime.fromisoformat(entry["at"]), "why": PAGE_REASONS.get(entry["reason"], entry["reason"])}
             for entry in alert.page_log]
    context.update(alert=alert, resolve_form=ResolveForm(), pages=pages,
                   can_acknowledge=can(request.user, "alert.acknowledge", alert),
                   can_resolve=can(request.user, "alert.resolve", alert),
                   alert_call_notes=list(alert.call_notes.select_related("created_by")))
    return render(request, "followup/alert_detail.html", context)


@staff_required("alert.acknowledge")
@require_POST
def alert_acknowledge(request, patient_id, alert_id):
    alert = _alert_for(request.user, patient_id, alert_id, "alert.acknowledge")
    try:
        acknowledge_alert(request.user, alert)
        messages.success(request, f"Alert for {alert.patient.full_name} acknowledged: escalation stopped.")
    except AlertStateError as exc:
        messages.error(request, str(exc))
    return redirect(_next_url(request, reverse("followup:alert", args=[patient_id, alert_id])))


@staff_required("alert.resolve")
@require_POST
def alert_resolve(request, patient_id, alert_id):
    alert = _alert_for(request.user, patient_id, alert_id, "alert.resolve")
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write what was done before resolving the alert.")
    else:
        try:
            resolve_alert(request.user, alert, form.cleaned_data["note"])
            messages.success(request, f"Alert for {alert.patient.full_name} resolved.")
        except (AlertStateError, ValidationError) as exc:
            messages.error(request, str(exc.messages[0] if isinstance(exc, ValidationError) else exc))
    return redirect(_next_url(request, reverse("followup:alert", args=[patient_id, alert_id])))


@staff_required("followup.triage")
@require_POST
def call_note(request, patient_id):
    """One-click call note from the worklist or an alert page (outcome buttons, optional text)."""
    patient = get_patient_for_user(request.user, patient_id, "followup.triage")
    form = CallNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how the call went.")
        return redirect(_next_url(request, reverse("core:worklist")))
    data = form.cleaned_data
    alert = _alert_for(request.user, patient_id, data["alert"], "followup.view") if data.get("alert") else None
    checkin = _checkin_for(request.user, patient_id, data["checkin"], "followup.view") if data.get("checkin") else None
    try:
        call = add_call_note(request.user, patient, outcome=data["outcome"], note=data.get("note", ""),
                                      alert=alert, checkin=checkin)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, f"Call note saved for {patient.full_name}: {call.get_outcome_display().lower()}.")
    return redirect(_next_url(request, reverse("core:worklist")))


@staff_required("followup.view")
def checkin_detail(request, patient_id, checkin_id):
    checkin = _checkin_for(request.user, patient_id, checkin_id, "followup.view")
    view_record(request.user, checkin)
    context = _record_context(request.user, checkin)
    context["alert"] = Alert.objects.filter(checkin=checkin).first()
    return render(request, "followup/checkin_detail.html", context)


@staff_required("followup.triage")
@require_POST
def checkin_review(request, patient_id, checkin_id):
    checkin = _checkin_for(request.user, patient_id, checkin_id, "followup.triage")
    try:
        review_checkin(request.user, checkin)
        messages.success(request, f"Check-in of {checkin.patient.full_name} marked as reviewed.")
    except CheckInClosed as exc:
        messages.error(request, str(exc))
    return redirect(_next_url(request, reverse("followup:checkin", args=[patient_id, checkin_id])))


# ----------------------------------------------------------------------------- on-call schedule


def _parse_local(raw: str, zone) -> datetime | None:
    if not raw:
        return None
    value = parse_datetime(raw)
    if value is None:
        raise ValidationError(f"{raw!r} is not a date and time")
    return value if value.tzinfo else value.replace(tzinfo=zone)


@staff_required("oncall.manage")
@require_http_methods(["GET", "POST"])
def oncall(request):
    """The clinic's paging order, acknowledgement window and check-in plan."""
    clinic = request.user.clinic
    candidates = [u for u in staff_accounts.active_staff(clinic) if can(u, "alert.acknowledge")]
    errors: list[str] = []
    if request.method == "POST":
        rota = []
        by_id = {str(u.pk): u for u in candidates}
        for user_id, phone, starts, ends in zip(request.POST.getlist("user"), request.POST.getlist("phone"),
                                                request.POST.getlist("starts_at"), request.POST.getlist("ends_at"),
                                                strict=False):
            if not user_id:
                continue
            try:
                rota.append({"user": by_id.get(user_id), "phone": phone,
                             "starts_at": _parse_local(starts, clinic.zone), "ends_at": _parse_local(ends, clinic.zone)})
            except ValidationError as exc:
                errors.extend(exc.messages)
        slots_text = request.POST.get("checkin_slots", "").strip()
        slots = []
        for part in [p.strip() for p in slots_text.split(",") if p.strip()]:
            day, _, at = part.partition(" ")
            slots.append({"day": int(day) if day.isdigit() else day, "time": at.strip()})
        try:
            minutes = int(request.POST.get("acknowledge_within_minutes", "15"))
        except ValueError:
            minutes = 0
        if not errors:
            try:
                update_oncall(request.user, clinic, acknowledge_within_minutes=minutes,
                                       checkin_slots=slots, rota=rota)
            except ValidationError as exc:
                errors.extend(f"{field}: {msg}" for field, msgs in exc.message_dict.items() for msg in msgs)
            else:
                messages.success(request, "On-call schedule saved.")
                return redirect("followup:oncall")
    schedule = schedule_of(clinic)
    slots = list(schedule.slots.select_related("user")) if schedule else []
    rows = [{"user_id": s.user_id, "phone": s.phone,
             "starts_at": timezone.localtime(s.starts_at, clinic.zone).strftime("%Y-%m-%dT%H:%M") if s.starts_at else "",
             "ends_at": timezone.localtime(s.ends_at, clinic.zone).strftime("%Y-%m-%dT%H:%M") if s.ends_at else ""}
            for s in slots]
    rows += [{"user_id": None, "phone": "", "starts_at": "", "ends_at": ""}] * 2
    plan = plan_for(clinic)
    return render(request, "followup/oncall.html", {
        "clinic": clinic, "schedule": schedule, "rows": rows, "candidates": candidates, "errors": errors,
        "minutes": schedule.acknowledge_within_minutes if schedule else 15,
        "slots_text": ", ".join(f"{s.day} {s.at:%H:%M}" for s in plan.slots),
        "on_call_now": on_call_slots(clinic, timezone.now()),
    })

