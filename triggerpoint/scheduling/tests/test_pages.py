"""The schedule pages: each staff role sees the day and week, patients and analysts are refused, forms say why."""

from __future__ import annotations

from datetime import timedelta

import pytest

from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import verified_client
from triggerpoint.scheduling import services
from triggerpoint.scheduling.models import Appointment
from triggerpoint.scheduling.tests.conftest import at, next_monday


@pytest.fixture
def booked(sched, patient, physician, front_desk):
    clinic = sched["clinic"]
    monday = next_monday(clinic)
    return services.book(front_desk, patient=patient, appointment_type=sched["types"]["procedure"],
                         clinician=physician, room=sched["rooms"][1], starts_at=at(clinic, monday, "09:00"))


@pytest.mark.parametrize("role", ["physician", "nurse", "front_desk", "clinic_admin"])
def test_day_and_week_render_for_each_staff_role_with_what_the_desk_needs(client, role, request, booked, patient):
    user = request.getfixturevalue(role)
    verified_client(client, user)
    day = booked.starts_at.astimezone(booked.clinic.zone).date()
    page = client.get(f"/schedule/?date={day.isoformat()}")
    assert page.status_code == 200
    html = page.content.decode()
    for needed in ("09:00", "Portalowner, Pat", "1980-05-17", patient.mrn, "Trigger point injection",
                   "Ultrasound procedure room", "Booked", "Confirm", "Arrived", "Cancel appointment", "Move"):
        assert needed in html, needed
    assert "No-show" not in html  # not started yet
    week = client.get(f"/schedule/week/?date={day.isoformat()}")
    assert week.status_code == 200 and "Portalowner, Pat" in week.content.decode()
    assert AuditEvent.objects.filter(action="scheduling.schedule.viewed", patient=patient, actor=user).count() == 2


def test_filters_by_clinician_and_room(client, booked, nurse, front_desk, sched):
    verified_client(client, front_desk)
    day = booked.starts_at.astimezone(booked.clinic.zone).date().isoformat()
    assert "Portalowner" not in client.get(f"/schedule/?date={day}&clinician={nurse.username}").content.decode()
    assert "Portalowner" in client.get(f"/schedule/?date={day}&room={sched['rooms'][1].public_id}").content.decode()
    assert "Portalowner" not in client.get(f"/schedule/?date={day}&room={sched['rooms'][0].public_id}").content.decode()
    assert client.get(f"/schedule/?date={day}&room=not-a-uuid").status_code == 200  # a bad filter is no filter


def test_patients_and_analysts_are_refused(client, patient, analyst, booked):
    client.force_login(patient.portal_user)
    assert client.get("/schedule/").status_code == 403
    verified_client(client, analyst)
    assert client.get("/schedule/").status_code == 403
    assert client.get("/schedule/book/").status_code == 403
    client.logout()
    assert client.get("/schedule/").status_code == 302


def test_book_form_books_and_says_why_not(client, sched, patient, other_patient, physician, front_desk):
    clinic = sched["clinic"]
    monday = next_monday(clinic)
    verified_client(client, front_desk)
    form = {"patient_mrn": patient.mrn, "appointment_type": str(sched["types"]["assessment"].public_id),
            "clinician": physician.username, "room": str(sched["rooms"][0].public_id),
            "date": monday.isoformat(), "time": "09:00"}
    response = client.post("/schedule/book/", form)
    assert response.status_code == 302 and f"date={monday.isoformat()}" in response["Location"]
    a = Appointment.objects.get()
    assert a.ends_at - a.starts_at == timedelta(minutes=45) and a.starts_at == at(clinic, monday, "09:00")
    clash = client.post("/schedule/book/", {**form, "patient_mrn": other_patient.mrn, "time": "09:30"})
    assert clash.status_code == 409
    assert "already has an appointment" in clash.content.decode()
    closed = client.post("/schedule/book/", {**form, "time": "19:00"})
    assert closed.status_code == 422 and "Outside opening hours" in closed.content.decode()
    unknown = client.post("/schedule/book/", {**form, "patient_mrn": "NOPE-1", "time": "12:00"})
    assert unknown.status_code == 422 and "No patient of this clinic has that MRN" in unknown.content.decode()
    assert Appointment.objects.count() == 1


def test_day_buttons_walk_the_lifecycle(client, booked, front_desk):
    verified_client(client, front_desk)
    url = f"/schedule/patients/{booked.patient.public_id}/appointments/{booked.public_id}"
    for step in ("confirmed", "arrived", "in_room", "done"):
        version = Appointment.objects.get(pk=booked.pk).version
        assert client.post(f"{url}/status/", {"status": step, "version": version}).status_code == 302
    booked.refresh_from_db()
    assert booked.status == "done" and booked.done_at is not None
    refused = client.post(f"{url}/cancel/", {"reason": "late", "version": booked.version}, follow=True)
    assert "done cannot become cancelled" in refused.content.decode()


