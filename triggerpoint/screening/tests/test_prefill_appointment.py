"""A new screening's planned procedure date starts from the patient's procedure appointment (issue 16).

The appointment is read through screening's `appointments` port (scheduling provides it); the date is the
clinic's local date. Time is frozen at 03:30 UTC on 2 December 2026, which is 22:30 on 1 December in
New York (the test clinic's zone): "today" at the clinic is 1 December while the UTC date is already the 2nd.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.scheduling.models import Appointment
from triggerpoint.scheduling.selectors import upcoming_procedure_appointment
from triggerpoint.scheduling.tests.conftest import set_up_clinic
from triggerpoint.screening import prefill, services
from triggerpoint.screening.tests.test_prefill import signed_plan_visit

NOW_UTC = "2026-12-02 03:30:00"  # 22:30 on 1 December in New York
NEW_YORK = ZoneInfo("America/New_York")
PLAN_FORM = {"site_0_muscle": "upper_trapezius", "site_0_side": "right", "injectates": ["lidocaine"],
             "guidance": "landmark", "technique": "injection"}


@pytest.fixture
def frozen():
    with freeze_time(NOW_UTC):
        yield


@pytest.fixture
def types(clinic_a):
    return set_up_clinic(clinic_a)[0]


def appointment(patient, clinician, types, local: str, kind: str = "procedure", status: str = "booked") -> Appointment:
    """An appointment at `local` ("YYYY-MM-DD HH:MM" in New York), written directly: the booking rules
    (opening hours, not in the past) are scheduling's to test, not this file's."""
    starts = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=NEW_YORK)
    return Appointment.objects.create(clinic=patient.clinic, patient=patient, appointment_type=types[kind],
                                      clinician=clinician, starts_at=starts, ends_at=starts + timedelta(minutes=30),
                                      status=status)


def new_form(client, patient, query: str = "") -> str:
    return client.get(f"/screening/patient/{patient.public_id}/new/{query}").content.decode()


def date_input(html: str) -> str:
    return re.search(r'<input type="date" name="planned_procedure_date"[^>]*>', html).group(0)


# ------------------------------------------------------------------ the form's default and its mark
def test_a_booked_procedure_appointment_sets_the_planned_date_and_says_so(frozen, login_as, physician, patient, types):
    booked = appointment(patient, physician, types, "2026-12-03 10:00")
    html = new_form(login_as(physician), patient)
    assert 'value="2026-12-03"' in date_input(html)
    assert html.count("Prefilled from the appointment 2026-12-03 10:00") == 1
    event = AuditEvent.objects.get(action="screening.plan.prefilled")
    assert event.patient_id == patient.pk
    assert event.details == {"parts": ["planned_procedure_date"], "appointment": str(booked.public_id)}


@pytest.mark.parametrize("status", ["booked", "confirmed", "arrived", "in_room"])
def test_every_status_still_ahead_counts(frozen, physician, patient, types, status):
    appointment(patient, physician, types, "2026-12-01 21:00", status=status)  # earlier this evening, today
    assert upcoming_procedure_appointment(patient)["date"] == date(2026, 12, 1)


@pytest.mark.parametrize("status", ["cancelled", "no_show", "done"])
def test_an_appointment_no_longer_ahead_sets_nothing(frozen, login_as, physician, patient, types, status):
    appointment(patient, physician, types, "2026-12-03 10:00", status=status)
    html = new_form(login_as(physician), patient)
    assert "value=" not in date_input(html)
    assert "Prefilled from" not in html
    assert not AuditEvent.objects.filter(action="screening.plan.prefilled").exists()


def test_only_an_assessment_appointment_sets_nothing(frozen, login_as, physician, patient, types):
    appointment(patient, physician, types, "2026-12-03 10:00", kind="assessment")
    html = new_form(login_as(physician), patient)
    assert "value=" not in date_input(html) and "Prefilled from" not in html


def test_an_appointment_on_an_earlier_day_sets_nothing(frozen, login_as, physician, patient, types):
    appointment(patient, physician, types, "2026-11-30 10:00")  # never closed on the schedule
    html = new_form(login_as(physician), patient)
    assert "value=" not in date_input(html) and "Prefilled from" not in html


def test_the_next_of_several_is_the_default_and_an_assessment_before_it_is_passed_over(
        frozen, physician, patient, types):
    appointment(patient, physician, types, "2026-12-02 09:00", kind="assessment")
    appointment(patient, physician, types, "2026-12-10 09:00")
    nearer = appointment(patient, physician, types, "2026-12-08 14:15")
    found = upcoming_procedure_appointment(patient)
    assert found == {"id": str(nearer.public_id), "date": date(2026, 12, 8), "at": "2026-12-08 14:15"}


def test_another_patients_appointment_is_not_theirs(frozen, physician, patient, other_patient, types):
    appointment(other_patient, physician, types, "2026-12-03 10:00")
    assert upcoming_procedure_appointment(patient) is None


# ------------------------------------------------------------------ the clinic's day, near midnight
def test_the_date_is_the_clinics_local_date_late_in_the_evening(frozen, login_as, physician, patient, types):
    # 23:30 in New York on 1 December is 04:30 UTC on the 2nd: the procedure is on the 1st.
    appointment(patient, physician, types, "2026-12-01 23:30")
    html = new_form(login_as(physician), patient)
    assert 'value="2026-12-01"' in date_input(html)
    assert "Prefilled from the appointment 2026-12-01 23:30" in html


def test_the_clinics_day_starts_at_its_own_midnight(frozen, physician, patient, types):
    # Just before the clinic's midnight that began today (1 December, New York) is yesterday: not offered.
    appointment(patient, physician, types, "2026-11-30 23:59", status="arrived")
    assert upcoming_procedure_appointment(patient) is None
    # At that midnight it is today (the UTC date of 05:00 on 1 December), offered even though it started.
    at_midnight = appointment(patient, physician, types, "2026-12-01 00:00", status="arrived")
    assert upcoming_procedure_appointment(patient)["id"] == str(at_midnight.public_id)


def test_an_early_morning_appointment_is_on_the_clinics_date_not_the_utc_one(physician, patient, types):
    # 04:30 UTC on 2 December: still 1 December in New York, where it is 23:30 the evening before the 01:00 visit.
    with freeze_time("2026-12-02 04:30:00"):
        appointment(patient, physician, types, "2026-12-02 01:00")  # 06:00 UTC on the 2nd
        found = upcoming_procedure_appointment(patient)
    assert found["date"] == date(2026, 12, 2) and found["at"] == "2026-12-02 01:00"


# ------------------------------------------------------------------ editable; the user's edit wins
def test_left_as_prefilled_the_screening_records_the_appointment(frozen, login_as, physician, patient, types):
    booked = appointment(patient, physician, types, "2026-12-03 10:00")
    client = login_as(physician)
    response = client.post(f"/screening/patient/{patient.public_id}/new/",
                           {"planned_procedure_date": "2026-12-03", **PLAN_FORM})
    assert response.status_code == 302
    screening = patient.screenings.get()
    assert screening.planned_procedure_date == date(2026, 12, 3)
    assert screening.prefilled_from == {"planned_procedure_date": {
        "source": "appointment", "id": str(booked.public_id), "date": "2026-12-03", "at": "2026-12-03 10:00"}}
    detail = client.get(response["Location"]).content.decode()
    assert detail.count("Prefilled from the appointment 2026-12-03 10:00") == 1


def test_the_users_date_wins_and_is_not_marked(frozen, login_as, physician, patient, types):
    appointment(patient, physician, types, "2026-12-03 10:00")
    client = login_as(physician)
    response = client.post(f"/screening/patient/{patient.public_id}/new/",
                           {"planned_procedure_date": "2026-12-04", **PLAN_FORM})
    assert response.status_code == 302
    screening = patient.screenings.get()
    assert screening.planned_procedure_date == date(2026, 12, 4)
    assert "planned_procedure_date" not in screening.prefilled_from
    assert "Prefilled from the appointment" not in client.get(response["Location"]).content.decode()


def test_the_date_and_the_signed_plan_are_prefilled_together(frozen, login_as, physician, patient, types):
    visit = signed_plan_visit(physician, patient)
    booked = appointment(patient, physician, types, "2026-12-03 10:00")
    html = new_form(login_as(physician), patient)
    assert html.count("Prefilled from the assessment of 2026-11-20") == 4
    assert html.count("Prefilled from the appointment 2026-12-03 10:00") == 1
    event = AuditEvent.objects.get(action="screening.plan.prefilled")
    assert event.details == {"parts": ["guidance", "injectates", "planned_procedure_date", "sites", "technique"],
                             "assessment": str(visit.public_id), "appointment": str(booked.public_id)}


def test_the_service_keeps_the_date_source_only_for_the_date_it_prefilled(frozen, physician, patient, types):
    appointment(patient, physician, types, "2026-12-03 10:00")
    started = prefill.new_screening_prefill(patient)
    assert started.planned_date == date(2026, 12, 3) and not started  # no plan, a date
    plan = {"sites": [{"muscle": "upper_trapezius", "side": "right"}], "injectates": [{"drug": "lidocaine"}],
            "guidance": "landmark"}
    with acting_as(physician):
        kept = services.create_screening(physician, patient, date(2026, 12, 3), plan, prefill=started)
        changed = services.create_screening(physician, patient, date(2026, 12, 4), plan, prefill=started)
    assert set(kept.prefilled_from) == {"planned_procedure_date"}
    assert changed.prefilled_from == {}


# ------------------------------------------------------------------ from the schedule / worklist: that appointment
def test_a_named_appointment_is_the_one_used(frozen, login_as, physician, patient, types):
    appointment(patient, physician, types, "2026-12-03 10:00")
    later = appointment(patient, physician, types, "2026-12-17 15:45")
    client = login_as(physician)
    html = new_form(client, patient, f"?appointment={later.public_id}")
    assert 'value="2026-12-17"' in date_input(html)
    assert "Prefilled from the appointment 2026-12-17 15:45" in html
    client.post(f"/screening/patient/{patient.public_id}/new/?appointment={later.public_id}",
                {"planned_procedure_date": "2026-12-17", **PLAN_FORM})
    assert patient.screenings.get().prefilled_from["planned_procedure_date"]["id"] == str(later.public_id)


@pytest.mark.parametrize("named", ["not-a-uuid", "5d0c5c1e-0000-4000-8000-000000000016", "cancelled", "assessment", "other patient"])
def test_a_named_appointment_that_does_not_fit_sets_nothing(frozen, login_as, physician, patient, other_patient,
                                                              types, named):
    appointment(patient, physician, types, "2026-12-03 10:00")  # not the one named: never guessed instead
    if named == "cancelled":
        named = str(appointment(patient, physician, types, "2026-12-04 10:00", status="cancelled").public_id)
    elif named == "assessment":
        named = str(appointment(patient, physician, types, "2026-12-04 10:00", kind="assessment").public_id)
    elif named == "other patient":
        named = str(appointment(other_patient, physician, types, "2026-12-04 10:00").public_id)
    response = login_as(physician).get(f"/screening/patient/{patient.public_id}/new/?appointment={named}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "value=" not in date_input(html) and "Prefilled from" not in html
