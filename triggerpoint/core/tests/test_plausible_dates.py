"""Dates outside a plausible clinical window are refused with a 4xx naming the field, never stored.

Year-9999 dates used to be a 500 at write (SQLite) or stored as UTC year 10000 (PostgreSQL),
after which every read of that patient's measurements failed for good.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from triggerpoint.core import plausible

TODAY = date(2026, 12, 5)


# ----------------------------------------------------------------------------- the table, both sides of each bound
@pytest.mark.parametrize(("kind", "inside", "outside"), [
    ("birth", [date(1900, 1, 1), date(2026, 12, 5)], [date(1899, 12, 31), date(2026, 12, 6)]),
    ("history", [date(1906, 12, 5), date(2026, 12, 5)], [date(1906, 12, 4), date(2026, 12, 6)]),
    ("recorded", [date(2021, 12, 5), date(2026, 12, 6)], [date(2021, 12, 4), date(2026, 12, 7)]),
    ("scheduled", [date(2021, 12, 5), date(2028, 12, 5)], [date(2021, 12, 4), date(2028, 12, 6)]),
    ("report", [date(1900, 1, 1), date(2028, 12, 5)], [date(1899, 12, 31), date(2028, 12, 6)]),
    ("product", [date(2016, 12, 5), date(2036, 12, 5)], [date(2016, 12, 4), date(2036, 12, 6)]),
])
def test_each_window_accepts_its_bounds_and_refuses_a_day_beyond(kind, inside, outside):
    for day in inside:
        assert plausible.problem(kind, day, today=TODAY) is None, (kind, day)
    for day in outside:
        assert plausible.problem(kind, day, today=TODAY), (kind, day)


def test_a_datetime_is_judged_by_its_own_calendar_day_so_year_9999_never_reaches_utc():
    late = datetime.fromisoformat("9999-12-31T23:00:00-05:00")
    assert plausible.problem("recorded", late, today=TODAY) == "must be between 2021-12-05 and 2026-12-06"


# ----------------------------------------------------------------------------- API
def _post(client, url, body, headers, method="post"):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json", **headers)


def _text(response) -> str:
    return json.dumps(response.json())


@pytest.mark.django_db
def test_a_measurement_dated_year_9999_is_refused_and_the_patient_stays_readable(client, bearer, nurse, patient,
                                                                                 login_as):
    from triggerpoint.outcomes.models import Measurement

    url = f"/api/v1/outcomes/patients/{patient.public_id}/measurements"
    response = _post(client, url, {"instrument": "nrs_pain", "answers": {"now": 5}, "time_point": "baseline",
                                   "measured_at": "9999-12-31T23:00:00-05:00"}, bearer(nurse))
    assert response.status_code == 422 and "measured_at" in _text(response)
    assert not Measurement.objects.filter(patient=patient).exists()
    assert client.get(url, **bearer(nurse)).status_code == 200
    assert login_as(nurse).get(f"/outcomes/patients/{patient.public_id}/").status_code == 200


@pytest.mark.django_db
def test_triage_with_a_report_in_year_9999_is_a_422_naming_reported_at(client, bearer, nurse):
    response = _post(client, "/api/v1/followup/triage", {
        "procedure_date": "2026-11-16", "reported_at": "9999-12-31T23:00:00-05:00", "symptoms": []}, bearer(nurse))
    assert response.status_code == 422 and "reported_at" in _text(response)


@pytest.mark.django_db
def test_analytics_filters_in_year_9999_are_refused_on_the_api_the_csv_and_the_page(client, bearer, analyst,
                                                                                     login_as):
    api = client.get("/api/v1/outcomes/analytics/report?date_from=9999-12-31", **bearer(analyst))
    assert api.status_code == 422 and "date_from" in _text(api)
    page_client = login_as(analyst)
    csv = page_client.get("/outcomes/analytics/export.csv?date_to=9999-12-31")
    assert csv.status_code == 400 and b"date_to" in csv.content
    page = page_client.get("/outcomes/analytics/?date_from=9999-12-31&by=guidance", follow=True)
    assert page.status_code == 200
    assert b"date_from must be between" in page.content


@pytest.mark.django_db
def test_an_on_call_shift_starting_in_year_9999_is_refused(client, bearer, clinic_admin, nurse):
    response = _post(client, "/api/v1/followup/oncall", {"rota": [
        {"username": nurse.username, "starts_at": "9999-12-31T23:00:00-05:00"}]}, bearer(clinic_admin), "put")
    assert response.status_code == 422 and "starts_at" in _text(response)


@pytest.mark.django_db
@pytest.mark.parametrize("born", ["0001-01-01", "9999-12-31", "1899-12-31"])
def test_an_implausible_date_of_birth_is_refused_on_create_and_update(client, bearer, front_desk, patient, born):
    headers = bearer(front_desk)
    created = _post(client, "/api/v1/patients/", {"mrn": "Z-1", "given_name": "A", "family_name": "B",
                                                  "date_of_birth": born}, headers)
    assert created.status_code == 422 and "date_of_birth" in _text(created)
    changed = _post(client, f"/api/v1/patients/{patient.public_id}", {"version": patient.version,
                                                                     "date_of_birth": born}, headers, "patch")
    assert changed.status_code == 422 and "date_of_birth" in _text(changed)
    patient.refresh_from_db()
    assert patient.date_of_birth == date(1980, 5, 17)


@pytest.mark.django_db
def test_the_patient_form_shows_an_implausible_birth_date_as_a_field_error(login_as, front_desk, patient):
    client = login_as(front_desk)
    response = client.post(f"/patients/{patient.public_id}/edit/", {
        "version": patient.version, "mrn": patient.mrn, "given_name": "Pat", "family_name": "Portalowner",
        "date_of_birth": "9999-12-31", "sex": "female", "preferred_language": "en"})
    assert response.status_code == 200
    assert "date_of_birth" in response.context["form"].errors


@pytest.mark.django_db
def test_a_visit_dated_year_9999_is_refused(client, bearer, physician, patient):
    url = f"/api/v1/assessments/patients/{patient.public_id}/visits"
    response = _post(client, url, {"visit_date": "9999-12-31"}, bearer(physician))
    assert response.status_code == 422 and "visit_date" in _text(response)
    response = _post(client, url, {"visit_date": "2026-12-01"}, bearer(physician))
    assert response.status_code == 201


@pytest.mark.django_db
def test_a_screening_planned_for_year_9999_is_refused(client, bearer, physician, patient):
    response = _post(client, f"/api/v1/screening/patients/{patient.public_id}/screenings",
                     {"planned_procedure_date": "9999-12-31", "plan": {}}, bearer(physician))
    assert response.status_code == 422 and "planned_procedure_date" in _text(response)
