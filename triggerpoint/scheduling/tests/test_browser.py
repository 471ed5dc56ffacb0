"""The front desk opens the day in Debian Chromium and books an appointment from it."""

from __future__ import annotations

import pytest

from triggerpoint.conftest import browser_login
from triggerpoint.scheduling import services
from triggerpoint.scheduling.models import Appointment
from triggerpoint.scheduling.tests.conftest import at, next_monday

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_front_desk_books_from_the_day_view(page, live_server, screenshot, sched, patient, other_patient,
                                                physician, nurse, front_desk):
    clinic = sched["clinic"]
    monday = next_monday(clinic)
    first = services.book(front_desk, patient=patient, appointment_type=sched["types"]["assessment"],
                          clinician=physician, room=sched["rooms"][0], starts_at=at(clinic, monday, "08:30"))
    services.advance_status(front_desk, first, first.version, "confirmed")
    services.book(front_desk, patient=other_patient, appointment_type=sched["types"]["remote_follow_up"],
                  clinician=nurse, room=None, starts_at=at(clinic, monday, "09:00"), note="Call mobile, not home")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    browser_login(page, live_server, front_desk)
    page.goto(f"{live_server.url}/schedule/?date={monday.isoformat()}")
    assert page.locator("#day-schedule tbody tr").count() == 2
    page.click("text=Book appointment")
    page.fill("#id_patient_mrn", other_patient.mrn)
    page.select_option("#id_appointment_type", label="Trigger point injection")
    page.select_option("#id_clinician", value=physician.username)
    page.select_option("#id_room", label="Ultrasound procedure room")
    page.fill("#id_date", monday.isoformat())
    page.fill("#id_time", "10:15")
    page.click("#book-form button[type=submit]")

    page.wait_for_selector(".messages")
    assert "Booked Otto Otherperson" in page.locator(".messages").inner_text()
    rows = page.locator("#day-schedule tbody tr")
    assert rows.count() == 3
    new_row = rows.nth(2)
    assert "10:15" in new_row.inner_text() and "Ultrasound procedure room" in new_row.inner_text()
    assert Appointment.objects.filter(patient=other_patient, appointment_type__kind="procedure").exists()
    screenshot(page, "schedule-day-front-desk")

    # Arrival is one click from the day view.
    new_row.locator("button", has_text="Arrived").click()
    page.wait_for_selector("#day-schedule .pill.st-arrived")
    arrived_at = Appointment.objects.get(patient=other_patient, appointment_type__kind="procedure").arrived_at
    shown = page.locator("#day-schedule tbody tr").nth(2).inner_text()
    assert f"at {arrived_at.astimezone(clinic.zone):%H:%M}" in shown  # the arrival time on the clinic's clock
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    screenshot(page, "schedule-day-phone")
    assert errors == []  # no CSP violations or script errors


def test_the_demo_clinics_week_and_today_look_alive(page, live_server, screenshot):
    from triggerpoint.shell.demo_clinic import DEMO_PASSWORD, build_demo

    ctx = build_demo(patients=24, seed=7, only_apps=("scheduling",))
    clinic = ctx.clinics[0]
    today = ctx.today
    browser_login(page, live_server, ctx.staff["desk.lopez"], password=DEMO_PASSWORD)
    page.goto(f"{live_server.url}/schedule/week/?date={today.isoformat()}")
    days = page.locator("#week-schedule .week-day")
    assert days.count() == 7
    assert page.locator("#week-schedule .is-today").count() == 1
    assert page.locator("#week-schedule li.status-done").count() + page.locator(
        "#week-schedule li.status-booked").count() > 20
    screenshot(page, "schedule-week-demo")
    page.goto(f"{live_server.url}/schedule/?date={today.isoformat()}&clinician=dr.rivera")
    rows = page.locator("#day-schedule tbody tr")
    if today.weekday() < 6:  # the demo clinic is closed on Sundays
        assert page.locator("#day-schedule .pill.st-in_room").count() == 1
        assert rows.count() >= 3
    screenshot(page, "schedule-day-demo-rivera")
    assert clinic.name in page.locator(".clinic-name").inner_text()
