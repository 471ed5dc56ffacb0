"""Follow-up JSON API at /api/v1/followup/.

* ``POST /triage`` — the ARCHITECTURE §8 calculator: a check-in in, a disposition with its
  reasons and the patient instructions out. Pure: nothing stored, nothing audited (no
  patient is named). Staff action ``rules.evaluate``. Every input problem (unknown symptom,
  implausible temperature, naive datetime, …) is listed in one 422.
* ``GET /symptoms`` — the published warning-sign vocabulary. **Public (no authentication)**:
  it holds no patient data, and patient-facing tools (a kiosk, an app, the clinic's own
  website) need it to build a check-in form without a staff token.
* Check-ins, alerts, call notes and the on-call schedule: staff only, through the policy
  table, every read and change audited. Record routes are nested under the patient
  (``/patients/{patient}/alerts/{alert}``) and refuse a record of another patient with 404.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from ninja import Body, Router, Schema, Status
from ninja.errors import HttpError

from triggerpoint.accounts import selectors as staff_accounts
from triggerpoint.accounts.policy import get_record_for_user, require
from triggerpoint.audit import services as audit
from triggerpoint.core.contract_body import contract_body
from triggerpoint.followup.alerts import AlertStateError, acknowledge_alert, resolve_alert
from triggerpoint.followup.answers import CheckInAnswersIn
from triggerpoint.followup.calls import add_call_note
from triggerpoint.followup.checkins import CheckInClosed, submit_checkin
from triggerpoint.followup.models import (
    Alert,
    AlertStatus,
    AnsweredVia,
    CallOutcome,
    CheckIn,
    CheckInStatus,
)
from triggerpoint.followup.oncall import on_call_slots, plan_for, schedule_of, update_oncall
from triggerpoint.followup.selectors import checkins_to_review, due_checkins, view_record
from triggerpoint.followup.triage import published_symptoms, triage
from triggerpoint.followup.triage_request import TriageRequestIn
from triggerpoint.patients.selectors import chart_ids, get_patient_for_user, is_chart_of

router = Router(tags=["followup"])

MAX_BODY_BYTES = 32 * 1024


class ProblemsOut(Schema):
    detail: list[str] | str | dict[str, Any]


class ReasonOut(Schema):
    rule: str
    version: int
    severity: str
    message: str
    basis: str
    data: dict[str, Any] | None = None


class TemperatureOut(Schema):
    value: float
    unit: str


class TriageOut(Schema):
    disposition: str
    reasons: list[ReasonOut]
    instructions: str
    text_understood: bool | None
    day_after_procedure: int
    symptoms_from_text: list[str]
    temperature: TemperatureOut | None


class SymptomLabelOut(Schema):
    en: str
    es: str


class SymptomOut(Schema):
    id: str
    label: SymptomLabelOut
    group: str
    rule: str


class SymptomsOut(Schema):
    version: int
    symptoms: list[SymptomOut]


class PatientRefOut(Schema):
    id: UUID
    mrn: str
    name: str


class CheckInOut(Schema):
    id: UUID
    patient: PatientRefOut
    procedure: UUID
    procedure_date: str
    kind: str
    day: int | None
    due_at: datetime
    expires_at: datetime
    status: str
    overdue: bool
    answered_at: datetime | None
    answered_via: str
    answers: dict[str, Any]
    triage: dict[str, Any]
    disposition: str
    reviewed_at: datetime | None
    version: int


class AlertOut(Schema):
    id: UUID
    patient: PatientRefOut
    procedure: UUID
    disposition: str
    status: str
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str
    escalation_level: int
    next_escalation_at: datetime | None
    page_log: list[dict[str, Any]]
    checkin: CheckInOut
    version: int


class AnswerOut(Schema):
    checkin: CheckInOut
    triage: TriageOut
    alert: UUID | None


class ResolveIn(Schema):
    note: str


class CallNoteOut(Schema):
    id: UUID
    outcome: str
    note: str
    called_at: datetime
    alert: UUID | None
    checkin: UUID | None


class RotaEntryOut(Schema):
    username: str
    name: str
    position: int
    phone: str
    starts_at: datetime | None
    ends_at: datetime | None


class OnCallOut(Schema):
    acknowledge_within_minutes: int
    checkin_slots: list[dict[str, Any]]
    rota: list[RotaEntryOut]
    on_call_now: list[str]


TRIAGE_EXAMPLE = {
    "procedure_date": "2025-03-03", "reported_at": "2025-03-04T19:30:00-05:00",
    "sites": [{"muscle": "upper_trapezius", "side": "left"}],
    "symptoms": ["trouble_breathing"], "temperature": {"value": 99.1, "unit": "F"},
    "pain_now": 4, "free_text": "feel short of breath since this afternoon",
}


def _json_body(request: HttpRequest) -> Any:
    """The parsed JSON body; HttpError 413 (over MAX_BODY_BYTES) or 400 (not JSON), in this API's words."""
    if len(request.body) > MAX_BODY_BYTES:
        raise HttpError(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise HttpError(400, "The request body is not valid JSON.") from None


def _may_triage(request: HttpRequest) -> None:
    """Before the triage body is read: a caller who may not evaluate rules is refused (403) whatever they sent."""
    require(request.auth, "rules.evaluate")
    _json_body(request)


TRIAGE_BODY = contract_body(..., example=TRIAGE_EXAMPLE, before=_may_triage)

# The answers are read after the check-in is found (404) and known to be open (409), by `normalise_answers`
# in the service, so they are not a Ninja body; the schema published is the same contract's.
ANSWERS_REQUEST_BODY = {
    "required": True,
    "content": {"application/json": {
        "schema": CheckInAnswersIn.model_json_schema(),
        "example": {"symptoms": ["site_redness"], "temperature": {"value": 99.5, "unit": "F"}, "pain_now": 5,
                    "relief_percent": 30, "free_text": "the left side is red and warm"},
    }},
}


def _patient_ref(patient) -> dict[str, Any]:
    return {"id": patient.public_id, "mrn": patient.mrn, "name": patient.full_name}


def checkin_out(checkin: CheckIn) -> dict[str, Any]:
    return {
        "id": checkin.public_id, "patient": _patient_ref(checkin.patient), "procedure": checkin.procedure.public_id,
        "procedure_date": checkin.procedure.procedure_date.isoformat(), "kind": checkin.kind, "day": checkin.day,
        "due_at": checkin.due_at, "expires_at": checkin.expires_at, "status": checkin.status,
        "overdue": checkin.is_overdue(plan=plan_for(checkin.clinic)),
        "answered_at": checkin.answered_at, "answered_via": checkin.answered_via, "answers": checkin.answers,
        "triage": checkin.triage, "disposition": checkin.disposition, "reviewed_at": checkin.reviewed_at,
        "version": checkin.version,
    }


def _username(user) -> str | None:
    return user.username if user is not None else None


def alert_out(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.public_id, "patient": _patient_ref(alert.patient), "procedure": alert.procedure.public_id,
        "disposition": alert.disposition, "status": alert.status, "raised_at": alert.raised_at,
        "acknowledged_at": alert.acknowledged_at, "acknowledged_by": _username(alert.acknowledged_by),
        "resolved_at": alert.resolved_at, "resolved_by": _username(alert.resolved_by),
        "resolution_note": alert.resolution_note, "escalation_level": alert.escalation_level,
        "next_escalation_at": alert.next_escalation_at, "page_log": alert.page_log,
        "checkin": checkin_out(alert.checkin), "version": alert.version,
    }


def _alert_for(user, patient_id: UUID, alert_id: UUID, action: str) -> Alert:
    alert = get_record_for_user(user, Alert, alert_id, action)
    if alert.patient.public_id != patient_id and not is_chart_of(patient_id, alert.patient_id):
        raise Http404("No such record.")
    return alert


def _checkin_for(user, patient_id: UUID, checkin_id: UUID, action: str) -> CheckIn:
    checkin = get_record_for_user(user, CheckIn, checkin_id, action)
    if checkin.patient.public_id != patient_id and not is_chart_of(patient_id, checkin.patient_id):
        raise Http404("No such record.")
    return checkin


# ----------------------------------------------------------------------------- the calculator


@router.post("/triage", url_name="followup_triage",
             response={200: TriageOut, 400: ProblemsOut, 413: ProblemsOut, 422: ProblemsOut})
def followup_triage(request: HttpRequest, payload: TriageRequestIn = TRIAGE_BODY):
    """Triage one check-in (no side effects). 422 lists every problem, e.g. an implausible temperature."""
    return triage(payload.to_input()).as_dict()


@router.get("/symptoms", auth=None, url_name="followup_symptoms", response=SymptomsOut)
def followup_symptoms(request: HttpRequest):
    """The warning signs a check-in may report (public: no patient data)."""
    return published_symptoms()


# ----------------------------------------------------------------------------- check-ins


@router.get("/checkins", url_name="followup_checkins", response={200: list[CheckInOut], 422: ProblemsOut})
def followup_checkins(request: HttpRequest, status: str = "due"):
    """The clinic's check-ins: `due` (open now, incl. overdue), `to_review` (answered routine, unread), `missed`."""
    user = request.auth
    require(user, "followup.view")
    now = timezone.now()
    if status == "due":
        rows = due_checkins(user.clinic, now)
    elif status == "to_review":
        rows = checkins_to_review(user.clinic)
    elif status == "missed":
        rows = CheckIn.objects.filter(clinic=user.clinic, status=CheckInStatus.MISSED).select_related(
            "patient", "procedure")
    else:
        return Status(422, {"detail": [f"status: {status!r} is not one of ['due', 'to_review', 'missed']"]})
    rows = list(rows[:200])
    audit.record("followup.checkins.listed", clinic=user.clinic, details={"status": status, "count": len(rows)})
    return [checkin_out(c) for c in rows]


@router.get("/patients/{patient_id}/checkins", url_name="followup_patient_checkins", response=list[CheckInOut])
def followup_patient_checkins(request: HttpRequest, patient_id: UUID):
    """Every check-in of one patient, newest first."""
    patient = get_patient_for_user(request.auth, patient_id, "followup.view")
    rows = list(CheckIn.objects.filter(patient_id__in=chart_ids(patient)).select_related("patient", "procedure").order_by("-due_at"))
    audit.record("followup.checkins.viewed", obj=patient, details={"count": len(rows)})
    return [checkin_out(c) for c in rows]


@router.get("/patients/{patient_id}/checkins/{checkin_id}", url_name="followup_checkin", response=CheckInOut)
def followup_checkin(request: HttpRequest, patient_id: UUID, checkin_id: UUID):
    checkin = _checkin_for(request.auth, patient_id, checkin_id, "followup.view")
    view_record(request.auth, checkin)
    return checkin_out(checkin)


@router.post("/patients/{patient_id}/checkins/{checkin_id}/answers", url_name="followup_answer_checkin",
             response={200: AnswerOut, 400: ProblemsOut, 409: ProblemsOut, 413: ProblemsOut, 422: ProblemsOut},
             openapi_extra={"requestBody": ANSWERS_REQUEST_BODY})
def followup_answer_checkin(request: HttpRequest, patient_id: UUID, checkin_id: UUID):
    """Enter a check-in's answers taken by phone: `{"symptoms", "temperature"?, "pain_now"?, "relief_percent"?,
    "free_text"?}`. Emergency/urgent raises an alert and pages, exactly as when the patient answers."""
    checkin = _checkin_for(request.auth, patient_id, checkin_id, "followup.triage")
    payload = _json_body(request)
    try:
        checkin, result = submit_checkin(checkin, payload, via=AnsweredVia.STAFF, user=request.auth)
    except CheckInClosed as exc:
        return Status(409, {"detail": str(exc)})
    alert = Alert.objects.filter(checkin=checkin).first()
    return {"checkin": checkin_out(checkin), "triage": result.as_dict(), "alert": alert.public_id if alert else None}


# ----------------------------------------------------------------------------- alerts


@router.get("/alerts", url_name="followup_alerts", response={200: list[AlertOut], 422: ProblemsOut})
def followup_alerts(request: HttpRequest, status: str = "active"):
    """The clinic's alerts: `active` (open and acknowledged, open first), `open`, `acknowledged`, `resolved`."""
    user = request.auth
    require(user, "followup.view")
    allowed = ["active", *AlertStatus.values]
    if status not in allowed:
        return Status(422, {"detail": [f"status: {status!r} is not one of {allowed}"]})
    rows = Alert.objects.filter(clinic=user.clinic).select_related(
        "patient", "procedure", "checkin__patient", "checkin__procedure", "acknowledged_by", "resolved_by")
    if status == "active":
        rows = rows.exclude(status=AlertStatus.RESOLVED)
    else:
        rows = rows.filter(status=status)
    ordered = sorted(rows[:200], key=lambda a: (a.status != AlertStatus.OPEN, a.raised_at))
    audit.record("followup.alerts.listed", clinic=user.clinic, details={"status": status, "count": len(ordered)})
    return [alert_out(a) for a in ordered]


@router.get("/patients/{patient_id}/alerts/{alert_id}", url_name="followup_alert", response=AlertOut)
def followup_alert(request: HttpRequest, patient_id: UUID, alert_id: UUID):
    alert = _alert_for(request.auth, patient_id, alert_id, "followup.view")
    view_record(request.auth, alert)
    return alert_out(alert)


@router.post("/patients/{patient_id}/alerts/{alert_id}/acknowledge", url_name="followup_acknowledge_alert",
             response={200: AlertOut, 409: ProblemsOut})
def followup_acknowledge_alert(request: HttpRequest, patient_id: UUID, alert_id: UUID):
    """Stop escalation: you are handling it. 409 when somebody already acknowledged or resolved it."""
    alert = _alert_for(request.auth, patient_id, alert_id, "alert.acknowledge")
    try:
        alert = acknowledge_alert(request.auth, alert, via="api")
    except AlertStateError as exc:
        return Status(409, {"detail": str(exc)})
    return alert_out(alert)


@router.post("/patients/{patient_id}/alerts/{alert_id}/resolve", url_name="followup_resolve_alert",
             response={200: AlertOut, 409: ProblemsOut, 422: ProblemsOut})
def followup_resolve_alert(request: HttpRequest, patient_id: UUID, alert_id: UUID, payload: ResolveIn):
    """Close the alert with a note of what was done (required). An open alert is acknowledged by resolving it."""
    alert = _alert_for(request.auth, patient_id, alert_id, "alert.resolve")
    try:
        alert = resolve_alert(request.auth, alert, payload.note)
    except AlertStateError as exc:
        return Status(409, {"detail": str(exc)})
    return alert_out(alert)


# ----------------------------------------------------------------------------- call notes


@router.post("/patients/{patient_id}/call-notes", url_name="followup_call_note",
             response={201: CallNoteOut, 400: ProblemsOut, 404: ProblemsOut, 413: ProblemsOut, 422: ProblemsOut})
def followup_call_note(request: HttpRequest, patient_id: UUID, payload: dict = Body(...)):  # noqa: B008
    """`{"outcome": "reached"|"no_answer"|"left_message"|"sent_to_ed", "note", "alert"?, "checkin"?}`.
    A call about an open alert acknowledges it."""
    user = request.auth
    patient = get_patient_for_user(user, patient_id, "followup.triage")
    problems = []
    outcome = payload.get("outcome")
    if outcome not in CallOutcome.values:
        problems.append(f"outcome: {outcome!r} is not one of {list(CallOutcome.values)}")
    note = payload.get("note", "")
    if not isinstance(note, str):
        problems.append("note: must be a string")
    if problems:
        return Status(422, {"detail": problems})
    alert = _alert_for(user, patient_id, payload["alert"], "followup.view") if payload.get("alert") else None
    checkin = _checkin_for(user, patient_id, payload["checkin"], "followup.view") if payload.get("checkin") else None
    try:
        call = add_call_note(user, patient, outcome=outcome, note=note, alert=alert, checkin=checkin)
    except ValidationError as exc:
        return Status(422, {"detail": exc.messages})
    return Status(201, {"id": call.public_id, "outcome": call.outcome, "note": call.note, "called_at": call.called_at,
                        "alert": alert.public_id if alert else None,
                        "checkin": call.checkin.public_id if call.checkin else None})


# ----------------------------------------------------------------------------- on-call


def oncall_out(clinic) -> dict[str, Any]:
    schedule = schedule_of(clinic)
    slots = list(schedule.slots.select_related("user")) if schedule else []
    return {
        "acknowledge_within_minutes": schedule.acknowledge_within_minutes if schedule else 15,
        "checkin_slots": [s.as_dict() for s in plan_for(clinic).slots],
        "rota": [{"username": s.user.username, "name": s.user.get_full_name() or s.user.username,
                  "position": s.position, "phone": s.phone, "starts_at": s.starts_at, "ends_at": s.ends_at}
                 for s in slots],
        "on_call_now": [s.user.username for s in on_call_slots(clinic, timezone.now())],
    }


@router.get("/oncall", url_name="followup_oncall", response=OnCallOut)
def followup_oncall(request: HttpRequest):
    """Who is paged, in which order, and after how many minutes an alert escalates."""
    require(request.auth, "followup.view")
    return oncall_out(request.auth.clinic)


@router.put("/oncall", url_name="followup_update_oncall",
            response={200: OnCallOut, 400: ProblemsOut, 413: ProblemsOut, 422: ProblemsOut})
def followup_update_oncall(request: HttpRequest, payload: dict = Body(...)):  # noqa: B008
    """`{"acknowledge_within_minutes"?, "checkin_slots"?: [{"day", "time"}], "rota"?: [{"username", "phone"?,
    "starts_at"?, "ends_at"?}]}` — the rota replaces the whole order."""
    user = request.auth
    require(user, "oncall.manage")
    problems: list[str] = []
    unknown = sorted(set(payload) - {"acknowledge_within_minutes", "checkin_slots", "rota"})
    if unknown:
        problems.append(f"unknown field(s) {unknown}")
    minutes = payload.get("acknowledge_within_minutes")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int)):
        problems.append("acknowledge_within_minutes: must be a whole number")
    rota = None
    if payload.get("rota") is not None:
        if not isinstance(payload["rota"], list):
            problems.append("rota: must be a list")
        else:
            rota = []
            for index, entry in enumerate(payload["rota"]):
                if not isinstance(entry, dict):
                    problems.append(f"rota[{index}]: must be an object")
                    continue
                person = staff_accounts.staff_member(user.clinic, entry.get("username"))
                if person is None:
                    problems.append(f"rota[{index}].username: no staff member {entry.get('username')!r} in this clinic")
                times = {}
                for key in ("starts_at", "ends_at"):
                    raw = entry.get(key)
                    value = parse_datetime(raw) if isinstance(raw, str) else None
                    if raw is not None and (value is None or value.tzinfo is None):
                        problems.append(f"rota[{index}].{key}: must be an ISO 8601 datetime with a UTC offset")
                    times[key] = value
                rota.append({"user": person, "phone": str(entry.get("phone") or ""), **times})
    if problems:
        return Status(422, {"detail": problems})
    try:
        update_oncall(user, user.clinic, acknowledge_within_minutes=minutes,
                               checkin_slots=payload.get("checkin_slots"), rota=rota)
    except ValidationError as exc:
        return Status(422, {"detail": exc.message_dict})
    return oncall_out(user.clinic)
