"""POST /api/v1/aftercare/plan: the §8 contract, computed without stored side effects."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from triggerpoint.aftercare.models import AftercarePlan
from triggerpoint.aftercare.plan import build_plan
from triggerpoint.aftercare.schemas import parse_plan_request
from triggerpoint.audit.models import AuditEvent
from triggerpoint.notifications.models import Notification

pytestmark = pytest.mark.django_db

URL = "/api/v1/aftercare/plan"
BODY = {
    "procedure_date": "2026-02-27",
    "sites": [{"muscle": "upper_trapezius", "side": "left"}, {"muscle": "upper_trapezius", "side": "right"}],
    "injectates": [{"drug": "Kenalog"}],
    "patient": {"conditions": ["diabetes"]},
}


def post(client, headers, body):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **headers)


def test_it_returns_the_contract_shape_with_the_default_windows(client, physician, bearer):
    response = post(client, bearer(physician), BODY)
    assert response.status_code == 200
    body = response.json()
    start = date(2026, 2, 27)
    assert body["activity_restriction_until"] == (start + timedelta(days=3)).isoformat() == "2026-03-02"
    assert body["warning_window_until"] == (start + timedelta(days=5)).isoformat() == "2026-03-04"
    assert [d["date"] for d in body["days"]][:3] == ["2026-02-27", "2026-02-28", "2026-03-01"]
    ids = {t["id"] for d in body["days"] for t in d["tasks"]}
    assert {"steroid_blood_glucose", "warning_chest", "stretch"} <= ids
    assert all({"id", "kind", "text"} <= set(t) for d in body["days"] for t in d["tasks"])


def test_it_stores_nothing(client, nurse, bearer):
    headers = bearer(nurse)
    post(client, headers, BODY)  # the token's first use is audited by authentication, not by this endpoint
    before = AuditEvent.objects.count()
    assert post(client, headers, BODY).status_code == 200
    assert not AftercarePlan.objects.exists() and not Notification.objects.exists()
    assert AuditEvent.objects.count() == before


def test_the_callers_clinic_is_whom_to_call_unless_the_body_names_one(client, physician, bearer, clinic_a):
    headers = bearer(physician)
    default = post(client, headers, BODY).json()
    warning = next(t for t in default["days"][0]["tasks"] if t["id"] == "warning_signs")
    assert clinic_a.name in warning["text"] and clinic_a.phone in warning["text"]
    named = post(client, headers, {**BODY, "clinic": {"name": "Elsewhere Clinic"}}).json()
    warning = next(t for t in named["days"][0]["tasks"] if t["id"] == "warning_signs")
    assert "Elsewhere Clinic" in warning["text"]


def test_bad_input_is_a_422_listing_every_problem(client, physician, bearer):
    bad = {
        "procedure_date": "2026-02-30",
        "sites": [{"muscle": "trapezoid", "side": "middle"}],
        "injectates": [{"drug": "unobtainium"}],
        "patient": {"conditions": ["diabetis"]},
    }
    response = post(client, bearer(physician), bad)
    assert response.status_code == 422
    detail = " ".join(response.json()["detail"])
    for fragment in ("not a real calendar date", "unknown muscle 'trapezoid'", "side", "unknown drug", "diabetis"):
        assert fragment in detail


@pytest.mark.parametrize(("body", "status"), [("{not json", 400), ("[1, 2]", 422), ("{}", 422)])
def test_malformed_bodies_are_refused(client, physician, bearer, body, status):
    response = post(client, bearer(physician), body)
    assert response.status_code == status and "detail" in response.json()


def test_it_needs_a_signed_in_clinician(client, front_desk, bearer):
    assert post(client, {}, BODY).status_code == 401
    assert post(client, bearer(front_desk), BODY).status_code == 403


def test_a_patient_cannot_call_it(client, patient):
    client.force_login(patient.portal_user)
    assert post(client, {}, BODY).status_code == 403


def test_the_openapi_schema_describes_the_plan_body_by_ref_with_its_fields(client):
    schema = client.get("/api/v1/openapi.json").json()
    body = schema["paths"]["/api/v1/aftercare/plan"]["post"]["requestBody"]["content"]["application/json"]
    assert set(body["schema"]) == {"$ref", "example"}, body["schema"]
    components = schema["components"]["schemas"]
    plan = components[body["schema"]["$ref"].rsplit("/", 1)[1]]
    assert list(plan["properties"]) == [
        "procedure_date", "sites", "injectates", "patient", "physical_therapy_planned", "clinic", "language",
    ]
    assert set(plan["required"]) == {"procedure_date", "sites", "injectates", "patient"}
    assert plan["additionalProperties"] is False
    site = components[plan["properties"]["sites"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert set(site["properties"]) == {"muscle", "side"}
    assert body["schema"]["example"]["sites"][0] == {"muscle": "upper_trapezius", "side": "left"}


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_response_is_the_plan_as_built_key_for_key(client, physician, bearer, language):
    # A named clinic, so the caller's clinic is not put in; a per-muscle task carries "muscle" and "sides",
    # the others do not (absent, never null).
    body = {**BODY, "clinic": {"name": "Elsewhere Clinic"}, "language": language}
    response = post(client, bearer(physician), body)
    assert response.status_code == 200, response.content
    expected = build_plan(parse_plan_request(body)).as_dict()
    assert json.dumps(response.json()) == json.dumps(expected)  # same keys, same order, same values
    tasks = [task for day in expected["days"] for task in day["tasks"]]
    assert any("muscle" in task for task in tasks) and any("muscle" not in task for task in tasks)


def test_the_openapi_schema_describes_the_plan_response_by_ref_with_its_fields(client):
    schema = client.get("/api/v1/openapi.json").json()
    ok = schema["paths"]["/api/v1/aftercare/plan"]["post"]["responses"]["200"]["content"]["application/json"]
    components = schema["components"]["schemas"]
    plan = components[ok["schema"]["$ref"].rsplit("/", 1)[1]]
    assert list(plan["properties"]) == [
        "days", "activity_restriction_until", "warning_window_until", "procedure_date", "template", "language",
        "articles",
    ]
    assert set(plan["required"]) == set(plan["properties"])
    assert plan["properties"]["procedure_date"]["format"] == "date"
    day = components[plan["properties"]["days"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert list(day["properties"]) == ["date", "day_number", "tasks"]
    task = components[day["properties"]["tasks"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert list(task["properties"]) == ["id", "kind", "text", "articles", "muscle", "sides", "rule", "basis"]
    assert set(task["required"]) == {"id", "kind", "text", "articles", "rule", "basis"}  # muscle, sides: per-muscle tasks
    template = components[plan["properties"]["template"]["$ref"].rsplit("/", 1)[1]]
    assert set(template["properties"]) == {"id", "version"}
