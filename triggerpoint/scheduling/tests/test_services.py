"""Booking services: audit rows, permissions, 409 conflict text, 422 reasons, the lifecycle, a DST day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.errors import StaleVersion
from triggerpoint.scheduling import selectors, services, signals
from triggerpoint.scheduling.models import Appointment
from triggerpoint.scheduling.tests.conftest import at, next_monday


def book(user, sched, patient, clinician, when, room=0, kind="procedure", **extra):
    return services.book(user, patient=patient, appointment_type=sched["types"][kind], clinician=clinician,
                         starts_at=when, room=sched["rooms"][room] if room is not None else None, **extra)


@pytest.mark.parametrize("role", ["physician", "nurse", "front_desk", "clinic_admin"])
def test_staff_who_book_can_book_and_each_booking_is_audited_under_the_patient(role, sched, patient, physician,
                                                                                  request):
    user = request.getfixturevalue(role)
    monday = next_monday(sched["clinic"])
    appointment = book(user, sched, patient, physician, at(sched["clinic"], monday, "09:00"))
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=30)  # the type's default
    assert appointment.status == "booked" and appointment.created_by == user
    event = AuditEvent.objects.get(action="scheduling.appointment.booked")
    assert event.patient_id == patient.pk and event.actor_id == user.pk
    assert event.object_id == str(appointment.public_id)


def test_analyst_and_patients_may_not_book(sched, patient, physician, analyst):
    when = at(sched["clinic"], next_monday(sched["clinic"]), "09:00")
    with pytest.raises(PermissionDenied):
        book(analyst, sched, patient, physician, when)
    with pytest.raises(PermissionDenied):
        book(patient.portal_user, sched, patient, physician, when)
    assert not Appointment.objects.exists()


def test_another_clinics_patient_is_not_found(sched, patient_in_b, physician, front_desk):
    with pytest.raises(Http404):
        book(front_desk, sched, patient_in_b, physician, at(sched["clinic"], next_monday(sched["clinic"]), "09:00"))


def test_clinician_double_booking_is_refused_naming_the_appointment(sched, patient, other_patient, physician,
                                                                    front_desk):
    clinic = sched["clinic"]
    monday = next_monday(clinic)
    first = book(front_desk, sched, patient, physician, at(clinic, monday, "09:00"), room=0)
    with pytest.raises(services.BookingConflict) as refused:
        book(front_desk, sched, other_patient, physician, at(clinic, monday, "09:15"), room=1)
    (finding,) = refused.value.findings
    assert refused.value.status == 409 and finding.rule == "SCH-OVERLAP"
    assert finding.data["conflicting"] == str(first.public_id)
    name = physician.get_full_name() or physician.username
    assert "The clinician already has an appointment" in finding.message
    assert f"09:00–09:30 with {name} in Room 1" in finding.message
    # back to back is fine
    book(front_desk, sched, other_patient, physician, at(clinic, monday, "09:30"), room=1)


def test_room_double_booking_is_refused(sched, patient, other_patient, physician, nurse, front_desk):
    clinic = sched["clinic"]
    monday = next_monday(clinic)
    book(front_desk, sched, patient, physician, at(clinic, monday, "10:00"), room=1)
    with pytest.raises(services.BookingConflict) as refused:
        book(front_desk, sched, other_patient, nurse, at(clinic, monday, "10:10"), room=1)
    assert "The room already has an appointment" in refused.value.findings[0].message
    assert "Ultrasound procedure room" in refused.value.findings[0].message


def test_cancelled_time_can_be_booked_again(sched, patient, other_patient, physician, front_desk):
    clinic = sched["clinic"]
    when = at(clinic, next_monday(clinic), "11:00")
    first = book(front_desk, sched, patient, physician, when)
    services.cancel(front_desk, first, first.version, "Patient called: car broke down")
    again = book(front_desk, sched, other_patient, physician, when)
    assert again.pk != first.pk


@pytest.mark.parametrize(("when", "rule", "words"), [
    (lambda c: timezone.now() - timedelta(hours=2), "SCH-NOT-PAST", "past"),
    (lambda c: at(c, next_monday(c), "07:45"), "SCH-HOURS", "Outside opening hours"),
    (lambda c: at(c, next_monday(c) + timedelta(days=5), "10:00"), "SCH-HOURS", "closed on Saturdays"),
])
def test_wrong_times_are_422_saying_why(sched, patient, physician, front_desk, when, rule, words):
    with pytest.raises(services.BookingInvalid) as refused:
        book(front_desk, sched, patient, physician, when(sched["clinic"]))
    assert refused.value.status == 422
    assert rule in {f.rule for f in refused.value.findings}
    assert any(words in m for m in refused.value.messages)
    assert not Appointment.objects.exists()
    assert not AuditEvent.objects.filter(action="scheduling.appointment.booked").exists()


def test_too_long_and_zero_length(sched, patient, physician, front_desk):
    clinic = sched["clinic"]
    start = at(clinic, next_monday(clinic), "09:00")
    for end in (start, start + timedelta(hours=8, minutes=1)):
        with pytest.raises(services.BookingInvalid) as refused:
            book(front_desk, sched, patient, physician, start, ends_at=end)
        assert refused.value.findings[0].rule == "SCH-DURATION"


def test_front_desk_cannot_be_the_clinician_nor_another_clinics_room(sched, patient, front_desk, physician,
                                                                    clinic_b):
    from triggerpoint.scheduling.models import Room

    clinic = sched["clinic"]
    when = at(clinic, next_monday(clinic), "09:00")
    with pytest.raises(services.BookingInvalid, match="physician or nurse"):
        book(front_desk, sched, patient, front_desk, when)
    elsewhere = Room.objects.create(clinic=clinic_b, name="Their room")
    with pytest.raises(services.BookingInvalid, match="room"):
        services.book(front_desk, patient=patient, appointment_type=sched["types"]["procedure"], clinician=physician,
                      starts_at=when, room=elsewhere)


def test_dst_day_booking_uses_the_local_clock(sched, patient, physician, front_desk):
    """The Monday after the spring change: 08:00 local is 12:00 UTC, not 13:00 as a week earlier."""
    from freezegun import freeze_time

    clinic = sched["clinic"]
    with freeze_time("2027-03-01 12:00:00"):
        after = date(2027, 3, 15)  # clocks go forward on Sunday 2027-03-14
        ok = book(front_desk, sched, patient, physician, at(clinic, after, "08:00"))
        assert ok.starts_at.hour == 12
        before = date(2027, 3, 8)
        with pytest.raises(services.BookingInvalid, match="07:00"):
            book(front_desk, sched, patient, physician, ok.starts_at.replace(day=8))  # 12:00 UTC is 07:00 EST
        assert at(clinic, before, "08:00").hour == 13


def test_move_keeps_length_checks_conflicts_and_version(sched, patient, other_patient, physician, front_desk):
    clinic = sched["clinic"]
    monday = next_monday(clinic)
    received = []
    signals.appointment_moved.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t-move")
    try:
        a = book(front_desk, sched, patient, physician, at(clinic, monday, "09:00"), kind="assessment", room=None)
        b = book(front_desk, sched, other_patient, physician, at(clinic, monday, "13:00"), room=None)
        with pytest.raises(services.BookingConflict):
            services.move(front_desk, b, b.version, starts_at=at(clinic, monday, "09:30"))
        moved = services.move(front_desk, a, a.version, starts_at=at(clinic, monday, "14:00"))
        assert moved.ends_at - moved.starts_at == timedelta(minutes=45)
        assert received and received[0]["previous_starts_at"] == at(clinic, monday, "09:00")
        with pytest.raises(StaleVersion):
            services.move(front_desk, Appointment.objects.get(pk=a.pk), 1, starts_at=at(clinic, monday, "15:00"))
        event = AuditEvent.objects.get(action="scheduling.appointment.moved")
        assert event.patient_id == patient.pk and event.details["previous_starts_at"].startswith(str(monday))
    finally:
        signals.appointment_moved.disconnect(dispatch_uid="t-move")


def test_the_day_lifecycle_with_timestamps_signals_and_audit(sched, patient, physician, nurse):
    clinic = sched["clinic"]
    a = book(nurse, sched, patient, physician, at(clinic, next_monday(clinic), "09:00"))
    seen = []
    signals.appointment_status_changed.connect(lambda **kw: seen.append((kw["previous"], kw["status"])), weak=False,
                                               dispatch_uid="t-steps")
    try:
        for step in ("confirmed", "arrived", "in_room", "done"):
            a = services.advance_status(nurse, a, a.version, step)
            assert getattr(a, Appointment.STATUS_TIMESTAMP[step]) is not None
    finally:
        signals.appointment_status_changed.disconnect(dispatch_uid="t-steps")
    assert seen == [("booked", "confirmed"), ("confirmed", "arrived"), ("arrived", "in_room"), ("in_room", "done")]
    assert AuditEvent.objects.filter(action="scheduling.appointment.status_changed", patient=patient).count() == 4
    with pytest.raises(services.TransitionRefused) as refused:
        services.cancel(nurse, a, a.version, "too late")
    assert refused.value.status == 409 and "done cannot become cancelled" in refused.value.messages[0]
    with pytest.raises(services.TransitionRefused):
        services.move(nurse, a, a.version, starts_at=a.starts_at + timedelta(hours=1))


def test_cancel_needs_a_reason_and_sends_its_signal(sched, patient, physician, front_desk):
    clinic = sched["clinic"]
    a = book(front_desk, sched, patient, physician, at(clinic, next_monday(clinic), "09:00"))
    with pytest.raises(services.BookingInvalid, match="why"):
        services.cancel(front_desk, a, a.version, "   ")
    reasons = []
    signals.appointment_cancelled.connect(lambda **kw: reasons.append(kw["reason"]), weak=False, dispatch_uid="t-c")
    try:
        a = services.cancel(front_desk, a, a.version, "Unwell with a fever")
    finally:
        signals.appointment_cancelled.disconnect(dispatch_uid="t-c")
    assert reasons == ["Unwell with a fever"] and a.cancelled_at is not None
    assert AuditEvent.objects.get(action="scheduling.appointment.cancelled").details["reason"] == "Unwell with a fever"


def test_no_show_only_after_the_start(sched, patient, physician, front_desk):
    from freezegun import freeze_time

    clinic = sched["clinic"]
    monday = next_monday(clinic)
    a = book(front_desk, sched, patient, physician, at(clinic, monday, "09:00"))
    with pytest.raises(services.TransitionRefused, match="not started"):
        services.mark_no_show(front_desk, a, a.version)
    with freeze_time(at(clinic, monday, "09:20")):
        a = services.mark_no_show(front_desk, a, a.version)
    assert a.status == "no_show" and AuditEvent.objects.filter(action="scheduling.appointment.no_show").count() == 1


def test_selectors_day_and_next_appointment(sched, patient, physician, nurse, front_desk):
    clinic = sched["clinic"]
    monday = next_monday(clinic)
    late = book(front_desk, sched, patient, nurse, at(clinic, monday, "17:30"), room=1)
    early = book(front_desk, sched, patient, physician, at(clinic, monday, "08:00"))
    book(front_desk, sched, patient, physician, at(clinic, monday + timedelta(days=1), "08:00"))
    assert list(selectors.appointments_for_day(clinic, monday)) == [early, late]
    assert list(selectors.appointments_for_day(clinic, monday, clinician=nurse)) == [late]
    assert list(selectors.appointments_for_day(clinic, monday, room=sched["rooms"][1])) == [late]
    assert selectors.next_appointment_for_patient(patient) == early
    assert selectors.next_appointment_for_patient(patient, kind="assessment") is None