def test_stale_button_says_someone_changed_it(client, booked, front_desk):
    verified_client(client, front_desk)
    url = f"/schedule/patients/{booked.patient.public_id}/appointments/{booked.public_id}"
    response = client.post(f"{url}/status/", {"status": "confirmed", "version": 99}, follow=True)
    assert "Someone changed this appointment" in response.content.decode()
    assert Appointment.objects.get(pk=booked.pk).status == "booked"


def test_move_form(client, booked, front_desk, sched):
    verified_client(client, front_desk)
    url = f"/schedule/patients/{booked.patient.public_id}/appointments/{booked.public_id}/move/"
    page = client.get(url)
    assert page.status_code == 200 and "30 minutes, kept" in page.content.decode()
    day = booked.starts_at.astimezone(booked.clinic.zone).date()
    moved = client.post(url, {"date": day.isoformat(), "time": "15:00", "clinician": booked.clinician.username,
                              "room": str(sched["rooms"][0].public_id), "version": booked.version})
    assert moved.status_code == 302
    booked.refresh_from_db()
    assert booked.starts_at == at(booked.clinic, day, "15:00") and booked.room == sched["rooms"][0]


def test_the_day_view_costs_the_same_queries_for_3_or_30_appointments(client, sched, front_desk, physician, nurse):
    """No query per row: a 400-appointment day must not cost 400 round trips."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from triggerpoint.conftest import make_patient

    clinic = sched["clinic"]
    monday = next_monday(clinic)
    verified_client(client, front_desk)

    def book_many(count, start_index):
        for i in range(start_index, start_index + count):
            services.book(front_desk, patient=make_patient(clinic, f"Q-{i}"), appointment_type=sched["types"]["follow_up"],
                          clinician=physician if i % 2 else nurse, room=None,
                          starts_at=at(clinic, monday, f"{8 + (i // 2) // 3:02d}:{((i // 2) % 3) * 20:02d}"))

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/schedule/?date={monday.isoformat()}").status_code == 200
        return len(captured)

    book_many(3, 0)
    queries()  # the first page after new records refills caches (identity, generations); count warm pages
    few = queries()
    book_many(27, 3)
    queries()
    assert queries() == few


def test_the_day_view_query_count_does_not_grow_with_a_big_day_and_every_patient_is_audited(
        client, sched, front_desk, physician, nurse):
    """3 or 150 appointments (more than one of Django's SQLite INSERT batches): the same queries, one row and one
    audit event per patient, in time order."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from triggerpoint.conftest import make_patient

    clinic = sched["clinic"]
    monday = next_monday(clinic)
    verified_client(client, front_desk)
    made = []

    def add(count):
        rows = []
        for i in range(len(made), len(made) + count):
            start = at(clinic, monday, "08:00") + timedelta(minutes=4 * (i // 2))
            rows.append(Appointment(clinic=clinic, patient=make_patient(clinic, f"BIG-{i:03d}"), starts_at=start,
                                    ends_at=start + timedelta(minutes=20), clinician=physician if i % 2 else nurse,
                                    appointment_type=sched["types"]["follow_up"],
                                    status=["booked", "confirmed", "arrived", "in_room", "done", "cancelled"][i % 6]))
        made.extend(Appointment.objects.bulk_create(rows))

    def page():
        client.get(f"/schedule/?date={monday.isoformat()}")  # warm: caches refill after new records
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/schedule/?date={monday.isoformat()}")
        assert response.status_code == 200
        return response.content.decode(), len(captured)

    add(3)
    _, few = page()
    add(147)
    html, many = page()
    assert many == few, (few, many)
    positions = [html.index(f'id="appt-{a.public_id}"') for a in made]
    assert positions == sorted(positions)  # every appointment, in time order
    seen = AuditEvent.objects.filter(action="scheduling.schedule.viewed", actor=front_desk, details__view="day")
    assert seen.count() == 3 * 2 + 150 * 2  # two pages of 3, two of 150: one event per patient per page
    assert set(seen.values_list("patient_id", flat=True)) == {a.patient_id for a in made}


def test_clinic_admins_see_who_comes_without_links_to_charts_they_may_not_open(client, booked, clinic_admin,
                                                                                front_desk):
    day = booked.starts_at.astimezone(booked.clinic.zone).date().isoformat()
    chart = f'href="/patients/{booked.patient.public_id}/"'
    verified_client(client, clinic_admin)
    html = client.get(f"/schedule/?date={day}").content.decode()
    assert "Portalowner, Pat" in html and chart not in html
    verified_client(client, front_desk)
    assert chart in client.get(f"/schedule/?date={day}").content.decode()


def test_the_hand_written_day_table_escapes_what_a_patient_or_clerk_typed(client, booked, patient, front_desk):
    """The day view's rows are written in Python (`day_table.py`), not by the template engine: every value
    from the database must still come out as text, never as markup."""
    hostile = '<script>alert("x")</script>'
    type(patient).objects.filter(pk=patient.pk).update(family_name=hostile, given_name='"><img src=x onerror=1>')
    verified_client(client, front_desk)
    day = booked.starts_at.astimezone(booked.clinic.zone).date()
    html = client.get(f"/schedule/?date={day.isoformat()}").content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert hostile not in html and "<img src=x" not in html
