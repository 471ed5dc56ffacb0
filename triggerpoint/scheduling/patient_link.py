"""The patient's side of an appointment link: confirm the visit, or ask for another time.

The token in the message is the patient's authority (no login): it opens one appointment of one
patient, until the visit starts, and is revoked when the appointment is cancelled. Confirming is
the lifecycle step booked -> confirmed (the same rules as the front desk's button), audited under
the patient with no staff actor. Asking for another time changes nothing in the schedule: it is
recorded in the audit log, marked on the appointment's note (the day view shows it), and sent to
the clinic's front desk, who call the patient and move the appointment.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from triggerpoint.accounts.roles import Role
from triggerpoint.accounts.selectors import active_staff_in_roles
from triggerpoint.audit import services as audit
from triggerpoint.notifications import services as outbox
from triggerpoint.scheduling import rules, signals
from triggerpoint.scheduling.models import Appointment
from triggerpoint.scheduling.patient_messages import LINK_PURPOSE

RESCHEDULE_MARK = "Patient asked for another time"
REQUEST_MAX_CHARS = 500


def appointment_for_link(raw_token: str) -> Appointment:
    """The appointment a link opens; raises `LinkInvalid` for an unknown, expired or revoked token."""
    link = outbox.resolve_link(raw_token, LINK_PURPOSE)
    appointment = (Appointment.objects.select_related("patient", "clinic", "appointment_type")
                   .filter(public_id=link.target_id, patient_id=link.patient_id).first())
    if appointment is None or appointment.status in (rules.CANCELLED, rules.NO_SHOW, rules.DONE):
        raise outbox.LinkInvalid("This link is not valid.", patient=link.patient)
    return appointment


def opened(appointment: Appointment) -> None:
    audit.record("scheduling.appointment.link_opened", obj=appointment, patient=appointment.patient,
                 clinic=appointment.clinic, details={"channel": "patient_link", "status": appointment.status})


def confirm(appointment: Appointment) -> bool:
    """booked -> confirmed; True if this call confirmed it, False when it already was (a repeated click)."""
    with transaction.atomic():
        current = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if current.status != rules.BOOKED:
            return False
        finding = rules.check_transition(current.status, rules.CONFIRMED)
        if finding:  # pragma: no cover - booked -> confirmed is always allowed; kept for a changed lifecycle
            return False
        current.status, current.confirmed_at = rules.CONFIRMED, timezone.now()
        current.save_versioned(current.version, ["status", "confirmed_at"])
        audit.record("scheduling.appointment.confirmed_by_patient", obj=current, patient=current.patient,
                     clinic=current.clinic, details={"channel": "patient_link", "previous": rules.BOOKED,
                                                     "starts_at": current.starts_at.isoformat()})
        signals.appointment_status_changed.send(sender=Appointment, appointment=current, previous=rules.BOOKED,
                                                status=current.status)
    appointment.status, appointment.confirmed_at, appointment.version = (
        current.status, current.confirmed_at, current.version)
    return True


def request_reschedule(appointment: Appointment, message: str) -> bool:
    """Record the patient's wish for another time; False when it was already asked for this booking."""
    message = " ".join((message or "").split())[:REQUEST_MAX_CHARS]
    with transaction.atomic():
        current = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if current.note.startswith(RESCHEDULE_MARK):
            return False
        stamp = timezone.now().astimezone(current.clinic.zone)
        current.note = f"{RESCHEDULE_MARK} ({stamp:%d %b %H:%M}). {current.note}".strip()[:300]
        current.save_versioned(current.version, ["note"])
        audit.record("scheduling.appointment.reschedule_requested", obj=current, patient=current.patient,
                     clinic=current.clinic, details={"channel": "patient_link", "message": message,
                                                     "starts_at": current.starts_at.isoformat()})
        _tell_front_desk(current, message)
    appointment.note, appointment.version = current.note, current.version
    return True


def _tell_front_desk(appointment: Appointment, message: str) -> None:
    """An email to each active front-desk user of the clinic (no patient name in it: the link opens the day)."""
    start = appointment.starts_at.astimezone(appointment.clinic.zone)
    body = (f"A patient asked for another time for the appointment on {start:%a %d %b %Y %H:%M} "
            f"(MRN {appointment.patient.mrn}). Please call them and move it.\n\n"
            + (f"Their message: {message}" if message else "They left no message."))
    front_desk = active_staff_in_roles(appointment.clinic, [Role.FRONT_DESK])
    for user in front_desk.exclude(email=""):
        outbox.enqueue(clinic=appointment.clinic, kind="scheduling.reschedule_request", channel="email",
                       to=user.email, subject="A patient asked to reschedule", body=body,
                       idempotency_key=f"scheduling.reschedule_request:{appointment.public_id}:"
                                       f"{appointment.version}:{user.pk}",
                       recipient_user=user, related=appointment)
