"""The scheduling app's rows of the role × action matrix (accounts/tests/test_access_matrix.py).

Each state-changing row books its own appointment, so the order the matrix runs the rows in
cannot turn an allowed request into an already-done one.
"""

from __future__ import annotations

from datetime import timedelta

DESK = {"physician", "nurse", "front_desk", "clinic_admin"}
EVERYONE = DESK | {"analyst", "portal_patient", "other_clinic", "anonymous"}
_counter = {"n": 0}


def _appointment(patient, status="booked", started=False):
    """An appointment of its own, on a future weekday (or started an hour ago for no-show rows)."""
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from triggerpoint.accounts.models import User
    from triggerpoint.scheduling.models import Appointment, AppointmentType, Room

    clinic = patient.clinic
    _counter["n"] += 1
    n = _counter["n"]
    kind, _ = AppointmentType.objects.get_or_create(clinic=clinic, name="Matrix procedure",
                                                    defaults={"kind": "procedure", "default_minutes": 30})
    room, _ = Room.objects.get_or_create(clinic=clinic, name="Matrix room")
    clinician, created = User.objects.get_or_create(username="dr.matrix", defaults={"clinic": clinic})
    if created:
        clinician.groups.add(Group.objects.get_or_create(name="physician")[0])
    start = timezone.now() - timedelta(hours=1) if started else timezone.now() + timedelta(days=30, hours=n)
    return Appointment.objects.create(clinic=clinic, patient=patient, appointment_type=kind, clinician=clinician,
                                      room=room, starts_at=start, ends_at=start + timedelta(minutes=30), status=status)


def rows(patient):
    from triggerpoint.scheduling.tests.conftest import at, next_monday, set_up_clinic

    clinic = patient.clinic
    types, _rooms = set_up_clinic(clinic)
    a = _appointment(patient)
    monday = next_monday(clinic)
    book = {"appointment_type_id": str(types["assessment"].public_id),
            "clinician": "dr.matrix", "starts_at": at(clinic, monday, "08:00").isoformat()}
    move = {"version": 1, "starts_at": at(clinic, monday + timedelta(days=1), "09:00").isoformat()}
    form = {"patient_mrn": patient.mrn, "appointment_type": str(types["follow_up"].public_id),
            "clinician": "dr.matrix", "date": (monday + timedelta(days=2)).isoformat(), "time": "10:00"}
    base = f"/schedule/patients/{patient.public_id}/appointments"
    token = _patient_token(patient)
    api = f"/api/v1/scheduling/patients/{patient.public_id}/appointments"
    return [
        ("scheduling:day", "get", "/schedule/", None, DESK, {200}),
        ("scheduling:week", "get", "/schedule/week/", None, DESK, {200}),
        ("scheduling:book", "get", f"/schedule/book/?patient={patient.public_id}", None, DESK, {200}),
        ("scheduling:book", "post", f"/schedule/book/?patient={patient.public_id}", form, DESK, {302}),
        ("scheduling:move", "get", f"{base}/{a.public_id}/move/", None, DESK, {200}),
        ("scheduling:step", "post", f"{base}/{_appointment(patient).public_id}/status/",
         {"status": "confirmed", "version": 1}, DESK, {302}),
        ("scheduling:cancel", "post", f"{base}/{_appointment(patient).public_id}/cancel/",
         {"reason": "Called", "version": 1}, DESK, {302}),
        ("scheduling:no_show", "post", f"{base}/{_appointment(patient, started=True).public_id}/no-show/",
         {"version": 1}, DESK, {302}),
        ("api:list_appointments", "get", "/api/v1/scheduling/appointments", None, DESK, {200}),
        ("api:book_appointment", "post", f"/api/v1/scheduling/patients/{patient.public_id}/appointments", book, DESK,
         {201}),
        ("api:list_patient_appointments", "get", f"/api/v1/scheduling/patients/{patient.public_id}/appointments",
         None, DESK, {200}),
        ("api:read_appointment", "get", f"{api}/{a.public_id}", None, DESK, {200}),
        ("api:move_appointment", "patch", f"{api}/{_appointment(patient).public_id}", move, DESK, {200}),
        ("api:step_appointment", "post", f"{api}/{_appointment(patient).public_id}/status",
         {"status": "confirmed", "version": 1}, DESK, {200}),
        ("api:cancel_appointment", "post", f"{api}/{_appointment(patient).public_id}/cancel",
         {"reason": "Called", "version": 1}, DESK, {200}),
        ("api:no_show_appointment", "post", f"{api}/{_appointment(patient, started=True).public_id}/no-show",
         {"version": 1}, DESK, {200}),
        ("api:list_appointment_types", "get", "/api/v1/scheduling/appointment-types", None, DESK, {200}),
        ("api:list_rooms", "get", "/api/v1/scheduling/rooms", None, DESK, {200}),
        ("api:list_clinicians", "get", "/api/v1/scheduling/clinicians", None, DESK, {200}),
        # the patient's appointment link: the token is the key, whoever holds it (no login)
        ("scheduling:patient_link", "get", f"/schedule/a/{token}/", None, EVERYONE, {200}),
        ("scheduling:patient_link", "post", f"/schedule/a/{token}/", {"action": "confirm"}, EVERYONE, {200}),
    ]


def _patient_token(patient) -> str:
    from triggerpoint.notifications.services import issue_link
    from triggerpoint.scheduling.patient_messages import LINK_PURPOSE

    _link, token = issue_link(patient, LINK_PURPOSE, _appointment(patient), timedelta(days=7))
    return token
