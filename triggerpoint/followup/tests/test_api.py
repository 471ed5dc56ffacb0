"""The follow-up API: the triage contract, the public symptom list, alerts and check-ins with policy and audit."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time

from triggerpoint.audit.models import AuditEvent
from triggerpoint.followup.answers import ANSWER_FIELDS, normalise_answers
from triggerpoint.followup.checkins import report_problem, schedule_checkins
from triggerpoint.followup.models import Alert, AnsweredVia, CallNote, CheckIn
from triggerpoint.followup.tests.factories import rota, signed_procedure
from triggerpoint.followup.triage_request import REQUEST_FIELDS

pytestmark = pytest.mark.django_db

TRIAGE = "/api/v1/followup/triage"
CHECK_IN = {
    "procedure_date": "2026-11-16", "reported_at": "2026-11-16T19:30:00-05:00",
    "sites": [{"muscle": "upper_trapezius", "side": "left"}], "symptoms": ["trouble_breathing"],
    "temperature": {"value": 99.1, "unit": "F"}, "pain_now": 4, "free_text": "feel short of breath",
}


def post(client, url, body, headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def test_triage_answers_the_contract(client, bearer, nurse):
    response = post(client, TRIAGE, CHECK_IN, bearer(nurse))
    assert response.status_code == 200
    body = response.json()
    assert body["disposition"] == "emergency"
    assert {"rule", "message"} <= set(body["reasons"][0])
    assert "TRI-EMERG-PNEUMOTHORAX" in [r["rule"] for r in body["reasons"]]
    assert "911" in body["instructions"]
    assert not AuditEvent.objects.filter(action__startswith="followup.").exists()  # pure: nothing stored


@pytest.mark.parametrize(("value", "unit"), [(300, "F"), (20, "C"), (93.1, "F")])
def test_triage_refuses_implausible_temperatures_with_422(client, bearer, nurse, value, unit):
    response = post(client, TRIAGE, dict(CHECK_IN, temperature={"value": value, "unit": unit}), bearer(nurse))
    assert response.status_code == 422
    assert any("not a plausible body temperature" in p for p in response.json()["detail"])


def test_triage_lists_every_problem_at_once(client, bearer, nurse):
    bad = {"procedure_date": "yesterday", "reported_at": "2026-11-16T19:30:00", "symptoms": ["hiccups"],
           "pain_now": 12, "colour": "blue"}
    detail = post(client, TRIAGE, bad, bearer(nurse)).json()["detail"]
    joined = " | ".join(detail)
    for fragment in ("procedure_date", "no UTC offset", "hiccups", "pain_now", "colour"):
        assert fragment in joined


def test_triage_answers_400_to_malformed_json(client, bearer, nurse):
    response = client.post(TRIAGE, data="{not json", content_type="application/json", **bearer(nurse))
    assert response.status_code == 400 and response.json()["detail"]


def test_triage_is_for_clinical_staff(client, bearer, front_desk, patient):
    assert post(client, TRIAGE, CHECK_IN, bearer(front_desk)).status_code == 403
    assert post(client, TRIAGE, CHECK_IN, {}).status_code == 401
    client.force_login(patient.portal_user)
    assert post(client, TRIAGE, CHECK_IN, {}).status_code == 403


def test_the_symptom_list_is_public_and_versioned(client):
    response = client.get("/api/v1/followup/symptoms")
    assert response.status_code == 200
    body = response.json()
    ids = [s["id"] for s in body["symptoms"]]
    assert body["version"] >= 1 and "trouble_breathing" in ids and "fever" in ids
    assert body["symptoms"][0]["label"]["en"] and body["symptoms"][0]["label"]["es"]


@pytest.fixture
def alert(patient, physician, nurse, clinic_a):
    rota(clinic_a, nurse)
    procedure = signed_procedure(patient, physician, on=date(2026, 11, 16),
                                 performed_at=datetime(2026, 11, 16, 19, 0, tzinfo=UTC))
    with freeze_time(datetime(2026, 11, 16, 19, 30, tzinfo=UTC)):
        schedule_checkins(procedure)
    with freeze_time(datetime(2026, 11, 17, 15, 0, tzinfo=UTC)):
        report_problem(procedure, {"symptoms": ["site_redness"]}, via=AnsweredVia.PORTAL)
    return Alert.objects.get()


def alert_url(alert, suffix=""):
    return f"/api/v1/followup/patients/{alert.patient.public_id}/alerts/{alert.public_id}{suffix}"


def test_alerts_are_listed_read_acknowledged_and_resolved(client, bearer, nurse, physician, alert):
    listed = client.get("/api/v1/followup/alerts", **bearer(nurse)).json()
    assert [a["id"] for a in listed] == [str(alert.public_id)] and listed[0]["disposition"] == "urgent"
    read = client.get(alert_url(alert), **bearer(nurse)).json()
    assert read["checkin"]["answers"]["symptoms"] == ["site_redness"] and read["page_log"][0]["user"] == nurse.username
    acked = post(client, alert_url(alert, "/acknowledge"), {}, bearer(nurse))
    assert acked.status_code == 200 and acked.json()["acknowledged_by"] == nurse.username
    assert post(client, alert_url(alert, "/acknowledge"), {}, bearer(physician)).status_code == 409
    assert post(client, alert_url(alert, "/resolve"), {"note": ""}, bearer(physician)).status_code == 422
    resolved = post(client, alert_url(alert, "/resolve"), {"note": "Seen today: cellulitis, antibiotics."},
                    bearer(physician))
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert post(client, alert_url(alert, "/resolve"), {"note": "again"}, bearer(physician)).status_code == 409
    actions = list(AuditEvent.objects.filter(object_id=str(alert.public_id)).values_list("action", flat=True))
    for expected in ("followup.alert.viewed", "followup.alert.acknowledged", "followup.alert.resolved"):
        assert expected in actions


def test_alert_endpoints_refuse_other_clinics_and_roles(client, bearer, physician_b, front_desk, analyst, alert,
                                                        other_patient):
    assert client.get(alert_url(alert), **bearer(physician_b)).status_code == 404
    assert post(client, alert_url(alert, "/acknowledge"), {}, bearer(physician_b)).status_code == 404
    assert client.get("/api/v1/followup/alerts", **bearer(physician_b)).json() == []
    assert client.get(alert_url(alert), **bearer(front_desk)).status_code == 403
    assert post(client, alert_url(alert, "/acknowledge"), {}, bearer(analyst)).status_code == 403
    wrong_patient = f"/api/v1/followup/patients/{other_patient.public_id}/alerts/{alert.public_id}"
    assert client.get(wrong_patient, **bearer(physician_b)).status_code == 404
    alert.refresh_from_db()
    assert alert.status == "open"


def test_unknown_status_filters_are_422(client, bearer, nurse):
    assert client.get("/api/v1/followup/alerts?status=lost", **bearer(nurse)).status_code == 422
    assert client.get("/api/v1/followup/checkins?status=lost", **bearer(nurse)).status_code == 422


def test_staff_enter_check_in_answers_taken_by_phone(client, bearer, nurse, alert):
    checkin = CheckIn.objects.filter(kind="scheduled", day=1).get()
    url = f"/api/v1/followup/patients/{checkin.patient.public_id}/checkins/{checkin.public_id}/answers"
    with freeze_time(datetime(2026, 11, 17, 16, 0, tzinfo=UTC)):
        response = post(client, url, {"symptoms": ["hives"], "pain_now": 2, "relief_percent": 30}, bearer(nurse))
        assert response.status_code == 200
        body = response.json()
        assert body["triage"]["disposition"] == "urgent" and body["alert"] is not None
        assert body["checkin"]["answered_via"] == "staff"
        assert post(client, url, {}, bearer(nurse)).status_code == 409


def test_bad_answers_are_422(client, bearer, nurse, alert):
    checkin = CheckIn.objects.filter(kind="scheduled", day=3).get()
    url = f"/api/v1/followup/patients/{checkin.patient.public_id}/checkins/{checkin.public_id}/answers"
    response = post(client, url, {"temperature": {"value": 20, "unit": "C"}, "pain_now": 11}, bearer(nurse))
    assert response.status_code == 422
    assert len(response.json()["detail"]) == 2


def test_due_check_ins_are_listed(client, bearer, nurse, alert):
    with freeze_time(datetime(2026, 11, 17, 15, 30, tzinfo=UTC)):
        due = client.get("/api/v1/followup/checkins", **bearer(nurse)).json()
    assert sorted(c["day"] for c in due) == [0, 1]
    assert [c["overdue"] for c in sorted(due, key=lambda c: c["day"])] == [True, False]


def test_a_call_note_is_recorded_and_acknowledges_the_alert(client, bearer, nurse, alert):
    url = f"/api/v1/followup/patients/{alert.patient.public_id}/call-notes"
    response = post(client, url, {"outcome": "reached", "note": "Coming in at 2 pm.", "alert": str(alert.public_id)},
                    bearer(nurse))
    assert response.status_code == 201
    assert CallNote.objects.get().note == "Coming in at 2 pm."
    alert.refresh_from_db()
    assert alert.status == "acknowledged"
    assert post(client, url, {"outcome": "shrug"}, bearer(nurse)).status_code == 422


def test_the_on_call_rota_is_read_and_replaced(client, bearer, clinic_admin, nurse, physician):
    response = client.put("/api/v1/followup/oncall", data=json.dumps({
        "acknowledge_within_minutes": 10, "checkin_slots": [{"day": 0, "time": "19:00"}],
        "rota": [{"username": physician.username, "phone": "(555) 1"}, {"username": nurse.username}]}),
        content_type="application/json", **bearer(clinic_admin))
    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["username"] for r in body["rota"]] == [physician.username, nurse.username]
    assert body["acknowledge_within_minutes"] == 10 and body["checkin_slots"] == [{"day": 0, "time": "19:00"}]
    assert client.get("/api/v1/followup/oncall", **bearer(nurse)).json()["on_call_now"] == [
        physician.username, nurse.username]


def test_the_on_call_rota_rejects_bad_entries_and_roles(client, bearer, clinic_admin, nurse, front_desk):
    response = client.put("/api/v1/followup/oncall", data=json.dumps({
        "acknowledge_within_minutes": 0, "rota": [{"username": "ghost"}, {"username": front_desk.username}]}),
        content_type="application/json", **bearer(clinic_admin))
    assert response.status_code == 422
    assert client.put("/api/v1/followup/oncall", data="{}", content_type="application/json",
                      **bearer(nurse)).status_code == 403


def test_check_in_reads_are_audited(client, bearer, nurse, alert):
    checkin = alert.checkin
    url = f"/api/v1/followup/patients/{checkin.patient.public_id}/checkins"
    assert len(client.get(url, **bearer(nurse)).json()) == 5
    assert client.get(f"{url}/{checkin.public_id}", **bearer(nurse)).status_code == 200
    actions = set(AuditEvent.objects.filter(actor=nurse).values_list("action", flat=True))
    assert {"followup.checkins.viewed", "followup.checkin.viewed"} <= actions


def test_records_are_not_found_for_malformed_ids(client, bearer, nurse, alert):
    bad = f"/api/v1/followup/patients/{alert.patient.public_id}/alerts/not-a-uuid"
    assert client.get(bad, **bearer(nurse)).status_code in {404, 422}


def _component(schema, reference):
    """The component a ``{"$ref": "#/components/schemas/<name>"}`` (or an ``allOf`` of one) names."""
    reference = reference["allOf"][0] if "allOf" in reference else reference
    assert set(reference) <= {"$ref", "example"}, reference
    return schema["components"]["schemas"][reference["$ref"].rsplit("/", 1)[1]]


def test_the_openapi_document_describes_the_triage_contract_and_a_public_symptom_list(client):
    schema = client.get("/api/v1/openapi.json").json()
    triage_op = schema["paths"]["/api/v1/followup/triage"]["post"]
    body = _component(schema, triage_op["requestBody"]["content"]["application/json"]["schema"])
    assert body["required"] == ["procedure_date", "reported_at", "symptoms"]
    assert schema["paths"]["/api/v1/followup/symptoms"]["get"].get("security") in (None, [])


def test_the_openapi_document_describes_the_triage_request_and_response_bodies_field_by_field(client):
    """Both bodies are published as components (by $ref) with their fields, not as a bare object."""
    schema = client.get("/api/v1/openapi.json").json()
    triage_op = schema["paths"]["/api/v1/followup/triage"]["post"]
    request = triage_op["requestBody"]["content"]["application/json"]
    body = _component(schema, request["schema"])
    assert set(body["properties"]) == set(REQUEST_FIELDS)
    assert body["additionalProperties"] is False
    site = _component(schema, body["properties"]["sites"]["items"])
    assert site["required"] == ["side", "muscle"] and site["properties"]["side"]["enum"] == ["left", "right"]
    temperature = _component(schema, body["properties"]["temperature"])
    assert temperature["properties"]["unit"]["enum"] == ["F", "C"] and temperature["required"] == ["value", "unit"]
    pain = body["properties"]["pain_now"]
    assert (pain["type"], pain["minimum"], pain["maximum"]) == ("integer", 0, 10)
    assert set(request["schema"]["example"]) <= set(REQUEST_FIELDS)

    answer = _component(schema, triage_op["responses"]["200"]["content"]["application/json"]["schema"])
    assert {"disposition", "reasons", "instructions", "day_after_procedure", "temperature"} <= set(answer["properties"])
    reason = _component(schema, answer["properties"]["reasons"]["items"])
    assert {"rule", "version", "severity", "message"} <= set(reason["required"])


def test_the_published_triage_example_is_accepted(client, bearer, nurse):
    schema = client.get("/api/v1/openapi.json").json()
    example = schema["paths"]["/api/v1/followup/triage"]["post"]["requestBody"]["content"]["application/json"][
        "schema"]["example"]
    response = post(client, TRIAGE, example, bearer(nurse))
    assert response.status_code == 200, response.content


def test_a_refused_caller_is_refused_before_the_body_is_read(client, bearer, front_desk):
    assert post(client, TRIAGE, {"colour": "blue"}, bearer(front_desk)).status_code == 403
    refused = client.post(TRIAGE, data="{not json", content_type="application/json", **bearer(front_desk))
    assert refused.status_code == 403


def test_triage_refuses_a_body_too_large_with_413_and_a_non_object_with_the_contract_sentence(client, bearer, nurse):
    huge = client.post(TRIAGE, data=json.dumps(dict(CHECK_IN, free_text="x" * 40_000)),
                       content_type="application/json", **bearer(nurse))
    assert (huge.status_code, huge.json()) == (413, {"detail": "The request body is larger than 32768 bytes."})
    for raw in ("[]", "5", "null", ""):
        answer = client.post(TRIAGE, data=raw, content_type="application/json", **bearer(nurse))
        assert (answer.status_code, answer.json()) == (422, {"detail": ["the check-in must be a JSON object"]}), raw
    malformed = client.post(TRIAGE, data="{not json", content_type="application/json", **bearer(nurse))
    assert malformed.json() == {"detail": "The request body is not valid JSON."}


@pytest.mark.parametrize("number", ["Infinity", "NaN"])
def test_a_pain_score_that_is_not_a_finite_number_is_a_422_sentence_not_a_crash(client, bearer, nurse, number):
    raw = json.dumps(dict(CHECK_IN, pain_now=0)).replace('"pain_now": 0', f'"pain_now": {number}')
    response = client.post(TRIAGE, data=raw, content_type="application/json", **bearer(nurse))
    assert response.status_code == 422
    assert response.json()["detail"] == [f"pain_now: must be a whole number from 0 to 10, got {float(number)!r}"]


def test_the_openapi_document_describes_the_checkin_answers_body(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/followup/patients/{patient_id}/checkins/{checkin_id}/answers"]["post"]
    body = operation["requestBody"]["content"]["application/json"]
    assert list(body["schema"]["properties"]) == list(ANSWER_FIELDS)
    assert body["schema"]["properties"]["temperature"]["properties"]["unit"]["enum"] == ["F", "C"]
    assert normalise_answers(body["example"])["temperature"] == body["example"]["temperature"]  # the example is valid
    answer = _component(schema, operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert {"checkin", "triage", "alert"} <= set(answer["properties"])
