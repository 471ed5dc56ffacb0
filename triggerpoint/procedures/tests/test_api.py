"""The procedures API: the two calculators (§8 contracts) and the note endpoints, with their 4xx answers."""

from __future__ import annotations

import json

import pytest

from triggerpoint.audit.models import AuditEvent
from triggerpoint.procedures.models import Procedure

pytestmark = pytest.mark.django_db


def post(client, path, body, headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


# ---------------------------------------------------------------- POST /dose-check


def test_dose_check_returns_the_contract_shape(client, physician, bearer):
    response = post(
        client,
        "/api/v1/procedures/dose-check",
        {
            "weight_kg": 70,
            "injectates": [
                {"drug": "lidocaine", "concentration_percent": 1, "volume_ml": 10},
                {"drug": "bupivacaine", "concentration_percent": 0.25, "volume_ml": 10},
            ],
        },
        bearer(physician),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    lido, bupi = body["items"]
    assert (lido["drug"], lido["total_mg"], lido["max_mg"]) == ("lidocaine", 100.0, 300.0)
    assert (bupi["drug"], bupi["total_mg"], bupi["max_mg"]) == ("bupivacaine", 25.0, 140.0)
    assert lido["fraction_of_max"] == pytest.approx(0.333, abs=0.001)
    assert body["combined_local_anesthetic_fraction"] == pytest.approx(100 / 300 + 25 / 140, abs=0.001)
    assert all("basis" in finding for finding in body["findings"])


def test_dose_check_over_the_maximum_is_not_ok(client, nurse, bearer):
    response = post(
        client,
        "/api/v1/procedures/dose-check",
        {"weight_kg": 50, "injectates": [{"drug": "Xylocaine", "concentration_mg_per_ml": 10, "volume_ml": 23}]},
        bearer(nurse),
    )
    body = response.json()
    assert response.status_code == 200
    assert body["ok"] is False and body["items"][0]["total_mg"] == 230.0 and body["items"][0]["max_mg"] == 225.0


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"weight_kg": 0, "injectates": [{"drug": "lidocaine", "concentration_percent": 1, "volume_ml": 5}]},
         "weight_kg must be greater than 0"),
        ({"weight_kg": -70, "injectates": [{"drug": "lidocaine", "concentration_percent": 1, "volume_ml": 5}]},
         "weight_kg must be greater than 0"),
        ({"weight_kg": 70, "injectates": [{"drug": "lidocaine", "concentration_percent": 1, "volume_ml": 0}]},
         "volume_ml must be greater than 0"),
        ({"weight_kg": 70, "injectates": [{"drug": "cocaine", "concentration_percent": 1, "volume_ml": 5}]},
         "unknown drug 'cocaine'"),
        ({"weight_kg": 70, "injectates": [{"drug": "lidocaine", "volume_ml": 5}]},
         "needs concentration_percent or concentration_mg_per_ml"),
        ({"weight_kg": 70, "injectates": []}, "injectates must be a non-empty list"),
    ],
)
def test_dose_check_refuses_bad_input_with_422(payload, expected, client, physician, bearer):
    response = post(client, "/api/v1/procedures/dose-check", payload, bearer(physician))
    assert response.status_code == 422
    assert any(expected in problem for problem in response.json()["detail"])


def test_dose_check_lists_every_problem_at_once(client, physician, bearer):
    payload = {"weight_kg": -1, "injectates": [{"drug": "x", "volume_ml": -2}, {"drug": "lidocaine", "volume_ml": 1}]}
    response = post(client, "/api/v1/procedures/dose-check", payload, bearer(physician))
    assert response.status_code == 422
    assert len(response.json()["detail"]) >= 4


def test_dose_check_refuses_malformed_json(client, physician, bearer):
    response = client.post("/api/v1/procedures/dose-check", data="{not json", content_type="application/json",
                           **bearer(physician))
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("role", ["front_desk", "analyst", "clinic_admin"])
def test_dose_check_is_for_clinical_staff(role, client, bearer, front_desk, analyst, clinic_admin):
    user = {"front_desk": front_desk, "analyst": analyst, "clinic_admin": clinic_admin}[role]
    payload = {"weight_kg": 70, "injectates": [{"drug": "lidocaine", "concentration_percent": 1, "volume_ml": 5}]}
    assert post(client, "/api/v1/procedures/dose-check", payload, bearer(user)).status_code == 403


