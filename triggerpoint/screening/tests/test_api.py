"""The screening API: the pure evaluate contract (4xx for every kind of bad input) and the record endpoints."""

from __future__ import annotations

import json

import pytest

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.contracts import parse
from triggerpoint.screening.models import Consent, ScreeningRecord
from triggerpoint.screening.rules import evaluate as evaluate_rules
from triggerpoint.screening.schemas import ScreeningRequestIn
from triggerpoint.screening.tests.builders import payload
from triggerpoint.screening.tests.conftest import LUMBAR_PLAN, complete_answers

EVALUATE = "/api/v1/screening/evaluate"


def _post(client, path, body, headers, method="post"):
    data = body if isinstance(body, str) else json.dumps(body)
    return getattr(client, method)(path, data=data, content_type="application/json", **headers)


# ------------------------------------------------------------------ POST /evaluate (pure)
def test_evaluate_returns_the_status_and_findings_with_rule_ids_and_stores_nothing(client, bearer, nurse):
    headers = bearer(nurse)
    _post(client, EVALUATE, payload(), headers)  # the token's first use is audited by authentication, not here
    audit_before = AuditEvent.objects.count()
    response = _post(client, EVALUATE, payload(today={"on_antibiotics": True}), headers)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "defer"
    finding = next(f for f in body["findings"] if f["rule"] == "SCR-ANTIBIOTICS-TODAY")
    assert finding["severity"] == "defer" and finding["version"] == 1 and finding["basis"]
    assert not ScreeningRecord.objects.exists()
    assert AuditEvent.objects.count() == audit_before


def test_evaluate_lists_every_missing_fact_as_422_never_a_silent_ready(client, bearer, physician):
    body = payload()
    del body["patient"]["weight_kg"]
    del body["today"]["feels_unwell"]
    del body["events"]
    response = _post(client, EVALUATE, body, bearer(physician))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "patient.weight_kg is required" in detail
    assert "today.feels_unwell is required (true or false)" in detail
    assert "events is required (use [] when there are none)" in detail


def test_evaluate_refuses_unknown_drugs_muscles_and_units_with_the_allowed_values(client, bearer, physician):
    body = payload(
        plan={"sites": [{"muscle": "trapezius_upper", "side": "left"}], "injectates": [{"drug": "procainamide"}],
              "guidance": "landmark"},
        today={"temperature": {"value": 310, "unit": "K"}},
    )
    response = _post(client, EVALUATE, body, bearer(physician))
    assert response.status_code == 422
    detail = " | ".join(response.json()["detail"])
    assert "plan.sites[0].muscle 'trapezius_upper' is not allowed; allowed:" in detail and "upper_trapezius" in detail
    assert "plan.injectates[0].drug 'procainamide' is not a known drug; allowed:" in detail and "lidocaine" in detail
    assert "today.temperature.unit 'K' is not allowed; allowed: C, F" in detail


def test_evaluate_refuses_malformed_json_and_a_non_object(client, bearer, physician):
    headers = bearer(physician)
    malformed = _post(client, EVALUATE, "{not json", headers)
    assert malformed.status_code == 400 and "parse" in malformed.json()["detail"]
    assert _post(client, EVALUATE, "[1, 2]", headers).status_code == 422


def test_evaluate_is_for_clinical_staff(client, bearer, front_desk, analyst):
    assert _post(client, EVALUATE, payload(), bearer(front_desk)).status_code == 403
    assert _post(client, EVALUATE, payload(), bearer(analyst)).status_code == 403
    assert _post(client, EVALUATE, payload(), {}).status_code == 401


# ------------------------------------------------------------------ records
def test_create_answer_review_and_read_a_screening(client, bearer, physician, patient, procedure_day):
    from triggerpoint.patients.models import Patient

    Patient.objects.filter(pk=patient.pk).update(allergy_status="nkda")  # asked (issue 14); unknown is never ready
    headers = bearer(physician)
    base = f"/api/v1/screening/patients/{patient.public_id}/screenings"
    created = _post(client, base, {"planned_procedure_date": procedure_day.isoformat(), "plan": LUMBAR_PLAN}, headers)
    assert created.status_code == 201, created.content
    screening = created.json()
    assert screening["status"] == "pending" and screening["allows_procedure"] is False
    one = f"{base}/{screening['id']}"
    answered = _post(client, f"{one}/answers", {"version": screening["version"], "answers": complete_answers()}, headers, "put")
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == "ready"
    stale = _post(client, f"{one}/review", {"version": screening["version"]}, headers)
    assert stale.status_code == 409
    reviewed = _post(client, f"{one}/review", {"version": answered.json()["version"], "note": "ok"}, headers)
    assert reviewed.status_code == 200 and reviewed.json()["reviewed_by"]
    read = client.get(one, **headers)
    assert read.status_code == 200 and read.json()["findings"] == answered.json()["findings"]
    assert AuditEvent.objects.filter(action="screening.screening.viewed", details__channel="api").exists()
    assert client.get(base, **headers).json()[0]["id"] == screening["id"]


