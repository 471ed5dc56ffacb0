"""Reads of the schedule for other apps and for the pages: the one place that filters appointments."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from triggerpoint.accounts.policy import audit_refusal, require_audited
from triggerpoint.accounts.roles import Role
from triggerpoint.accounts.selectors import active_staff_in_roles
from triggerpoint.patients.selectors import chart_ids, is_chart_of
from triggerpoint.scheduling import rules
from triggerpoint.scheduling.models import Appointment, AppointmentKind, AppointmentType, OpeningHours, Room


def day_bounds(clinic, day: date) -> tuple[datetime, datetime]:
    """The UTC instants of the clinic's local midnight to the next local midnight (23 or 25 hours on a DST day)."""
    zone = clinic.zone
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def clinic_today(clinic) -> date:
    return clinic.today()


def _base():
    return Appointment.objects.select_related("patient", "appointment_type", "clinician", "room")


def appointments_between(clinic, start: datetime, end: datetime, *, clinician=None, room=None,
                         include_cancelled: bool = True):
    """Appointments of `clinic` that start in [start, end), in time order."""
    queryset = _base().filter(clinic=clinic, starts_at__gte=start, starts_at__lt=end)
    if clinician is not None:
        queryset = queryset.filter(clinician=clinician)
    if room is not None:
        queryset = queryset.filter(room=room)
    if not include_cancelled:
        queryset = queryset.exclude(status__in=[rules.CANCELLED, rules.NO_SHOW])
    return queryset.order_by("starts_at", "pk")


def appointments_for_day(clinic, day: date, clinician=None, room=None, include_cancelled: bool = True):
    """The clinic's appointments on its local `day` (optionally one clinician's or one room's)."""
    start, end = day_bounds(clinic, day)
    return appointments_between(clinic, start, end, clinician=clinician, room=room,
                                include_cancelled=include_cancelled)


# What one row of the day view shows, read as plain values: a 400-row day builds no model instances.
DAY_ROW_FIELDS = (
    "pk", "public_id", "version", "status", "starts_at", "ends_at", "note", "cancel_reason", "arrived_at",
    "in_room_at", "patient_id", "patient__public_id", "patient__clinic_id", "patient__given_name",
    "patient__family_name", "patient__mrn", "patient__date_of_birth", "appointment_type__name",
    "appointment_type__kind", "clinician__username", "clinician__first_name", "clinician__last_name", "room__name",
)


def day_rows(clinic, day: date, clinician=None, room=None) -> list[dict[str, Any]]:
    """The day's appointments (cancelled and no-show included) as dicts of `DAY_ROW_FIELDS`, in time order."""
    start, end = day_bounds(clinic, day)
    queryset = appointments_between(clinic, start, end, clinician=clinician, room=room)
    return list(queryset.values(*DAY_ROW_FIELDS))


def next_appointment_for_patient(patient, *, kind: str | None = None, after: datetime | None = None):
    """The patient's next appointment still to happen (booked or confirmed), optionally of one kind."""
    queryset = _base().filter(patient_id__in=chart_ids(patient), starts_at__gte=after or timezone.now(),
                              status__in=[rules.BOOKED, rules.CONFIRMED])
    if kind is not None:
        queryset = queryset.filter(appointment_type__kind=kind)
    return queryset.order_by("starts_at").first()


def procedure_appointment_here(patient, day: date):
    """The patient's procedure appointment on `day` they have arrived for (arrived or in the room), if any:
    the one a note opened that day is written for."""
    start, end = day_bounds(patient.clinic, day)
    return (_base().filter(patient_id__in=chart_ids(patient), starts_at__gte=start, starts_at__lt=end,
                           appointment_type__kind=AppointmentKind.PROCEDURE, status__in=[rules.ARRIVED, rules.IN_ROOM])
            .order_by("starts_at", "pk").first())


# A procedure appointment still ahead of the patient: booked or confirmed, or arrived / in the room today.
UPCOMING_STATUSES = (rules.BOOKED, rules.CONFIRMED, rules.ARRIVED, rules.IN_ROOM)


