"""The patient's side of a booking: confirmation with .ics, reminder, preparation, the confirm/reschedule link.

Real records, the real outbox, and real SMTP on loopback (the `smtp_server` fixture) where a message is sent.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone
from icalendar import Calendar

from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import make_staff
from triggerpoint.core.context import acting_as
from triggerpoint.notifications.models import Notification, PatientLink, Status
from triggerpoint.notifications.services import deliver_due, issue_link
from triggerpoint.scheduling import patient_messages, services, signals
from triggerpoint.scheduling.calendar import clinic_location
from triggerpoint.scheduling.models import Appointment, OpeningHours
from triggerpoint.scheduling.tests.conftest import at, next_monday
from triggerpoint.screening import questionnaire_link
from triggerpoint.screening import services as screening_services
from triggerpoint.screening.models import ClinicScreeningPolicy
from triggerpoint.screening.tests.conftest import LUMBAR_PLAN


def book(user, sched, patient, clinician, when, kind="procedure"):
    with acting_as(user):
        return services.book(user, patient=patient, appointment_type=sched["types"][kind], clinician=clinician,
                             starts_at=when, room=sched["rooms"][0])


def screening_on(physician, patient, day):
    with acting_as(physician):
        return screening_services.create_screening(physician, patient, day, LUMBAR_PLAN)


def of_kind(appointment, kind, status=None):
    qs = Notification.objects.filter(kind=kind, related_id=str(appointment.public_id))
    return qs.filter(status=status) if status else qs


def text_and_calendar(message):
    """The plain-text body and the parsed .ics attachment (None when there is none) of an email."""
    body, calendar = "", None
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not body:
            body = part.get_payload(decode=True).decode()
        elif part.get_content_type() == "text/calendar":
            calendar = Calendar.from_ical(part.get_payload(decode=True))
    return body, calendar


def token_in(body: str, prefix: str) -> str:
    return re.search(rf"{prefix}([^/\s]+)/", body).group(1)


def test_booking_sends_a_spanish_confirmation_with_a_calendar_file_by_real_smtp(
        sched, patient, physician, front_desk, smtp_server):
    patient.preferred_language = "es"
    patient.save(update_fields=["preferred_language"])
    clinic = sched["clinic"]
    clinic.address = "12 Main Street\nSpringfield"
    clinic.save(update_fields=["address"])
    appointment = book(front_desk, sched, patient, physician, at(clinic, next_monday(clinic, weeks=2), "14:30"))

    note = of_kind(appointment, patient_messages.CONFIRMATION).get()
    assert note.channel == "email" and note.to == patient.email and note.send_after <= timezone.now()
    assert deliver_due()["sent"] == 1
    message = smtp_server.messages[0]
    body, calendar = text_and_calendar(message)
    assert message["Subject"].startswith("Su cita en")
    assert "Hola, Pat:" in body and "a las 14:30" in body
    assert "/schedule/a/" in body
    event = calendar.walk("VEVENT")[0]
    assert event.decoded("dtstart") == appointment.starts_at.astimezone(UTC)
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert event.decoded("dtend") == appointment.ends_at.astimezone(UTC)
    assert str(event["summary"]) == f"Cita para la inyección en puntos gatillo en {clinic.name}"
    assert str(event["location"]) == clinic_location(clinic) == f"{clinic.name}, 12 Main Street Springfield"
    assert str(event["uid"]) == f"appointment-{appointment.public_id}@triggerpoint"


def test_a_repeated_signal_sends_no_second_confirmation_and_the_reminder_is_a_day_before(
        sched, patient, physician, front_desk):
    clinic = sched["clinic"]
    appointment = book(front_desk, sched, patient, physician, at(clinic, next_monday(clinic, weeks=2), "09:00"))
    signals.appointment_booked.send(sender=Appointment, appointment=appointment)  # a retried delivery
    assert of_kind(appointment, patient_messages.CONFIRMATION).count() == 1
    reminder = of_kind(appointment, patient_messages.REMINDER).get()
    assert reminder.send_after == appointment.starts_at - timedelta(hours=24)
    assert reminder.status == Status.PENDING and reminder.link.expires_at == appointment.starts_at


def test_a_booking_for_later_today_gets_no_reminder(sched, patient, physician, front_desk):
    """Less than a day ahead, the confirmation is the reminder: no message scheduled in the past."""
    clinic = sched["clinic"]
    now = timezone.now().astimezone(clinic.zone)
    starts = now + timedelta(hours=3)
    OpeningHours.objects.filter(clinic=clinic).delete()
    for weekday in range(7):
        OpeningHours.objects.create(clinic=clinic, weekday=weekday, opens=time(0), closes=time(23, 59))
    if starts.hour == 23:  # keep the 20-minute visit before the 23:59 closing
        starts -= timedelta(hours=2)
    appointment = book(front_desk, sched, patient, physician, starts.replace(second=0, microsecond=0),
                       kind="follow_up")
    assert of_kind(appointment, patient_messages.CONFIRMATION).count() == 1
    assert not of_kind(appointment, patient_messages.REMINDER).exists()


def test_a_procedure_gets_preparation_and_the_questionnaire_link_the_clinics_number_of_days_before(
        sched, patient, physician, front_desk):
    clinic = sched["clinic"]
    ClinicScreeningPolicy.objects.create(clinic=clinic, overrides={"preparation_days_before": 5})
    day = next_monday(clinic, weeks=2)
    screening = screening_on(physician, patient, day)
    appointment = book(front_desk, sched, patient, physician, at(clinic, day, "10:00"))

    preparation = of_kind(appointment, patient_messages.PREPARATION).get()
    assert preparation.send_after == datetime.combine(day - timedelta(days=5), time(9), tzinfo=clinic.zone)
    assert preparation.link.purpose == questionnaire_link.QUESTIONNAIRE_PURPOSE
    assert preparation.link.target_id == str(screening.public_id)
    assert "/screening/q/" in preparation.body and "How to get ready:" in preparation.body
    instructions = screening_services.preparation_for(screening, "en")
    assert instructions and all(item.text in preparation.body for item in instructions)


def test_the_default_is_three_days_and_a_late_booking_sends_the_preparation_now_by_real_smtp(
        sched, patient, physician, front_desk, smtp_server, client):
    clinic = sched["clinic"]
    day = next_monday(clinic, weeks=2)
    screening_on(physician, patient, day)
    appointment = book(front_desk, sched, patient, physician, at(clinic, day, "10:00"))
    preparation = of_kind(appointment, patient_messages.PREPARATION).get()
    assert preparation.send_after == datetime.combine(day - timedelta(days=3), time(9), tzinfo=clinic.zone)

    soon = timezone.now().astimezone(clinic.zone).date() + timedelta(days=1)
    while soon.weekday() > 4:
        soon += timedelta(days=1)
    screening_on(physician, patient, soon)
    late = book(front_desk, sched, patient, physician, at(clinic, soon, "11:00"))
    assert of_kind(late, patient_messages.PREPARATION).get().send_after <= timezone.now()
    deliver_due()
    sent = [text_and_calendar(m)[0] for m in smtp_server.messages]
    prepared = [body for body in sent if "/screening/q/" in body]
    assert len(prepared) == 1
    response = client.get(f"/screening/q/{token_in(prepared[0], '/screening/q/')}/")
    assert response.status_code == 200


def test_an_assessment_gets_no_preparation(sched, patient, physician, front_desk):
    clinic = sched["clinic"]
    day = next_monday(clinic, weeks=2)
    screening_on(physician, patient, day)
    appointment = book(front_desk, sched, patient, physician, at(clinic, day, "10:00"), kind="assessment")
    assert of_kind(appointment, patient_messages.CONFIRMATION).exists()
    assert not of_kind(appointment, patient_messages.PREPARATION).exists()


def test_moving_cancels_the_waiting_messages_and_schedules_them_for_the_new_time(
        sched, patient, physician, front_desk):
    clinic = sched["clinic"]
    day = next_monday(clinic, weeks=2)
    new_day = day + timedelta(days=2)
    screening_on(physician, patient, day)
    screening_on(physician, patient, new_day)
    appointment = book(front_desk, sched, patient, physician, at(clinic, day, "10:00"))
    with acting_as(front_desk):
        services.move(front_desk, appointment, appointment.version, starts_at=at(clinic, new_day, "15:00"))

    for kind in (patient_messages.REMINDER, patient_messages.PREPARATION):
        assert of_kind(appointment, kind, Status.CANCELLED).count() == 1
        assert of_kind(appointment, kind, Status.PENDING).count() == 1
    assert of_kind(appointment, patient_messages.REMINDER, Status.PENDING).get().send_after == (
        appointment.starts_at - timedelta(hours=24))
    assert of_kind(appointment, patient_messages.PREPARATION, Status.PENDING).get().send_after == (
        datetime.combine(new_day - timedelta(days=3), time(9), tzinfo=clinic.zone))
    moved = of_kind(appointment, patient_messages.MOVED).get()
    assert "has moved" in moved.body
    ics = Calendar.from_ical(moved.attachments[0]["content"]).walk("VEVENT")[0]
    assert ics.decoded("dtstart") == appointment.starts_at and int(ics["sequence"]) == appointment.version
    assert of_kind(appointment, patient_messages.CONFIRMATION).get().link.expires_at == appointment.starts_at


def test_cancelling_withdraws_the_waiting_messages_and_the_link(sched, patient, physician, front_desk, client):
    clinic = sched["clinic"]
    day = next_monday(clinic, weeks=2)
    screening_on(physician, patient, day)
    appointment = book(front_desk, sched, patient, physician, at(clinic, day, "10:00"))
    _link, token = issue_link(patient, patient_messages.LINK_PURPOSE, appointment, timedelta(days=3))
    with acting_as(front_desk):
        services.cancel(front_desk, appointment, appointment.version, "Patient called")
    assert not Notification.objects.filter(related_id=str(appointment.public_id), status=Status.PENDING).exists()
    for kind in (patient_messages.REMINDER, patient_messages.PREPARATION):
        assert of_kind(appointment, kind, Status.CANCELLED).exists()
    assert not PatientLink.objects.filter(purpose=patient_messages.LINK_PURPOSE, revoked_at__isnull=True).exists()
    response = client.get(f"/schedule/a/{token}/")
    assert response.status_code == 404 and "withdrawn" in response.content.decode()


def test_the_link_page_confirms_once_and_audits_it(sched, patient, physician, front_desk, client):
    clinic = sched["clinic"]
    appointment = book(front_desk, sched, patient, physician, at(clinic, next_monday(clinic, weeks=2), "10:00"))
    _link, token = issue_link(patient, patient_messages.LINK_PURPOSE, appointment, timedelta(days=3))
    page = client.get(f"/schedule/a/{token}/")
    assert page.status_code == 200 and "Yes, I will come" in page.content.decode()
    assert AuditEvent.objects.filter(action="scheduling.appointment.link_opened", patient=patient).count() == 1
    for _ in range(2):  # a double click
        response = client.post(f"/schedule/a/{token}/", {"action": "confirm"})
        assert response.status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == "confirmed" and appointment.confirmed_at is not None
    event = AuditEvent.objects.get(action="scheduling.appointment.confirmed_by_patient")
    assert event.patient_id == patient.pk and event.actor_id is None
    assert "Your visit is confirmed" in response.content.decode()


def test_asking_for_another_time_is_recorded_for_the_front_desk(sched, patient, physician, clinic_a, client):
    desk = make_staff("desk.mail", "front_desk", clinic_a)
    desk.email = "desk@example.org"
    desk.save(update_fields=["email"])
    patient.preferred_language = "es"
    patient.save(update_fields=["preferred_language"])
    appointment = book(desk, sched, patient, physician, at(clinic_a, next_monday(clinic_a, weeks=2), "10:00"))
    _link, token = issue_link(patient, patient_messages.LINK_PURPOSE, appointment, timedelta(days=3))
    response = client.post(f"/schedule/a/{token}/", {"action": "reschedule", "message": "Martes por la tarde"})
    assert response.status_code == 200 and "Recibimos su pedido" in response.content.decode()
    client.post(f"/schedule/a/{token}/", {"action": "reschedule", "message": "again"})
    appointment.refresh_from_db()
    assert appointment.status == "booked" and appointment.note.startswith("Patient asked for another time")
    event = AuditEvent.objects.get(action="scheduling.appointment.reschedule_requested")
    assert event.patient_id == patient.pk and event.details["message"] == "Martes por la tarde"
    staff = Notification.objects.get(kind="scheduling.reschedule_request")
    assert staff.to == "desk@example.org" and "Martes por la tarde" in staff.body and patient.family_name not in staff.body
    from triggerpoint.conftest import verified_client

    day_view = verified_client(client, desk).get(f"/schedule/?date={appointment.starts_at.astimezone(clinic_a.zone).date()}")
    assert "Patient asked for another time" in day_view.content.decode()  # the front desk sees it on the day


def test_an_expired_or_foreign_token_shows_the_link_invalid_page(sched, patient, physician, front_desk, client):
    clinic = sched["clinic"]
    appointment = book(front_desk, sched, patient, physician, at(clinic, next_monday(clinic, weeks=2), "10:00"))
    link, token = issue_link(patient, patient_messages.LINK_PURPOSE, appointment, timedelta(days=3))
    PatientLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.post(f"/schedule/a/{token}/", {"action": "confirm"})
    assert response.status_code == 404 and "expired" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    _other, questionnaire_token = issue_link(patient, questionnaire_link.QUESTIONNAIRE_PURPOSE, appointment,
                                             timedelta(days=3))
    assert client.get(f"/schedule/a/{questionnaire_token}/").status_code == 404
    assert client.get("/schedule/a/nonsense/").status_code == 404


def test_by_sms_the_confirmation_is_short_and_carries_no_attachment(sched, patient, physician, front_desk):
    from triggerpoint.notifications.models import ContactPreference

    patient.phone = "+15555550101"
    patient.save(update_fields=["phone"])
    ContactPreference.objects.create(patient=patient, preferred_channel="sms")
    clinic = sched["clinic"]
    appointment = book(front_desk, sched, patient, physician, at(clinic, next_monday(clinic, weeks=2), "10:00"))
    note = of_kind(appointment, patient_messages.CONFIRMATION).get()
    assert note.channel == "sms" and note.to == "+15555550101" and note.attachments == []
    assert "/schedule/a/" in note.body and len(note.body) < 300


def test_opting_out_of_reminders_cancels_the_appointment_reminder_but_not_the_confirmation(
        sched, patient, physician, front_desk):
    from triggerpoint.notifications.services import set_reminder_opt_out

    clinic = sched["clinic"]
    appointment = book(front_desk, sched, patient, physician, at(clinic, next_monday(clinic, weeks=2), "10:00"))
    with acting_as(front_desk):
        set_reminder_opt_out(patient, True)
    assert of_kind(appointment, patient_messages.REMINDER, Status.CANCELLED).count() == 1
    assert of_kind(appointment, patient_messages.CONFIRMATION, Status.PENDING).count() == 1


def test_a_screening_planned_after_the_booking_schedules_the_preparation_then(sched, patient, physician, front_desk):
    clinic = sched["clinic"]
    day = next_monday(clinic, weeks=2)
    appointment = book(front_desk, sched, patient, physician, at(clinic, day, "10:00"))
    other_day = book(front_desk, sched, patient, physician, at(clinic, day + timedelta(days=1), "10:00"))
    assert not of_kind(appointment, patient_messages.PREPARATION).exists()  # nothing to link to yet
    screening = screening_on(physician, patient, day)
    preparation = of_kind(appointment, patient_messages.PREPARATION).get()
    assert preparation.link.target_id == str(screening.public_id)
    assert preparation.send_after == datetime.combine(day - timedelta(days=3), time(9), tzinfo=clinic.zone)
    assert not of_kind(other_day, patient_messages.PREPARATION).exists()
    screening_on(physician, patient, day)  # a second screening for the same day: still one message
    assert of_kind(appointment, patient_messages.PREPARATION).count() == 1