def test_dose_check_needs_authentication(client):
    response = client.post("/api/v1/procedures/dose-check", data="{}", content_type="application/json")
    assert response.status_code == 401


# ---------------------------------------------------------------- POST /codes


def test_codes_returns_20553_for_three_muscles_counting_sides(client, front_desk, bearer):
    payload = {
        "sites": [
            {"muscle": "upper_trapezius", "side": "left", "technique": "injection", "insertions": 4},
            {"muscle": "upper_trapezius", "side": "right", "technique": "injection"},
            {"muscle": "levator_scapulae", "side": "left", "technique": "injection"},
        ],
        "guidance": "ultrasound",
        "injectates": [{"drug": "triamcinolone", "dose_mg": 40}],
    }
    response = post(client, "/api/v1/procedures/codes", payload, bearer(front_desk))
    assert response.status_code == 200
    body = response.json()
    assert [(line["code"], line["units"]) for line in body["cpt"]] == [("20553", 1), ("76942", 1)]
    assert body["cpt"][0]["modifiers"] == []
    assert [(line["code"], line["units"]) for line in body["hcpcs"]] == [("J3301", 4)]
    assert any("L34211" in w["message"] for w in body["warnings"])


def test_codes_two_insertions_in_one_muscle_count_once(client, physician, bearer):
    payload = {
        "sites": [
            {"muscle": "upper_trapezius", "side": "left", "technique": "injection"},
            {"muscle": "upper_trapezius", "side": "left", "technique": "injection", "insertions": 5},
        ],
        "guidance": "landmark",
    }
    body = post(client, "/api/v1/procedures/codes", payload, bearer(physician)).json()
    assert [line["code"] for line in body["cpt"]] == ["20552"]


def test_codes_refuses_bad_input_listing_every_problem(client, physician, bearer):
    payload = {
        "sites": [{"muscle": "nope", "side": "up", "technique": "laser"}],
        "guidance": "x-ray",
        "injectates": [{"drug": "onabotulinumtoxinA"}],
        "payer": "acme",
    }
    response = post(client, "/api/v1/procedures/codes", payload, bearer(physician))
    assert response.status_code == 422
    detail = " | ".join(response.json()["detail"])
    for expected in ("unknown muscle 'nope'", "side must be one of", "technique must be one of",
                     "guidance must be one of", "needs dose_units", "unknown payer 'acme'"):
        assert expected in detail


def test_codes_is_refused_to_analysts(client, analyst, bearer):
    payload = {"sites": [{"muscle": "upper_trapezius", "side": "left", "technique": "injection"}], "guidance": "landmark"}
    assert post(client, "/api/v1/procedures/codes", payload, bearer(analyst)).status_code == 403


# ---------------------------------------------------------------- notes


def _notes_url(patient, procedure=None, suffix=""):
    base = f"/api/v1/procedures/patients/{patient.public_id}/notes"
    return base + (f"/{procedure.public_id}" if procedure else "") + suffix


def test_a_note_is_created_saved_signed_and_amended_through_the_api(
    on_procedure_day, client, physician, patient, bearer, note_payload
):
    headers = bearer(physician)
    created = post(client, _notes_url(patient), {"procedure_date": "2026-11-20"}, headers)
    assert created.status_code == 201
    note = created.json()
    procedure = Procedure.objects.get(public_id=note["id"])
    assert note["status"] == "draft" and note["version"] == 1

    saved = client.put(_notes_url(patient, procedure), data=json.dumps(dict(note_payload, version=1)),
                       content_type="application/json", **headers)
    assert saved.status_code == 200, saved.json()
    body = saved.json()
    assert body["version"] == 2
    assert body["dose_check"]["items"][0]["total_mg"] == 60.0
    assert [line["code"] for line in body["codes"]["cpt"]] == ["20553"]

    signed = post(client, _notes_url(patient, procedure, "/sign"), {"version": 2}, headers)
    assert signed.status_code == 200, signed.json()
    assert signed.json()["status"] == "signed"

    amended = post(client, _notes_url(patient, procedure, "/amendments"),
                   {"reason": "Typo", "text": "Post NRS was 2, not 3."}, headers)
    assert amended.status_code == 201
    assert amended.json()["amendments"][0]["text"] == "Post NRS was 2, not 3."
    assert amended.json()["note"]["post_nrs"] == 3  # the original stays as signed

    listed = client.get(_notes_url(patient), **headers).json()
    assert [(n["status"], n["sites"]) for n in listed] == [("signed", 3)]