def test_create_with_a_bad_plan_is_422(client, bearer, nurse, patient, procedure_day):
    base = f"/api/v1/screening/patients/{patient.public_id}/screenings"
    plan = dict(LUMBAR_PLAN, sites=[{"muscle": "quadratus_lumborum", "side": "both"}])
    response = _post(client, base, {"planned_procedure_date": procedure_day.isoformat(), "plan": plan}, bearer(nurse))
    assert response.status_code == 422
    assert "plan.sites[0].side 'both' is not allowed; allowed: left, right" in response.json()["detail"]


def test_answers_with_unknown_keys_are_422(client, bearer, nurse, screening):
    one = f"/api/v1/screening/patients/{screening.patient.public_id}/screenings/{screening.public_id}"
    response = _post(client, f"{one}/answers", {"version": screening.version, "answers": {"mood": "fine"}}, bearer(nurse), "put")
    assert response.status_code == 422
    assert "mood is not a questionnaire answer" in response.json()["detail"][0]


def test_override_needs_a_reason_a_physician_and_a_blocking_status(client, bearer, physician, nurse, answered):
    one = f"/api/v1/screening/patients/{answered.patient.public_id}/screenings/{answered.public_id}"
    not_blocking = _post(client, f"{one}/override", {"version": answered.version, "reason": "Proceed, reviewed in person."},
                         bearer(physician))
    assert not_blocking.status_code == 409
    deferred = _post(client, f"{one}/answers", {"version": answered.version, "answers": {"today": {"feels_unwell": True}}},
                     bearer(nurse), "put").json()
    assert deferred["status"] == "defer"
    by_nurse = _post(client, f"{one}/override", {"version": deferred["version"], "reason": "Proceed, reviewed."}, bearer(nurse))
    assert by_nurse.status_code == 403
    no_reason = _post(client, f"{one}/override", {"version": deferred["version"], "reason": "ok"}, bearer(physician))
    assert no_reason.status_code == 422
    done = _post(client, f"{one}/override", {"version": deferred["version"], "reason": "Chronic fatigue, stable, examined."},
                 bearer(physician))
    assert done.status_code == 200 and done.json()["allows_procedure"] is True


def test_another_clinic_sees_nothing(client, bearer, physician_b, screening):
    one = f"/api/v1/screening/patients/{screening.patient.public_id}/screenings/{screening.public_id}"
    assert client.get(one, **bearer(physician_b)).status_code == 404
    assert client.get(f"/api/v1/screening/patients/{screening.patient.public_id}/screenings", **bearer(physician_b)).status_code == 404


def test_a_screening_is_not_reachable_under_another_patient(client, bearer, physician, screening, other_patient):
    wrong = f"/api/v1/screening/patients/{other_patient.public_id}/screenings/{screening.public_id}"
    assert client.get(wrong, **bearer(physician)).status_code == 404


def test_send_link_without_an_email_is_422(client, bearer, front_desk, screening):
    patient = screening.patient
    patient.email = ""
    patient.save()
    one = f"/api/v1/screening/patients/{patient.public_id}/screenings/{screening.public_id}"
    response = _post(client, f"{one}/send-link", {"channel": "email"}, bearer(front_desk))
    assert response.status_code == 422
    assert _post(client, f"{one}/send-link", {"channel": "pigeon"}, bearer(front_desk)).status_code == 422


def test_consent_is_generated_signed_once_and_then_refused(client, bearer, nurse, answered):
    headers = bearer(nurse)
    base = f"/api/v1/screening/patients/{answered.patient.public_id}/screenings/{answered.public_id}/consents"
    consent = _post(client, base, {}, headers).json()
    assert consent["signed"] is False and "pneumothorax" not in consent["document"]["risk_ids"]
    incomplete = _post(client, f"{base}/{consent['id']}/sign",
                       {"version": consent["version"], "signer_name": "", "signature_kind": "drawn"}, headers)
    assert incomplete.status_code == 422
    detail = " | ".join(incomplete.json()["detail"])
    assert "signer_name" in detail and "signature_image" in detail and "acknowledged" in detail
    signed = _post(client, f"{base}/{consent['id']}/sign",
                   {"version": consent["version"], "signer_name": "Pat Portalowner", "signature_kind": "checkbox",
                    "acknowledged": True, "witness_name": "Nina Nurse"}, headers)
    assert signed.status_code == 200 and signed.json()["signed"] is True
    again = _post(client, f"{base}/{consent['id']}/sign",
                  {"version": signed.json()["version"], "signer_name": "Someone Else", "signature_kind": "checkbox",
                   "acknowledged": True}, headers)
    assert again.status_code == 409
    assert Consent.objects.get().signer_name == "Pat Portalowner"


