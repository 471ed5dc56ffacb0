"""The schedule on the JSON API (/api/v1/scheduling/): list a day, book, read, move, cancel, no-show, steps.

A refused booking answers in the house error shape with every reason: 422 when the time
itself is wrong (in the past, outside opening hours, too long), 409 when the clinician or the
room is taken (each conflicting appointment named) or the lifecycle does not allow the change.
Each `detail` sentence comes with the rule that said it in `findings`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal
from uuid import UUID

from django.http import Http404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from triggerpoint.accounts.policy import require
from triggerpoint.core.plausible import ScheduledDate, ScheduledDateTime
from triggerpoint.patients.selectors import get_patient_for_user
from triggerpoint.scheduling import selectors, services
from triggerpoint.scheduling.models import Appointment, AppointmentType, Room

router = Router(tags=["scheduling"])

StatusValue = Literal["booked", "confirmed", "arrived", "in_room", "done", "cancelled", "no_show"]
StepValue = Literal["confirmed", "arrived", "in_room", "done"]


class ScheduleFindingOut(Schema):
    rule: str
    version: int
    message: str
    conflicting: UUID | None = Field(None, description="The appointment already holding the time (409 conflicts).")


class SchedulingProblem(Schema):
    detail: list[str] = Field(..., description="Every reason, in words the front desk can act on.")
    findings: list[ScheduleFindingOut]


class AppointmentTypeOut(Schema):
    id: UUID = Field(..., alias="public_id")
    kind: str
    name: str
    default_minutes: int
    needs_room: bool


class RoomOut(Schema):
    id: UUID = Field(..., alias="public_id")
    name: str
    has_ultrasound: bool


class ClinicianOut(Schema):
    username: str
    name: str


class AppointmentPatientOut(Schema):
    id: UUID
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date


class AppointmentOut(Schema):
    id: UUID
    version: int
    patient: AppointmentPatientOut
    type: AppointmentTypeOut
    clinician: ClinicianOut
    room: RoomOut | None
    starts_at: datetime
    ends_at: datetime
    local_start: str = Field(..., description="Start on the clinic's wall clock, ISO 8601 with its offset.")
    time_zone: str
    status: StatusValue
    note: str
    cancel_reason: str
    confirmed_at: datetime | None
    arrived_at: datetime | None
    in_room_at: datetime | None
    done_at: datetime | None
    cancelled_at: datetime | None
    no_show_at: datetime | None


class AppointmentIn(Schema):
    appointment_type_id: UUID
    clinician: str = Field(..., min_length=1, max_length=150, description="The clinician's username.")
    room_id: UUID | None = None
    starts_at: ScheduledDateTime = Field(..., description="ISO 8601 with a UTC offset; a naive time is refused.")
    ends_at: ScheduledDateTime | None = Field(None, description="Leave out for the type's default length.")
    note: str = Field("", max_length=300)


class AppointmentMoveIn(Schema):
    version: int = Field(..., ge=1, description="The version you read; a stale version is refused with 409.")
    starts_at: ScheduledDateTime
    ends_at: ScheduledDateTime | None = Field(None, description="Leave out to keep the appointment's length.")
    clinician: str | None = Field(None, min_length=1, max_length=150)
    room_id: UUID | None = Field(None, description="Send null explicitly to free the room; leave out to keep it.")


class AppointmentCancelIn(Schema):
    version: int = Field(..., ge=1)
    reason: str = Field(..., min_length=1, max_length=300)


class AppointmentVersionIn(Schema):
    version: int = Field(..., ge=1)


class AppointmentStepIn(Schema):
    version: int = Field(..., ge=1)
    status: StepValue


def appointment_out(appointment: Appointment) -> dict:
    zone = appointment.clinic.zone
    patient = appointment.patient
    return {
        "id": appointment.public_id,
        "version": appointment.version,
        "patient": {"id": patient.public_id, "mrn": patient.mrn, "given_name": patient.given_name,
                    "family_name": patient.family_name, "date_of_birth": patient.date_of_birth},
        "type": appointment.appointment_type,
        "clinician": {"username": appointment.clinician.username,
                      "name": services.clinician_name(appointment.clinician)},
        "room": appointment.room,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "local_start": appointment.starts_at.astimezone(zone).isoformat(),
        "time_zone": zone.key,
        "status": appointment.status,
        "note": appointment.note,
        "cancel_reason": appointment.cancel_reason,
        **{name: getattr(appointment, name) for name in Appointment.STATUS_TIMESTAMP.values()},
    }


def _problem(exc: services.SchedulingRefused):
    findings = [{"rule": f.rule, "version": f.version, "message": f.message,
                 "conflicting": f.data.get("conflicting")} for f in exc.findings]
    return Status(exc.status, {"detail": exc.messages, "findings": findings})


def _clinician(user, username: str):
    clinician = selectors.clinicians(user.clinic).filter(username=username).first()
    if clinician is None:
        raise Http404("No such clinician in this clinic.")
    return clinician


PROBLEMS = {409: SchedulingProblem, 422: SchedulingProblem}


@router.get("/appointments", response=list[AppointmentOut])
def list_appointments(request, date: ScheduledDate | None = None, days: int = 1, clinician: str | None = None, room_id: UUID | None = None,
                      status: StatusValue | None = None):
    """The appointments of a day (the clinic's local day; default today), or of `days` days from it (at most 7)."""
    user = request.auth
    require(user, "schedule.view")
    if not 1 <= days <= 7:
        raise HttpError(422, "days must be between 1 and 7")
    clinic = user.clinic
    first = date or selectors.clinic_today(clinic)
    start, _ = selectors.day_bounds(clinic, first)
    _, end = selectors.day_bounds(clinic, first + timedelta(days=days - 1))
    # An unknown filter is a wrong query (422), not a missing record: the list itself exists.
    who = selectors.clinicians(clinic).filter(username=clinician).first() if clinician else None
    if clinician and who is None:
        raise HttpError(422, f"clinician: no clinician of this clinic is called {clinician!r}")
    where = selectors.rooms(clinic).filter(public_id=room_id).first() if room_id else None
    if room_id and where is None:
        raise HttpError(422, "room_id: no room of this clinic has this id")
    rows = selectors.appointments_between(clinic, start, end, clinician=who, room=where)
    if status:
        rows = rows.filter(status=status)
    rows = list(rows)
    services.view_day(user, rows, channel="api", details={"date": first.isoformat(), "days": days})
    return [appointment_out(a) for a in rows]


@router.get("/patients/{patient_id}/appointments", response=list[AppointmentOut])
def list_patient_appointments(request, patient_id: UUID):
    """One patient's appointments, latest first (cancelled and no-shows included)."""
    patient = get_patient_for_user(request.auth, patient_id, "schedule.view")
    rows = list(selectors.appointments_for_patient(patient)[:200])
    services.view_day(request.auth, rows, channel="api", details={"patient": True})
    return [appointment_out(a) for a in rows]


@router.post("/patients/{patient_id}/appointments", response={201: AppointmentOut, **PROBLEMS})
def book_appointment(request, patient_id: UUID, payload: AppointmentIn):
    """Book. 422 with every reason for a wrong time; 409 naming the appointment that holds the clinician or room."""
    user = request.auth
    patient = get_patient_for_user(user, patient_id, "appointment.book")
    kind = selectors.get_clinic_record(user, AppointmentType, payload.appointment_type_id)
    room = selectors.get_clinic_record(user, Room, payload.room_id) if payload.room_id else None
    try:
        appointment = services.book(user, patient=patient, appointment_type=kind,
                                    clinician=_clinician(user, payload.clinician), starts_at=payload.starts_at,
                                    ends_at=payload.ends_at, room=room, note=payload.note, channel="api")
    except services.SchedulingRefused as exc:
        return _problem(exc)
    return Status(201, appointment_out(appointment))


@router.get("/patients/{patient_id}/appointments/{appointment_id}", response=AppointmentOut)
def read_appointment(request, patient_id: UUID, appointment_id: UUID):
    appointment = selectors.get_appointment_for_user(request.auth, appointment_id, "schedule.view", patient_id)
    services.view_appointment(request.auth, appointment, channel="api")
    return appointment_out(appointment)


@router.patch("/patients/{patient_id}/appointments/{appointment_id}", response={200: AppointmentOut, **PROBLEMS})
def move_appointment(request, patient_id: UUID, appointment_id: UUID, payload: AppointmentMoveIn):
    """Move to another time, clinician or room (booked or confirmed appointments only)."""
    user = request.auth
    appointment = selectors.get_appointment_for_user(user, appointment_id, "appointment.change", patient_id)
    sent = payload.dict(exclude_unset=True)
    kwargs = {}
    if "room_id" in sent:
        kwargs["room"] = selectors.get_clinic_record(user, Room, payload.room_id) if payload.room_id else None
    clinician = _clinician(user, payload.clinician) if payload.clinician else None
    try:
        appointment = services.move(user, appointment, payload.version, starts_at=payload.starts_at,
                                    ends_at=payload.ends_at, clinician=clinician, channel="api", **kwargs)
    except services.SchedulingRefused as exc:
        return _problem(exc)
    return Status(200, appointment_out(appointment))


@router.post("/patients/{patient_id}/appointments/{appointment_id}/cancel", response={200: AppointmentOut, **PROBLEMS})
def cancel_appointment(request, patient_id: UUID, appointment_id: UUID, payload: AppointmentCancelIn):
    user = request.auth
    appointment = selectors.get_appointment_for_user(user, appointment_id, "appointment.change", patient_id)
    try:
        appointment = services.cancel(user, appointment, payload.version, payload.reason, channel="api")
    except services.SchedulingRefused as exc:
        return _problem(exc)
    return Status(200, appointment_out(appointment))


@router.post("/patients/{patient_id}/appointments/{appointment_id}/no-show", response={200: AppointmentOut, **PROBLEMS})
def no_show_appointment(request, patient_id: UUID, appointment_id: UUID, payload: AppointmentVersionIn):
    """Mark a no-show (only after the start time, before arrival)."""
    user = request.auth
    appointment = selectors.get_appointment_for_user(user, appointment_id, "appointment.change", patient_id)
    try:
        appointment = services.mark_no_show(user, appointment, payload.version, channel="api")
    except services.SchedulingRefused as exc:
        return _problem(exc)
    return Status(200, appointment_out(appointment))


@router.post("/patients/{patient_id}/appointments/{appointment_id}/status", response={200: AppointmentOut, **PROBLEMS})
def step_appointment(request, patient_id: UUID, appointment_id: UUID, payload: AppointmentStepIn):
    """Confirm, arrived, in room, done: the lifecycle (SCH-LIFECYCLE) says which step may follow which."""
    user = request.auth
    appointment = selectors.get_appointment_for_user(user, appointment_id, "appointment.change", patient_id)
    try:
        appointment = services.advance_status(user, appointment, payload.version, payload.status, channel="api")
    except services.SchedulingRefused as exc:
        return _problem(exc)
    return Status(200, appointment_out(appointment))


@router.get("/appointment-types", response=list[AppointmentTypeOut])
def list_appointment_types(request):
    require(request.auth, "schedule.view")
    return list(selectors.appointment_types(request.auth.clinic))


@router.get("/rooms", response=list[RoomOut])
def list_rooms(request):
    require(request.auth, "schedule.view")
    return list(selectors.rooms(request.auth.clinic))


@router.get("/clinicians", response=list[ClinicianOut])
def list_clinicians(request):
    require(request.auth, "schedule.view")
    return [{"username": u.username, "name": services.clinician_name(u)} for u in selectors.clinicians(request.auth.clinic)]

