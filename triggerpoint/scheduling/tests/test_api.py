"""The schedule on the API: role × route, every refusal in the house shape, another clinic's ids are 404."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from triggerpoint.audit.models import AuditEvent
from triggerpoint.scheduling.models import Appointment
from triggerpoint.scheduling.tests.conftest import at, next_monday

API = "/api/v1/scheduling"


def post(client, path, body, headers, method="post"):
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json", **headers)


def book_body(sched, physician, when, kind="procedure", room=0):
    body = {"appointment_type_id": str(sched["types"][kind].public_id), "clinician": physician.username,
            "starts_at": when.isoformat()}
    if room is not None:
        body["room_id"] = str(sched["rooms"][room].public_id)
    return body


@pytest.fixture
def desk(front_desk, bearer):
    return bearer(front_desk)


def test_book_read_list_and_the_audit_trail(client, sched, patient, physician, front_desk, desk):
    clinic = sched["clinic"]
    monday = next_monday(clinic)
    response = post(client, f"{API}/patients/{patient.public_id}/appointments",
                    book_body(sched, physician, at(clinic, monday, "09:00")), desk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "booked" and body["patient"]["mrn"] == patient.mrn
    assert body["local_start"].startswith(f"{monday.isoformat()}T09:00:00-0")  # on the clinic's clock
    assert body["room"]["name"] == "Room 1" and body["clinician"]["username"] == physician.username
    listed = client.get(f"{API}/appointments?date={monday.isoformat()}", **desk).json()
    assert [a["id"] for a in listed] == [body["id"]]
    assert client.get(f"{API}/appointments?date={monday.isoformat()}&clinician=nobody", **desk).status_code == 422
    assert client.get(f"{API}/appointments?room_id={patient.public_id}", **desk).status_code == 422
    read = client.get(f"{API}/patients/{patient.public_id}/appointments/{body['id']}", **desk)
    assert read.status_code == 200 and read.json()["id"] == body["id"]
    actions = list(AuditEvent.objects.filter(patient=patient).values_list("action", flat=True))
    assert actions.count("scheduling.appointment.booked") == 1
    assert actions.count("scheduling.schedule.viewed") == 1 and actions.count("scheduling.appointment.viewed") == 1


def test_double_booking_is_409_naming_the_conflict(client, sched, patient, other_patient, physician, desk):
    clinic = sched["clinic"]
    when = at(clinic, next_monday(clinic), "10:00")
    first = post(client, f"{API}/patients/{patient.public_id}/appointments", book_body(sched, physician, when),
                 desk).json()
    response = post(client, f"{API}/patients/{other_patient.public_id}/appointments",
                    book_body(sched, physician, when + timedelta(minutes=10), room=1), desk)
    assert response.status_code == 409
    body = response.json()
    assert body["detail"][0].startswith("The clinician already has an appointment on ")
    assert "10:00–10:30" in body["detail"][0] and "Room 1" in body["detail"][0]
    assert body["findings"][0]["rule"] == "SCH-OVERLAP" and body["findings"][0]["conflicting"] == first["id"]
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(("hhmm", "days", "words"), [("07:30", 0, "Outside opening hours"),
                                                     ("10:00", 6, "closed on Sundays")])
def test_outside_hours_is_422_saying_why(client, sched, patient, physician, desk, hhmm, days, words):
    clinic = sched["clinic"]
    when = at(clinic, next_monday(clinic) + timedelta(days=days), hhmm)
    response = post(client, f"{API}/patients/{patient.public_id}/appointments", book_body(sched, physician, when), desk)
    assert response.status_code == 422
    assert words in response.json()["detail"][0] and response.json()["findings"][0]["rule"] == "SCH-HOURS"


def test_in_the_past_and_naive_times_are_422(client, sched, patient, physician, desk):
    from django.utils import timezone

    body = book_body(sched, physician, timezone.now() - timedelta(days=1))
    response = post(client, f"{API}/patients/{patient.public_id}/appointments", body, desk)
    assert response.status_code == 422 and any("past" in d for d in response.json()["detail"])
    body["starts_at"] = at(sched["clinic"], next_monday(sched["clinic"]), "10:00").replace(tzinfo=None).isoformat()
    naive = post(client, f"{API}/patients/{patient.public_id}/appointments", body, desk)
    assert naive.status_code == 422 and "time zone" in json.dumps(naive.json()["detail"])


def test_move_cancel_no_show_and_steps(client, sched, patient, physician, desk):
    clinic = sched["clinic"]
    monday = next_monday(clinic)
    url = f"{API}/patients/{patient.public_id}/appointments"
    a = post(client, url, book_body(sched, physician, at(clinic, monday, "09:00")), desk).json()
    moved = post(client, f"{url}/{a['id']}", {"version": a["version"], "starts_at": at(clinic, monday, "14:00").isoformat(),
                                              "room_id": None}, desk, method="patch")
    assert moved.status_code == 200 and moved.json()["room"] is None
    assert moved.json()["local_start"].startswith(f"{monday.isoformat()}T14:00")
    stale = post(client, f"{url}/{a['id']}", {"version": a["version"], "starts_at": at(clinic, monday, "15:00").isoformat()},
                 desk, method="patch")
    assert stale.status_code == 409 and isinstance(stale.json()["detail"], str)
    version = moved.json()["version"]
    early = post(client, f"{url}/{a['id']}/no-show", {"version": version}, desk)
    assert early.status_code == 409 and "not started" in early.json()["detail"][0]
    skip = post(client, f"{url}/{a['id']}/status", {"version": version, "status": "done"}, desk)
    assert skip.status_code == 409 and skip.json()["findings"][0]["rule"] == "SCH-LIFECYCLE"
    confirmed = post(client, f"{url}/{a['id']}/status", {"version": version, "status": "confirmed"}, desk)
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_at"]
    no_reason = post(client, f"{url}/{a['id']}/cancel", {"version": confirmed.json()["version"], "reason": ""}, desk)
    assert no_reason.status_code == 422 and "detail" in no_reason.json()
    cancelled = post(client, f"{url}/{a['id']}/cancel", {"version": confirmed.json()["version"], "reason": "Unwell"}, desk)
    assert cancelled.status_code == 200 and cancelled.json()["cancel_reason"] == "Unwell"


def test_another_clinics_ids_are_404_and_patients_are_refused(client, sched, patient, patient_in_b, physician, desk,
                                                              physician_b, bearer):
    clinic = sched["clinic"]
    url = f"{API}/patients/{patient.public_id}/appointments"
    a = post(client, url, book_body(sched, physician, at(clinic, next_monday(clinic), "09:00")), desk).json()
    other = bearer(physician_b)
    assert client.get(f"{url}/{a['id']}", **other).status_code == 404
    assert post(client, f"{url}/{a['id']}/cancel", {"version": 1, "reason": "x"}, other).status_code == 404
    assert client.get(f"{API}/appointments", **other).json() == []  # their own clinic's (empty) day
    # an appointment under the wrong patient in the path is 404 too
    assert client.get(f"{API}/patients/{patient_in_b.public_id}/appointments/{a['id']}", **desk).status_code == 404
    # another clinic's type or room cannot be booked
    from triggerpoint.scheduling.tests.conftest import set_up_clinic

    types_b, rooms_b = set_up_clinic(physician_b.clinic)
    body = book_body(sched, physician, at(clinic, next_monday(clinic), "11:00"))
    body["room_id"] = str(rooms_b[0].public_id)
    refused = post(client, url, body, desk)
    assert refused.status_code == 404 and refused.json()["detail"]
    client.force_login(patient.portal_user)
    assert client.get(f"{url}/{a['id']}").status_code in {401, 403}


@pytest.mark.parametrize("role", ["physician", "nurse", "front_desk", "clinic_admin", "analyst"])
def test_roles_on_the_day_list(client, role, request, bearer, sched):
    user = request.getfixturevalue(role)
    response = client.get(f"{API}/appointments", **bearer(user))
    assert response.status_code == (403 if role == "analyst" else 200)
    assert "detail" in response.json() if role == "analyst" else isinstance(response.json(), list)


def test_days_out_of_range_is_422(client, desk, sched):
    for days in (0, 8, 488):
        response = client.get(f"{API}/appointments?days={days}", **desk)
        assert response.status_code == 422 and "between 1 and 7" in response.json()["detail"]
    assert client.get(f"{API}/appointments?days=7", **desk).status_code == 200


def test_openapi_documents_every_refusal(client):
    schema = client.get("/api/v1/openapi.json").json()
    book = schema["paths"]["/api/v1/scheduling/patients/{patient_id}/appointments"]["post"]
    for status in ("401", "403", "404", "409", "422"):
        assert book["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ApiError"}
    assert "/api/v1/scheduling/appointments" in schema["paths"]