def test_the_patient_reads_their_own_consent_through_the_api(client, answered, nurse, patient, other_patient):
    from triggerpoint.core.context import acting_as
    from triggerpoint.screening import consent_records

    with acting_as(nurse):
        consent = consent_records.generate_consent(nurse, answered)
    path = f"/api/v1/screening/patients/{patient.public_id}/screenings/{answered.public_id}/consents/{consent.public_id}"
    client.force_login(patient.portal_user)
    assert client.get(path).status_code == 200
    client.force_login(other_patient.portal_user)
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("kind", ["drawn"])
def test_a_drawn_signature_must_be_a_real_png(client, bearer, nurse, answered, kind):
    headers = bearer(nurse)
    base = f"/api/v1/screening/patients/{answered.patient.public_id}/screenings/{answered.public_id}/consents"
    consent = _post(client, base, {}, headers).json()
    bad = _post(client, f"{base}/{consent['id']}/sign",
                {"version": consent["version"], "signer_name": "Pat", "signature_kind": kind, "acknowledged": True,
                 "signature_image": "data:image/png;base64,aGVsbG8="}, headers)
    assert bad.status_code == 422 and "not a PNG" in " ".join(bad.json()["detail"])


def test_an_unasked_allergy_status_keeps_the_screening_from_ready(client, bearer, physician, patient, procedure_day):
    headers = bearer(physician)
    base = f"/api/v1/screening/patients/{patient.public_id}/screenings"
    created = _post(client, base, {"planned_procedure_date": procedure_day.isoformat(), "plan": LUMBAR_PLAN}, headers)
    one = f"{base}/{created.json()['id']}"
    answered = _post(client, f"{one}/answers", {"version": created.json()["version"], "answers": complete_answers()},
                     headers, "put")
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == "review"
    assert [f["rule_id"] for f in answered.json()["findings"]] == ["SCR-ALLERGY-STATUS"]


def test_evaluate_without_an_allergy_status_is_a_422_listing_it(client, bearer, physician):
    body = payload()
    del body["patient"]["allergy_status"]
    response = _post(client, EVALUATE, body, bearer(physician))
    assert response.status_code == 422
    assert "patient.allergy_status is required" in response.json()["detail"]


def _body_schema(schema: dict, path: str) -> dict:
    """The request body of `path` in the OpenAPI document, followed through its $ref."""
    body = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(body) == {"$ref"}, body
    return schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]


def test_the_openapi_schema_describes_the_evaluate_body_by_ref_with_its_fields(client):
    schema = client.get("/api/v1/openapi.json").json()
    body = _body_schema(schema, "/api/v1/screening/evaluate")
    assert list(body["properties"]) == ["procedure_date", "patient", "events", "today", "plan", "history"]
    assert set(body["required"]) == {"procedure_date", "patient", "events", "today", "plan"}
    components = schema["components"]["schemas"]
    patient = components[body["properties"]["patient"]["$ref"].rsplit("/", 1)[1]]
    assert {"age", "sex", "weight_kg", "allergy_status", "allergies", "medications", "conditions", "inr"} <= set(
        patient["properties"]
    )
    plan = components[body["properties"]["plan"]["$ref"].rsplit("/", 1)[1]]
    assert set(plan["properties"]) == {"sites", "injectates", "guidance", "technique", "trigger_points_documented"}
    assert plan["properties"]["guidance"]["enum"] == ["landmark", "ultrasound"]


def test_the_openapi_schema_describes_the_evaluate_response_by_ref_with_its_fields(client):
    schema = client.get("/api/v1/openapi.json").json()
    ok = schema["paths"]["/api/v1/screening/evaluate"]["post"]["responses"]["200"]["content"]["application/json"]
    assert set(ok["schema"]) == {"$ref"}, ok
    components = schema["components"]["schemas"]
    result = components[ok["schema"]["$ref"].rsplit("/", 1)[1]]
    assert list(result["properties"]) == ["status", "findings"]
    assert set(result["required"]) == {"status", "findings"}
    finding = components[result["properties"]["findings"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert list(finding["properties"]) == ["rule", "version", "severity", "message", "basis", "data"]
    assert set(finding["required"]) == {"rule", "version", "severity", "message", "basis"}


def test_evaluate_answers_the_result_as_the_rules_give_it(client, bearer, nurse):
    # The response schema shapes the JSON: each finding as the rules made it, a finding without data with "data": null.
    body = payload(today={"on_antibiotics": True})
    response = _post(client, EVALUATE, body, bearer(nurse))
    assert response.status_code == 200, response.content
    expected = evaluate_rules(parse(ScreeningRequestIn, body).to_input()).as_dict()
    expected["findings"] = [{"data": None, **finding} for finding in expected["findings"]]
    assert response.json() == expected
    assert any(finding["data"] is None for finding in response.json()["findings"])
