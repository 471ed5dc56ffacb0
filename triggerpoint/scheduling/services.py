"""Changing the schedule: book, move, cancel, no-show and the arrival steps.

Each change is one transaction that checks the policy, applies the rules, writes the
appointment, audits it under the patient and sends its signal (receivers write inside the same
transaction). A double booking is refused race-free: the clinician's and the room's rows are
locked (SELECT ... FOR UPDATE, always users then rooms, by id, so two bookings cannot deadlock)
before the overlap is checked, so of two parallel bookings of one slot on PostgreSQL the second
waits for the first and then sees it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from triggerpoint.accounts.policy import require
from triggerpoint.accounts.roles import Role
from triggerpoint.accounts.services import lock_account
from triggerpoint.audit import services as audit
from triggerpoint.core.rules import Finding
from triggerpoint.scheduling import rules, selectors, signals
from triggerpoint.scheduling.models import Appointment, AppointmentType, Room


class SchedulingRefused(Exception):
    """A booking or change the rules refuse; `status` is the HTTP status that says so."""

    status = 422

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        super().__init__(" ".join(f.message for f in findings))

    @property
    def messages(self) -> list[str]:
        return [f.message for f in self.findings]


class BookingInvalid(SchedulingRefused):
    """In the past, outside opening hours, a nonsensical length, or a wrong clinician/room/type (422)."""


class BookingConflict(SchedulingRefused):
    """The clinician or the room is already booked at that time (409); names the conflicting appointments."""

    status = 409


class TransitionRefused(SchedulingRefused):
    """A status change the lifecycle does not allow (409: the appointment is not in a state that allows it)."""

    status = 409


def _label(appointment: Appointment, zone) -> str:
    """How the front desk names an appointment: local time, clinician and room."""
    start, end = appointment.starts_at.astimezone(zone), appointment.ends_at.astimezone(zone)
    text = f"on {start:%a %d %b %Y} {start:%H:%M}–{end:%H:%M} with {clinician_name(appointment.clinician)}"
    if appointment.room_id:
        text += f" in {appointment.room.name}"
    return text


def clinician_name(user) -> str:
    return user.get_full_name() or user.username


def _invalid(message: str, rule=rules.HOURS, **data) -> BookingInvalid:
    return BookingInvalid([Finding.of(rule, "invalid", message, **data)])


def _check_resources(clinic, appointment_type: AppointmentType, clinician, room: Room | None) -> None:
    problems = []
    if appointment_type.clinic_id != clinic.pk or not appointment_type.active:
        problems.append("The appointment type is not one of this clinic's active types.")
    if clinician.clinic_id != clinic.pk or not clinician.is_active or not (
            clinician.roles & {Role.PHYSICIAN, Role.NURSE}):
        problems.append("The clinician must be an active physician or nurse of this clinic.")
    if room is not None and (room.clinic_id != clinic.pk or not room.active):
        problems.append("The room is not one of this clinic's active rooms.")
    if problems:
        raise BookingInvalid([Finding.of(rules.HOURS, "invalid", p) for p in problems])


def _lock_resources(clinician, room: Room | None) -> None:
    """Serialise bookings per clinician and per room (PostgreSQL row locks; SQLite writes are serial anyway)."""
    lock_account(clinician)
    if room is not None:
        list(Room.objects.select_for_update().filter(pk=room.pk).values_list("pk", flat=True))


def _check_time(clinic, starts_at: datetime, ends_at: datetime, clinician, room: Room | None,
                ignore: Appointment | None = None) -> None:
    """The rules for a time slot: 422 for a bad time, then 409 for a taken one."""
    findings = rules.check_booking(starts_at=starts_at, ends_at=ends_at, now=timezone.now(), zone=clinic.zone,
                                   hours=selectors.opening_hours(clinic))
    if findings:
        raise BookingInvalid(findings)
    held = (Appointment.objects.select_related("clinician", "room")
            .filter(clinic=clinic, starts_at__lt=ends_at, ends_at__gt=starts_at, status__in=rules.BLOCKING)
            .filter(Q(clinician=clinician) | (Q(room=room) if room is not None else Q(pk__in=[]))))
    if ignore is not None:
        held = held.exclude(pk=ignore.pk)
    slots = [rules.Slot(id=str(a.public_id), starts_at=a.starts_at, ends_at=a.ends_at, clinician_id=a.clinician_id,
                        room_id=a.room_id, status=a.status, label=_label(a, clinic.zone)) for a in held]
    conflicts = rules.find_conflicts(starts_at, ends_at, clinician.pk, room.pk if room else None, slots)
    if conflicts:
        raise BookingConflict(conflicts)


def _audited(appointment: Appointment, user, **details: Any) -> dict[str, Any]:
    """The keyword arguments of `audit.record` for an appointment event (filed under its patient)."""
    return {"obj": appointment, "patient": appointment.patient, "clinic": appointment.clinic, "actor": user,
            "details": {"starts_at": appointment.starts_at.isoformat(), "status": appointment.status, **details}}


def book(user, *, patient, appointment_type: AppointmentType, clinician, starts_at: datetime,
         ends_at: datetime | None = None, room: Room | None = None, note: str = "", channel: str = "web") -> Appointment:
    """Book `patient`; 422 (BookingInvalid) or 409 (BookingConflict) say why not."""
    require(user, "appointment.book", patient)
    clinic = patient.clinic
    ends_at = ends_at or starts_at + timedelta(minutes=appointment_type.default_minutes)
    _check_resources(clinic, appointment_type, clinician, room)
    with transaction.atomic():
        _lock_resources(clinician, room)
        _check_time(clinic, starts_at, ends_at, clinician, room)
        appointment = Appointment.objects.create(
            clinic=clinic, patient=patient, appointment_type=appointment_type, clinician=clinician, room=room,
            starts_at=starts_at, ends_at=ends_at, note=note, created_by=user if user.pk else None)
        audit.record("scheduling.appointment.booked", **_audited(
            appointment, user, channel=channel, type=appointment_type.kind, clinician=clinician.username,
            room=room.name if room else None))
        signals.appointment_booked.send(sender=Appointment, appointment=appointment)
    return appointment


_UNSET: Any = object()


def move(user, appointment: Appointment, version: int, *, starts_at: datetime, ends_at: datetime | None = None,
         clinician=None, room: Room | None = _UNSET, channel: str = "web") -> Appointment:
    """Move to another time (and optionally clinician/room); the length is kept unless `ends_at` is given."""
    require(user, "appointment.change", appointment)
    finding = rules.check_movable(appointment.status)
    if finding:
        raise TransitionRefused([finding])
    clinic = appointment.clinic
    clinician = clinician or appointment.clinician
    room = appointment.room if room is _UNSET else room
    ends_at = ends_at or starts_at + (appointment.ends_at - appointment.starts_at)
    _check_resources(clinic, appointment.appointment_type, clinician, room)
    previous = (appointment.starts_at, appointment.ends_at)
    with transaction.atomic():
        _lock_resources(clinician, room)
        _check_time(clinic, starts_at, ends_at, clinician, room, ignore=appointment)
        appointment.starts_at, appointment.ends_at = starts_at, ends_at
        appointment.clinician, appointment.room = clinician, room
        appointment.save_versioned(version, ["starts_at", "ends_at", "clinician", "room"])
        audit.record("scheduling.appointment.moved", **_audited(
            appointment, user, channel=channel, previous_starts_at=previous[0].isoformat(),
            clinician=clinician.username, room=room.name if room else None))
        signals.appointment_moved.send(sender=Appointment, appointment=appointment, previous_starts_at=previous[0],
                                       previous_ends_at=previous[1])
    return appointment


def _change_status(user, appointment: Appointment, version: int, target: str, fields: dict[str, Any] | None = None):
    """Apply a lifecycle step (caller holds the transaction, audits, then calls `_announce`); returns the previous status."""
    require(user, "appointment.change", appointment)
    finding = rules.check_transition(appointment.status, target)
    if finding:
        raise TransitionRefused([finding])
    previous = appointment.status
    stamp = Appointment.STATUS_TIMESTAMP[target]
    appointment.status = target
    setattr(appointment, stamp, timezone.now())
    for name, value in (fields or {}).items():
        setattr(appointment, name, value)
    appointment.save_versioned(version, ["status", stamp, *(fields or {})])
    return previous


def _announce(appointment: Appointment, previous: str) -> None:
    signals.appointment_status_changed.send(sender=Appointment, appointment=appointment, previous=previous,
                                            status=appointment.status)
    if appointment.status == rules.CANCELLED:
        signals.appointment_cancelled.send(sender=Appointment, appointment=appointment,
                                           reason=appointment.cancel_reason)


def cancel(user, appointment: Appointment, version: int, reason: str, channel: str = "web") -> Appointment:
    reason = (reason or "").strip()[:300]
    if not reason:
        raise _invalid("Say why the appointment is cancelled (for example: patient called, unwell).",
                       rule=rules.LIFECYCLE)
    with transaction.atomic():
        previous = _change_status(user, appointment, version, rules.CANCELLED, {"cancel_reason": reason})
        audit.record("scheduling.appointment.cancelled",
                     **_audited(appointment, user, channel=channel, previous=previous, reason=reason))
        _announce(appointment, previous)
    return appointment


def mark_no_show(user, appointment: Appointment, version: int, channel: str = "web") -> Appointment:
    require(user, "appointment.change", appointment)
    finding = rules.check_no_show(appointment.starts_at, timezone.now())
    if finding:
        raise TransitionRefused([finding])
    with transaction.atomic():
        previous = _change_status(user, appointment, version, rules.NO_SHOW)
        audit.record("scheduling.appointment.no_show",
                     **_audited(appointment, user, channel=channel, previous=previous))
        _announce(appointment, previous)
    return appointment


# The steps a day moves an appointment through (cancellation and no-show have their own services).
STEPS = (rules.CONFIRMED, rules.ARRIVED, rules.IN_ROOM, rules.DONE)


def advance_status(user, appointment: Appointment, version: int, target: str, channel: str = "web") -> Appointment:
    """Confirm, check in (arrived), show to the room, or finish."""
    if target not in STEPS:
        raise _invalid(f"{target!r} is not a step; use one of: {', '.join(STEPS)} (cancel and no-show have "
                       "their own actions).", rule=rules.LIFECYCLE)
    with transaction.atomic():
        previous = _change_status(user, appointment, version, target)
        audit.record("scheduling.appointment.status_changed",
                     **_audited(appointment, user, channel=channel, previous=previous))
        _announce(appointment, previous)
    return appointment


def view_day(user, appointments, *, channel: str, details: dict[str, Any] | None = None) -> None:
    """Audit that a day/week view or list showed these patients (one event per patient)."""
    appointments = list(appointments)
    if appointments:
        audit.record_patient_views("scheduling.schedule.viewed", [a.patient for a in appointments],
                                   clinic=appointments[0].clinic, actor=user,
                                   details={"channel": channel, **(details or {})})


def view_day_rows(user, rows, clinic, *, channel: str, details: dict[str, Any] | None = None) -> None:
    """`view_day` for the day view's plain rows (`selectors.day_rows`): one event per patient shown."""
    patients = [_PatientShown(row["patient_id"], row["patient__public_id"], row["patient__clinic_id"]) for row in rows]
    audit.record_patient_views("scheduling.schedule.viewed", patients, clinic=clinic, actor=user,
                               details={"channel": channel, **(details or {})})


class _PatientShown(NamedTuple):
    pk: int
    public_id: Any
    clinic_id: int


def view_appointment(user, appointment: Appointment, channel: str) -> None:
    audit.record("scheduling.appointment.viewed", **_audited(appointment, user, channel=channel))