def test_a_stale_autosave_gets_409_and_changes_nothing(saved_draft, client, nurse, patient, bearer, note_payload):
    response = client.put(_notes_url(patient, saved_draft), data=json.dumps(dict(note_payload, version=1, notes="x")),
                          content_type="application/json", **bearer(nurse))
    assert response.status_code == 409
    assert "changed by someone else" in response.json()["detail"]
    assert Procedure.objects.get(pk=saved_draft.pk).notes == ""


def test_an_autosave_without_a_version_is_422(saved_draft, client, physician, patient, bearer, note_payload):
    response = client.put(_notes_url(patient, saved_draft), data=json.dumps(note_payload),
                          content_type="application/json", **bearer(physician))
    assert response.status_code == 422


def test_a_signed_note_cannot_be_saved_or_discarded_through_the_api(signed, client, physician, patient, bearer, note_payload):
    headers = bearer(physician)
    response = client.put(_notes_url(patient, signed), data=json.dumps(dict(note_payload, version=signed.version)),
                          content_type="application/json", **headers)
    assert response.status_code == 409
    response = client.delete(_notes_url(patient, signed) + f"?version={signed.version}", **headers)
    assert response.status_code == 409


def test_signing_an_incomplete_note_lists_what_is_missing(draft, client, physician, patient, bearer):
    response = post(client, _notes_url(patient, draft, "/sign"), {"version": 1}, bearer(physician))
    assert response.status_code == 422
    assert "add at least one treated site" in response.json()["detail"]


def test_a_nurse_cannot_sign_or_amend(saved_draft, client, nurse, patient, bearer):
    headers = bearer(nurse)
    assert post(client, _notes_url(patient, saved_draft, "/sign"), {"version": 2}, headers).status_code == 403


def test_another_clinic_gets_404_for_every_note_endpoint(saved_draft, client, physician_b, patient, bearer):
    headers = bearer(physician_b)
    assert client.get(_notes_url(patient), **headers).status_code == 404
    assert client.get(_notes_url(patient, saved_draft), **headers).status_code == 404
    assert post(client, _notes_url(patient, saved_draft, "/sign"), {"version": 2}, headers).status_code == 404


def test_a_note_is_not_found_under_another_patient(saved_draft, client, physician, other_patient, bearer):
    response = client.get(_notes_url(other_patient, saved_draft), **bearer(physician))
    assert response.status_code == 404


def test_reading_a_note_through_the_api_is_audited(saved_draft, client, physician, patient, bearer):
    client.get(_notes_url(patient, saved_draft), **bearer(physician))
    event = AuditEvent.objects.filter(action="procedures.procedure.viewed").get()
    assert event.actor == physician and event.details == {"channel": "api"} and event.patient == patient