def upcoming_procedure_appointment(patient, appointment_id: Any = None) -> dict[str, Any] | None:
    """The procedure appointment a new screening for `patient` is planned for, as plain values, or None.

    With `appointment_id` (the schedule or worklist names one): that appointment, if it is this patient's,
    a procedure, still active and not on an earlier day. Without: the patient's next such appointment.
    "Earlier day" and the date given are the clinic's local days (`Clinic.today()`, `day_bounds`), so an
    appointment at 23:30 in New York is on that evening's date, whatever the UTC date is.
    Returns ``{"id": public id, "date": local date, "at": "YYYY-MM-DD HH:MM" local}`` (screening.appointments).
    """
    clinic = patient.clinic
    today_starts, _ = day_bounds(clinic, clinic.today())
    queryset = Appointment.objects.select_related("appointment_type").filter(
        patient_id__in=chart_ids(patient), appointment_type__kind=AppointmentKind.PROCEDURE, status__in=UPCOMING_STATUSES,
        starts_at__gte=today_starts)
    if appointment_id is not None:
        try:
            queryset = queryset.filter(public_id=appointment_id)
            appointment = queryset.first()
        except (ValidationError, ValueError):
            return None
    else:
        appointment = queryset.order_by("starts_at", "pk").first()
    if appointment is None:
        return None
    local = appointment.starts_at.astimezone(clinic.zone)
    return {"id": str(appointment.public_id), "date": local.date(), "at": local.strftime("%Y-%m-%d %H:%M")}


def appointments_for_patient(patient):
    """The patient's appointments, latest first: those of every chart that makes the patient up (a merge moves
    no appointment; `patients.selectors.chart_ids`)."""
    return _base().filter(patient_id__in=chart_ids(patient)).order_by("-starts_at")


def appointments_of_chart(patient):
    """The appointments booked on exactly this chart row, latest first (the chart's timeline, which asks every
    chart of a merged patient in turn)."""
    return _base().filter(patient=patient).order_by("-starts_at")


def opening_hours(clinic) -> dict[int, list]:
    """weekday -> [(opens, closes)] on the clinic's local clock, as `rules.check_opening_hours` takes it."""
    hours: dict[int, list] = {}
    for row in OpeningHours.objects.filter(clinic=clinic).order_by("weekday", "opens"):
        hours.setdefault(row.weekday, []).append((row.opens, row.closes))
    return hours


def appointment_types(clinic):
    return AppointmentType.objects.filter(clinic=clinic, active=True).order_by("name")


def rooms(clinic):
    return Room.objects.filter(clinic=clinic, active=True).order_by("name")


def clinicians(clinic):
    """Staff who see patients (physicians and nurses) of the clinic, by name."""
    return active_staff_in_roles(clinic, [Role.PHYSICIAN, Role.NURSE]).order_by("last_name", "first_name", "username")


def get_appointment_for_user(user: Any, public_id: Any, action: str, patient_id: Any = None) -> Appointment:
    """The appointment, if this user may `action` it: 404 when missing, another clinic's, or (when the route
    names a patient) another patient's — a chart merged with the route's counts as the same patient; 403 for
    the role."""
    try:
        appointment = _base().get(public_id=public_id)
    except (Appointment.DoesNotExist, ValidationError, ValueError) as exc:
        audit_refusal(user, Appointment, public_id, action, None)
        raise Http404("No such appointment.") from exc
    require_audited(user, action, appointment, public_id)
    if (patient_id is not None and str(appointment.patient.public_id) != str(patient_id)
            and not is_chart_of(patient_id, appointment.patient_id)):  # a chart merged with the one in the route
        raise Http404("No such appointment for this patient.")
    return appointment


def get_clinic_record(user: Any, model, public_id: Any):
    """A room or appointment type of the user's own clinic (404 otherwise: ids never leak across clinics)."""
    record = model.objects.filter(public_id=public_id, clinic_id=user.clinic_id).first() if public_id else None
    if record is None:
        raise Http404(f"No such {model._meta.verbose_name}.")
    return record


def is_procedure_visit(appointment: Appointment) -> bool:
    """Is this a trigger point procedure visit (screening, consent and the dose check's weight apply)?"""
    return appointment.appointment_type.kind == AppointmentKind.PROCEDURE