def test_the_openapi_schema_documents_the_calculators(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/procedures/dose-check" in schema["paths"]
    assert "/api/v1/procedures/codes" in schema["paths"]


# ---------------------------------------------------------------- typed contracts in the OpenAPI document


def test_the_openapi_document_describes_the_calculator_and_note_bodies(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths, components = schema["paths"], schema["components"]["schemas"]

    def body_of(path, method="post"):
        ref = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return components[ref.rsplit("/", 1)[1]]

    dose = body_of("/api/v1/procedures/dose-check")
    assert set(dose["properties"]) == {"weight_kg", "weight_measured_on", "injectates"}
    assert dose["required"] == ["injectates"] and dose["additionalProperties"] is False
    injectate = components["DoseInjectateIn"]
    assert {"drug", "volume_ml", "concentration_percent", "with_epinephrine"} <= set(injectate["properties"])
    codes = body_of("/api/v1/procedures/codes")
    assert set(codes["required"]) == {"sites", "guidance"}
    assert components["CodesSiteIn"]["properties"]["side"]["enum"] == ["left", "right"]
    note = body_of("/api/v1/procedures/patients/{patient_id}/notes/{procedure_id}", "put")
    assert {"version", "procedure_date", "mix", "sites", "timeout_performed"} <= set(note["properties"])
    assert "version" in note["required"]


@pytest.mark.parametrize(("days", "ok"), [(0, True), (1, True), (2, False), (-round(365.25 * 5), True),
                                          (-round(365.25 * 5) - 1, False)])
def test_a_weight_date_outside_the_recorded_window_is_422_naming_the_field(days, ok, client, physician, bearer):
    from datetime import timedelta

    from django.utils import timezone

    day = (timezone.localdate() + timedelta(days=days)).isoformat()
    payload = {"weight_kg": 70, "weight_measured_on": day,
               "injectates": [{"drug": "lidocaine", "concentration_percent": 1, "volume_ml": 5}]}
    response = post(client, "/api/v1/procedures/dose-check", payload, bearer(physician))
    if ok:
        assert response.status_code in (200, 422) and not any(
            "weight_measured_on must be between" in p for p in response.json().get("detail", []) if isinstance(p, str))
    else:
        assert response.status_code == 422
        assert any(p.startswith("weight_measured_on must be between") for p in response.json()["detail"])


@pytest.mark.parametrize(("days", "ok"), [(731, True), (732, False), (-round(365.25 * 5), True),
                                          (-round(365.25 * 5) - 1, False)])
def test_a_service_date_outside_the_scheduled_window_is_422_naming_the_field(days, ok, client, physician, bearer):
    from datetime import timedelta

    from django.utils import timezone

    day = (timezone.localdate() + timedelta(days=days)).isoformat()
    payload = {"sites": [{"muscle": "upper_trapezius", "side": "left", "technique": "injection"}],
               "guidance": "landmark", "service_date": day}
    response = post(client, "/api/v1/procedures/codes", payload, bearer(physician))
    assert response.status_code == (200 if ok else 422)
    if not ok:
        assert response.json()["detail"] == [response.json()["detail"][0]]
        assert response.json()["detail"][0].startswith("service_date must be between")


@pytest.mark.parametrize(("days", "ok"), [(731, True), (732, False)])
def test_a_note_procedure_date_outside_the_scheduled_window_is_422(days, ok, saved_draft, client, physician, patient,
                                                                    bearer, note_payload):
    from datetime import timedelta

    from django.utils import timezone

    day = (timezone.localdate() + timedelta(days=days)).isoformat()
    body = dict(note_payload, version=saved_draft.version, procedure_date=day)
    response = client.put(_notes_url(patient, saved_draft), data=json.dumps(body), content_type="application/json",
                          **bearer(physician))
    if ok:
        assert response.status_code == 200
    else:
        assert response.status_code == 422
        assert any(p.startswith("procedure_date must be between") for p in response.json()["detail"])


# ---------------------------------------------------------------- permission before the body; bodies that are not objects

DOSE_CHECK, CODES = "/api/v1/procedures/dose-check", "/api/v1/procedures/codes"
BROKEN = {"weight_kg": "heavy", "injectates": "many", "sites": 3, "guidance": "by feel", "version": "x"}


def _send(client, method, path, data, headers):
    return getattr(client, method)(path, data=data, content_type="application/json", **headers)


def test_a_body_that_is_not_an_object_gets_the_answer_screening_gives(saved_draft, client, physician, patient, bearer):
    headers = bearer(physician)
    house = _send(client, "post", "/api/v1/screening/evaluate", "[1, 2]", headers)
    assert house.status_code == 422 and "detail" in house.json()
    for method, path in (("post", DOSE_CHECK), ("post", CODES), ("put", _notes_url(patient, saved_draft))):
        response = _send(client, method, path, "[1, 2]", headers)
        assert (response.status_code, response.json()) == (422, house.json()), path


def test_the_same_broken_body_is_422_for_a_role_that_may_and_403_for_one_that_may_not(
    saved_draft, client, physician, front_desk, analyst, patient, bearer
):
    body = json.dumps(BROKEN)
    note = _notes_url(patient, saved_draft)
    allowed = {DOSE_CHECK: physician, CODES: physician, note: physician}
    refused = {DOSE_CHECK: front_desk, CODES: analyst, note: front_desk}
    for path, user in allowed.items():
        response = _send(client, "put" if path == note else "post", path, body, bearer(user))
        assert response.status_code == 422, path
    for path, user in refused.items():
        response = _send(client, "put" if path == note else "post", path, body, bearer(user))
        assert response.status_code == 403 and isinstance(response.json()["detail"], str), path
    saved_draft.refresh_from_db()
    assert saved_draft.version == 2  # nothing was written


def test_a_refused_note_save_is_audited_with_its_patient_before_the_body_is_read(
    saved_draft, client, front_desk, patient, bearer
):
    response = _send(client, "put", _notes_url(patient, saved_draft), json.dumps(BROKEN), bearer(front_desk))
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="audit.access.refused")
    assert (event.object_id, event.details["outcome"], event.details["status"]) == (
        str(patient.public_id), "forbidden", 403)
